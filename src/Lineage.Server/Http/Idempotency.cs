using System.Security.Cryptography;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.Http;

/// <summary>
/// Reads the <c>Idempotency-Key</c> header of a write and fingerprints the request (method,
/// path, query, body) so the store can tell a retry from a different request reusing the key.
/// Endpoints pass <see cref="KeyOf"/> to the store operation, which records the result in the
/// write's own transaction. A replayed answer carries <c>Idempotent-Replayed: true</c>.
/// </summary>
public static class Idempotency
{
    public const string Header = "Idempotency-Key";
    private static readonly object ItemKey = new();

    public static IApplicationBuilder UseIdempotencyKeys(this IApplicationBuilder app) =>
        app.Use(async (ctx, next) =>
        {
            var header = ctx.Request.Headers[Header];
            if (header.Count > 0 && !HttpMethods.IsGet(ctx.Request.Method) && !HttpMethods.IsHead(ctx.Request.Method))
            {
                var key = header.ToString();
                if (key.Length == 0 || key.Length > Limits.MaxIdempotencyKeyLength || key.Any(char.IsControl))
                    throw LineageException.Invalid(Header, $"'{Header}' must be 1-{Limits.MaxIdempotencyKeyLength} printable characters");
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes(
                    $"{ctx.Request.Method} {ctx.Request.Path}{ctx.Request.QueryString}\n{ctx.Request.ContentType}\n{ctx.Request.ContentLength}\n"));
                // JSON bodies are small and fingerprinted whole. Uploads (gigabytes, streamed) are
                // fingerprinted by path, query and length: send ?digest= to make them content-specific.
                if (ctx.Request.HasJsonContentType() || ctx.Request.ContentType is null)
                {
                    ctx.Request.EnableBuffering();
                    var buffer = new byte[81920];
                    int read;
                    while ((read = await ctx.Request.Body.ReadAsync(buffer, ctx.RequestAborted)) > 0) hash.AppendData(buffer, 0, read);
                    ctx.Request.Body.Position = 0;
                }
                var idem = new IdempotencyKey(key, Convert.ToHexString(hash.GetHashAndReset()));
                ctx.Items[ItemKey] = idem;
                ctx.Response.OnStarting(() =>
                {
                    if (idem.Replayed) ctx.Response.Headers["Idempotent-Replayed"] = "true";
                    return Task.CompletedTask;
                });
            }
            await next(ctx);
        });

    /// <summary>The request's idempotency key, or null when it sent none.</summary>
    public static IdempotencyKey? KeyOf(HttpContext ctx) => ctx.Items[ItemKey] as IdempotencyKey;
}
