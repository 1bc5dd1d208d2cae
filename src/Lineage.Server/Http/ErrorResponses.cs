using System.Text.Json;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lineage.Server.Http;

/// <summary>
/// Error mapping, done once for every endpoint: a <see cref="LineageException"/> becomes its
/// status and <c>{"error_code", "message", "field"}</c>; framework rejections (body too large,
/// unknown route, wrong method) get the same shape; anything else is a bug, logged, and a 500.
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
        // Routing's own 404/405 answers carry no body: give them the standard one.
        app.UseStatusCodePages(async status =>
        {
            var ctx = status.HttpContext;
            var code = ctx.Response.StatusCode switch
            {
                404 => ErrorCode.EndpointNotFound,
                405 => ErrorCode.MethodNotAllowed,
                413 => ErrorCode.PayloadTooLarge,
                _ => (ErrorCode?)null,
            };
            if (code is { } c)
                await WriteAsync(ctx, new LineageException(c, c == ErrorCode.MethodNotAllowed
                    ? $"{ctx.Request.Method} is not allowed on {ctx.Request.Path}"
                    : $"no endpoint {ctx.Request.Method} {ctx.Request.Path}"));
        });
        return app;
    }

    public static Task WriteAsync(HttpContext ctx, LineageException error)
    {
        ctx.Response.StatusCode = error.Code.HttpStatus();
        ctx.Response.ContentType = "application/json";
        SetRetryAfter(ctx, error);
        return ctx.Response.WriteAsync(JsonSerializer.Serialize(
            new ErrorResponse(error.Code.WireName(), error.Message, error.Field), LineageJson.Default.ErrorResponse));
    }

    /// <summary>The error's retry hint as whole seconds in <c>Retry-After</c> (at least 1).</summary>
    public static void SetRetryAfter(HttpContext ctx, LineageException error)
    {
        if (error.RetryAfter is { } wait)
            ctx.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The status <see cref="UseLineageErrors"/> answers <paramref name="ex"/> with.</summary>
    public static int StatusOf(Exception ex) => Classify(ex).Code.HttpStatus();

    private static LineageException Classify(Exception ex) => ex switch
    {
        LineageException lineage => lineage,
        BadHttpRequestException { StatusCode: 413 } => new LineageException(ErrorCode.PayloadTooLarge,
            "the request body is larger than the server accepts; split it (a batch holds at most 10,000 metric points)"),
        BadHttpRequestException bad => LineageException.Invalid("body", bad.Message),
        OperationCanceledException => new LineageException(ErrorCode.Unavailable, "the request was cancelled"),
        _ => new LineageException(ErrorCode.InternalError, "internal error; the server log has the details"),
    };
}
