using System.Globalization;
using System.Threading.RateLimiting;
using Lineage.Core.Errors;
using Lineage.Server.MLflow;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Server.Http;

/// <summary>
/// Per-principal rate limiting (issue 7, item 6) with the framework's limiter: one token bucket per
/// authenticated principal, or per client address for anonymous callers (authentication off, where the
/// unverified <c>Lineage-User</c> header must not open a fresh bucket). A flooding principal gets 429 with
/// <c>Retry-After</c>; other principals have their own buckets and are unaffected. <c>/health</c> and
/// <c>/ready</c> are never limited, so probes keep working under a flood.
/// </summary>
public static class RateLimits
{
    public static IServiceCollection AddPrincipalRateLimits(this IServiceCollection services, ServerOptions options)
    {
        if (options.RateLimitPerSecond <= 0) return services;
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(options.RateLimitBurst, 1),
            TokensPerPeriod = options.RateLimitPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0, // refuse at once: a queued flood would only hold connections open
            AutoReplenishment = true,
        };
        return services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, (bool Principal, string Key)>(ctx =>
                Unlimited(ctx)
                    ? RateLimitPartition.GetNoLimiter((false, ""))
                    : RateLimitPartition.GetTokenBucketLimiter(KeyOf(ctx), _ => bucket));
            o.OnRejected = (rejected, _) => new ValueTask(RejectAsync(rejected.HttpContext, rejected.Lease));
        });
    }

    /// <summary>After authentication (the bucket is the principal's) and before any body is read.</summary>
    public static IApplicationBuilder UsePrincipalRateLimits(this IApplicationBuilder app, ServerOptions options) =>
        options.RateLimitPerSecond <= 0 ? app : app.UseRateLimiter();

    /// <summary>
    /// Probes, and the laptop's own user: an anonymous caller on the loopback address exists only with
    /// authentication off, where the one local user bulk-loading history or replaying pipeline events must not be
    /// throttled by a limit meant to keep principals from starving each other. Behind a trusted proxy the
    /// address is the forwarded client's, so remote anonymous callers still get a bucket each.
    /// </summary>
    private static bool Unlimited(HttpContext ctx) =>
        ctx.Request.Path.StartsWithSegments("/health") || ctx.Request.Path.StartsWithSegments("/ready")
        || (AccessControl.PrincipalOf(ctx) is null && ctx.Connection.RemoteIpAddress is { } ip && System.Net.IPAddress.IsLoopback(ip));

    private static (bool, string) KeyOf(HttpContext ctx) =>
        AccessControl.PrincipalOf(ctx) is { } principal ? (true, principal.Name) : (false, ctx.Connection.RemoteIpAddress?.ToString() ?? "");

    private static Task RejectAsync(HttpContext ctx, RateLimitLease lease)
    {
        var after = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(after.TotalSeconds));
        ctx.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var error = new LineageException(ErrorCode.RateLimited,
            $"too many requests from '{Who(ctx)}': the limit is {ctx.RequestServices.GetRequiredService<ServerOptions>().RateLimitPerSecond:N0} a second; retry after {seconds} s");
        return ErrorResponses.WriteAsync(ctx, error);
    }

    private static string Who(HttpContext ctx) =>
        AccessControl.PrincipalOf(ctx)?.Name ?? ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
