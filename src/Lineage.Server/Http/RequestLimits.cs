using System.Collections.Frozen;
using Lineage.Core.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.Http;

/// <summary>
/// Request-body limits per route class (issue 7, item 6): ordinary JSON requests are small, log batches and
/// OpenLineage events larger, artifact uploads stream up to <see cref="ServerOptions.MaxArtifactBytes"/>.
/// A declared <c>Content-Length</c> over the limit is refused before the endpoint runs; a chunked body is cut off
/// by Kestrel when it passes the limit while being read. Either way the answer is 413 <c>PAYLOAD_TOO_LARGE</c>
/// and nothing is written, because every endpoint reads its whole body before its store write.
/// </summary>
public static class RequestLimits
{
    public enum BodyClass { Json, Batch, LineageEvent, Upload }

    // METHOD pattern => class; every route not listed is Json.
    private static readonly FrozenDictionary<string, BodyClass> Classes = new Dictionary<string, BodyClass>
    {
        ["POST /api/v1/runs/{runId}/batch"] = BodyClass.Batch,
        ["POST /api/2.0/mlflow/runs/log-batch"] = BodyClass.Batch,
        ["POST /ajax-api/2.0/mlflow/runs/log-batch"] = BodyClass.Batch,
        ["POST /api/v1/lineage"] = BodyClass.LineageEvent,
        ["POST /api/v1/lineage/batch"] = BodyClass.Batch,
        ["PUT /api/v1/blobs/"] = BodyClass.Upload,
        ["POST /api/v1/artifacts/upload"] = BodyClass.Upload,
        ["PUT /api/2.0/mlflow-artifacts/artifacts/{**path}"] = BodyClass.Upload,
        ["PUT /ajax-api/2.0/mlflow-artifacts/artifacts/{**path}"] = BodyClass.Upload,
    }.ToFrozenDictionary();

    private const long DrainableBytes = 64L << 20;

    public static BodyClass ClassOf(string method, string pattern) =>
        Classes.TryGetValue($"{method} {pattern}", out var c) ? c : BodyClass.Json;

    public static long LimitOf(BodyClass c, ServerOptions options) => c switch
    {
        BodyClass.Batch => options.MaxBatchBodyBytes,
        BodyClass.LineageEvent => options.MaxLineageEventBytes,
        BodyClass.Upload => options.MaxArtifactBytes,
        _ => options.MaxJsonBodyBytes,
    };

    /// <summary>Runs after routing and authentication, so an anonymous caller learns nothing about the limits.</summary>
    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app, ServerOptions options)
    {
        app.Use((ctx, next) =>
        {
            var c = ctx.GetEndpoint() is RouteEndpoint e ? ClassOf(ctx.Request.Method, e.RoutePattern.RawText ?? "") : BodyClass.Json;
            var limit = LimitOf(c, options);
            if (ctx.Request.ContentLength > limit)
            {
                // Let Kestrel drain a moderately oversized body after the 413 instead of resetting the connection
                // under a client that is still sending, which would then see a broken connection, not the answer.
                if (ctx.Request.ContentLength <= DrainableBytes && ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } drain)
                    drain.MaxRequestBodySize = DrainableBytes;
                throw new LineageException(ErrorCode.PayloadTooLarge, c switch
                {
                    BodyClass.Batch => $"the batch is {ctx.Request.ContentLength:N0} bytes; the limit is {limit:N0}: split it into smaller batches",
                    BodyClass.Upload => $"the upload is {ctx.Request.ContentLength:N0} bytes; the limit is {limit:N0}",
                    _ => $"the request body is {ctx.Request.ContentLength:N0} bytes; the limit for {ctx.Request.Method} {ctx.Request.Path} is {limit:N0}",
                });
            }
            if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
                feature.MaxRequestBodySize = limit;
            return next(ctx);
        });
        return app;
    }
}
