using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Server.Hosting;

/// <summary>
/// First in the pipeline: every answer carries <c>X-Request-Id</c>, and every request is counted and timed for
/// <c>/metrics</c> by its route template once routing has run.
/// Decision: the request id is ASP.NET Core's <see cref="HttpContext.TraceIdentifier"/> (connection id + request number,
/// unique within a process and seeded from the clock across restarts), because the framework already puts it into the
/// log scope of every line logged while the request runs (<c>RequestId</c>); a second id of our own would make two ids per line.
/// </summary>
public static class RequestTelemetry
{
    public const string Header = "X-Request-Id";

    /// <summary>Route label of requests no endpoint took (static UI files, unknown paths): one value, so scanners cannot grow the series.</summary>
    public const string Unmatched = "(unmatched)";

    public static IApplicationBuilder UseRequestTelemetry(this IApplicationBuilder app)
    {
        var metrics = app.ApplicationServices.GetRequiredService<ServerMetrics>();
        app.Use(async (ctx, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            ctx.Response.OnStarting(static state =>
            {
                var c = (HttpContext)state;
                c.Response.Headers[Header] = c.TraceIdentifier;
                return Task.CompletedTask;
            }, ctx);
            metrics.InFlight.Inc();
            var status = 500;
            try
            {
                await next(ctx);
                status = ctx.Response.StatusCode;
            }
            finally
            {
                metrics.InFlight.Dec();
                var route = (ctx.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? Unmatched;
                var labels = new[] { KnownMethod(ctx.Request.Method), route, status.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                metrics.Requests.WithLabels(labels).Inc();
                metrics.Latency.WithLabels(labels).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        });
        return app;
    }

    /// <summary>Any other method a client invents is counted as OTHER, so label values stay a fixed set.</summary>
    private static string KnownMethod(string method) =>
        HttpMethods.IsGet(method) ? "GET" : HttpMethods.IsPost(method) ? "POST" : HttpMethods.IsPut(method) ? "PUT"
        : HttpMethods.IsDelete(method) ? "DELETE" : HttpMethods.IsPatch(method) ? "PATCH" : HttpMethods.IsHead(method) ? "HEAD"
        : HttpMethods.IsOptions(method) ? "OPTIONS" : "OTHER";
}
