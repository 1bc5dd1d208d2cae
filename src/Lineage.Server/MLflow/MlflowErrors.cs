using System.Text.Json;
using Lineage.Core.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lineage.Server.MLflow;

/// <summary>
/// The MLflow surface's error writer, applied once per route group as an endpoint filter:
/// <c>{"error_code", "message"}</c> with MLflow's statuses (RESOURCE_ALREADY_EXISTS is 400 there,
/// not 409). For JSON endpoints it also enforces MLflow's Content-Type rule on POST/PATCH/DELETE.
/// Anything that is not a <see cref="LineageException"/> is a bug: logged, 500 INTERNAL_ERROR.
/// </summary>
public static class MlflowErrors
{
    public static int Status(ErrorCode code) => code switch
    {
        ErrorCode.ResourceAlreadyExists => 400,
        _ => code.HttpStatus(),
    };

    /// <summary>MLflow's name for a code where MLflow has its own (its clients back off on REQUEST_LIMIT_EXCEEDED).</summary>
    public static string WireName(ErrorCode code) => code == ErrorCode.RateLimited ? "REQUEST_LIMIT_EXCEEDED" : code.WireName();

    public static IResult Result(ErrorCode code, string message, int? status = null) =>
        Results.Json(new MlError(WireName(code), message), MlflowJson.Default.MlError, statusCode: status ?? Status(code));

    /// <summary>Writes an error outside an endpoint (middleware rejections such as the rate limiter's).</summary>
    public static Task WriteAsync(HttpContext ctx, LineageException error)
    {
        ctx.Response.StatusCode = Status(error.Code);
        ctx.Response.ContentType = "application/json";
        Http.ErrorResponses.SetRetryAfter(ctx, error);
        return ctx.Response.WriteAsync(JsonSerializer.Serialize(new MlError(WireName(error.Code), error.Message), MlflowJson.Default.MlError));
    }

    /// <summary>Catches failures of the endpoint and writes them MLflow's way.</summary>
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next, bool jsonBody)
    {
        var request = ctx.HttpContext.Request;
        if (jsonBody && !HttpMethods.IsGet(request.Method))
        {
            if (string.IsNullOrEmpty(request.ContentType))
                return Result(ErrorCode.InvalidParameterValue, "Bad Request. Content-Type header is missing.");
            if (!request.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
                return Result(ErrorCode.InvalidParameterValue, "Bad Request. Content-Type must be one of ['application/json'].");
        }
        try
        {
            return await next(ctx);
        }
        catch (LineageException ex)
        {
            Http.ErrorResponses.SetRetryAfter(ctx.HttpContext, ex);
            return Result(ex.Code, ex.Message);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == 413)
        {
            return Result(ErrorCode.PayloadTooLarge, "the request body is larger than the server accepts");
        }
        catch (BadHttpRequestException ex)
        {
            return Result(ErrorCode.InvalidParameterValue, ex.Message);
        }
        catch (OperationCanceledException) when (ctx.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Result(ErrorCode.Unavailable, "the request was cancelled");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ctx.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lineage.Server.MLflow")
                .LogError(ex, "unhandled error on {Method} {Path}", request.Method, request.Path);
            return Result(ErrorCode.InternalError, "internal error; the server log has the details");
        }
    }

    internal static LineageException Missing(string name) =>
        LineageException.Invalid(name, $"Missing value for required parameter '{name}'. See the API docs for more information about request parameters.");

    internal static LineageException WrongType(string name, JsonElement value) =>
        LineageException.Invalid(name, $"Invalid value {value.GetRawText()} for parameter '{name}' supplied.");
}
