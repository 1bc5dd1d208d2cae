using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Lineage.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.Http;

/// <summary>Reads a JSON request body; malformed JSON or a wrong type is a 400 naming the field.</summary>
public static class JsonBody
{
    public static async Task<T> ReadJsonAsync<T>(this HttpRequest request, JsonTypeInfo<T> type)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync(request.Body, type, request.HttpContext.RequestAborted)
                   ?? throw LineageException.Invalid("body", "the request body must be a JSON object, not null");
        }
        catch (JsonException ex)
        {
            var field = FieldOf(ex.Path);
            var reason = ex.Message.Split(" Path:", 2)[0];
            throw LineageException.Invalid(field,
                field == "body" ? $"the request body is not valid JSON: {reason}" : $"invalid value for '{field}': {reason}");
        }
    }

    /// <summary>A free-form JSON object body; a key given twice in one object is a 400, as for typed bodies.</summary>
    public static async Task<JsonObject> ReadJsonObjectAsync(this HttpRequest request)
    {
        try
        {
            return await JsonNode.ParseAsync(request.Body, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false },
                       cancellationToken: request.HttpContext.RequestAborted) as JsonObject
                   ?? throw LineageException.Invalid("body", "the request body must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw LineageException.Invalid("body", $"the request body is not valid JSON (or repeats a key): {ex.Message.Split(" Path:", 2)[0]}");
        }
    }

    /// <summary>"$.metrics[3].value" → "metrics[3].value"; "$" → "body".</summary>
    private static string FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "body" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
}
