using System.Text.Json;
using Lineage.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.MLflow;

/// <summary>
/// Endpoint metadata: errors of this endpoint are written MLflow's way (<see cref="Http.ErrorResponses"/>).
/// </summary>
public sealed class MlflowErrorShape
{
    public static readonly MlflowErrorShape Instance = new();

    private MlflowErrorShape()
    {
    }
}

/// <summary>
/// MLflow's error vocabulary: <c>{"error_code", "message"}</c> with MLflow's statuses (RESOURCE_ALREADY_EXISTS is 400
/// there, not 409), written by the server's one error pipeline (<see cref="Http.ErrorResponses"/>), and MLflow's
/// Content-Type rule for JSON endpoints (<see cref="RequireJson"/>).
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

    /// <summary>MLflow refuses a POST/PATCH/DELETE to a JSON endpoint without <c>Content-Type: application/json</c> (400).</summary>
    public static ValueTask<object?> RequireJson(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next)
    {
        var request = ctx.HttpContext.Request;
        if (!HttpMethods.IsGet(request.Method))
        {
            if (string.IsNullOrEmpty(request.ContentType))
                throw LineageException.Invalid("Content-Type", "Bad Request. Content-Type header is missing.");
            if (!request.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
                throw LineageException.Invalid("Content-Type", "Bad Request. Content-Type must be one of ['application/json'].");
        }
        return next(ctx);
    }

    internal static LineageException Missing(string name) =>
        LineageException.Invalid(name, $"Missing value for required parameter '{name}'. See the API docs for more information about request parameters.");

    internal static LineageException WrongType(string name, JsonElement value) =>
        LineageException.Invalid(name, $"Invalid value {value.GetRawText()} for parameter '{name}' supplied.");
}
