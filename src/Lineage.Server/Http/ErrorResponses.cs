using System.Text.Json;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Server.MLflow;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lineage.Server.Http;

/// <summary>
/// The one error pipeline of the server. Every failure — thrown by an endpoint, by a middleware (authentication,
/// limits, rate limiting, the JSON guard) or answered by routing itself (404, 405, 415) — is classified once
/// (<see cref="Classify"/>) and written once (<see cref="WriteAsync"/>), in the shape of the surface it belongs to:
/// <c>{"error_code", "message", "field"}</c> for the native API, MLflow's <c>{"error_code", "message"}</c> with
/// MLflow's statuses for endpoints carrying <see cref="MlflowErrorShape"/> (and unknown paths under MLflow's
/// prefixes). Every 4xx and 5xx has a body. Anything that is not a client error is a bug: logged, and a 500.
/// </summary>
public static class ErrorResponses
{
    public static IApplicationBuilder UseLineageErrors(this IApplicationBuilder app)
    {
        app.Use(async (ctx, next) =>
        {
            try
            {
                await next(ctx);
            }
            catch (Exception ex) when (!ctx.Response.HasStarted)
            {
                var error = Classify(ex);
                if (error.Code == ErrorCode.InternalError)
                    ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lineage.Server")
                        .LogError(ex, "unhandled error on {Method} {Path}", ctx.Request.Method, ctx.Request.Path);
                await WriteAsync(ctx, error);
            }
        });
        // Answers that carry no body (routing's 404/405/415, a middleware that only set a status) get the standard one.
        app.UseStatusCodePages(async status =>
        {
            var ctx = status.HttpContext;
            var code = ctx.Response.StatusCode switch
            {
                400 => ErrorCode.InvalidParameterValue,
                401 => ErrorCode.Unauthenticated,
                403 => ErrorCode.PermissionDenied,
                404 => ErrorCode.EndpointNotFound,
                405 => ErrorCode.MethodNotAllowed,
                413 => ErrorCode.PayloadTooLarge,
                415 => ErrorCode.UnsupportedMediaType,
                429 => ErrorCode.RateLimited,
                503 => ErrorCode.Unavailable,
                507 => ErrorCode.InsufficientStorage,
                _ => ErrorCode.InternalError,
            };
            await WriteAsync(ctx, new LineageException(code, code switch
            {
                ErrorCode.MethodNotAllowed => $"{ctx.Request.Method} is not allowed on {ctx.Request.Path}",
                ErrorCode.EndpointNotFound => $"no endpoint {ctx.Request.Method} {ctx.Request.Path}",
                ErrorCode.UnsupportedMediaType => $"{ctx.Request.Method} {ctx.Request.Path} does not take Content-Type '{ctx.Request.ContentType ?? "(none)"}'; " +
                                                  "send application/json for JSON bodies, application/octet-stream (or application/x-tar) for content",
                _ => $"{ctx.Request.Method} {ctx.Request.Path} answered {ctx.Response.StatusCode}",
            }), keepStatus: true);
        });
        return app;
    }

    /// <summary>Writes <paramref name="error"/> in the shape of the request's surface (see the class summary).</summary>
    public static Task WriteAsync(HttpContext ctx, LineageException error, bool keepStatus = false)
    {
        var mlflow = IsMlflow(ctx);
        if (!keepStatus) ctx.Response.StatusCode = mlflow ? MlflowErrors.Status(error.Code) : error.Code.HttpStatus();
        ctx.Response.ContentType = "application/json";
        SetRetryAfter(ctx, error);
        return ctx.Response.WriteAsync(mlflow
            ? JsonSerializer.Serialize(new MlError(MlflowErrors.WireName(error.Code), error.Message), MlflowJson.Default.MlError)
            : JsonSerializer.Serialize(new ErrorResponse(error.Code.WireName(), error.Message, error.Field), LineageJson.Default.ErrorResponse));
    }

    /// <summary>The error's retry hint as whole seconds in <c>Retry-After</c> (at least 1).</summary>
    public static void SetRetryAfter(HttpContext ctx, LineageException error)
    {
        if (error.RetryAfter is { } wait)
            ctx.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The status <see cref="UseLineageErrors"/> answers <paramref name="ex"/> with.</summary>
    public static int StatusOf(HttpContext ctx, Exception ex) => Classify(ex).Code is var code && IsMlflow(ctx) ? MlflowErrors.Status(code) : code.HttpStatus();

    private static bool IsMlflow(HttpContext ctx) =>
        ctx.GetEndpoint() is { } endpoint
            ? endpoint.Metadata.GetMetadata<MlflowErrorShape>() is not null
            : MlflowApi.Serves(ctx.Request.Path);

    private static LineageException Classify(Exception ex) => ex switch
    {
        LineageException lineage => lineage,
        BadHttpRequestException { StatusCode: 413 } => new LineageException(ErrorCode.PayloadTooLarge,
            "the request body is larger than the server accepts; split it (a batch holds at most 10,000 metric points)"),
        BadHttpRequestException bad => LineageException.Invalid("body", bad.Message),
        // A full or read-only disk under the blob store (after BadHttpRequestException, which is an IOException too).
        IOException => Storage.Engine.FileSystemErrors.Translate(ex) as LineageException
                       ?? new LineageException(ErrorCode.InternalError, "internal error; the server log has the details"),
        OperationCanceledException => new LineageException(ErrorCode.Unavailable, "the request was cancelled"),
        _ => new LineageException(ErrorCode.InternalError, "internal error; the server log has the details"),
    };
}
