using System.Text.Json;
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

    /// <summary>"$.metrics[3].value" → "metrics[3].value"; "$" → "body".</summary>
    private static string FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "body" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
}
