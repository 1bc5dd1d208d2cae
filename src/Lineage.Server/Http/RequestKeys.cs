using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.Http;

/// <summary>
/// Reads the id an access rule names (<see cref="AccessRules"/>) from a request before its endpoint runs: a
/// route value, else a query parameter, else a top-level field of a JSON body. A body is read once into
/// memory and put back as a rewound stream, so the endpoint reads the same bytes.
/// </summary>
public static class RequestKeys
{
    /// <summary>The first of the '/'-separated <paramref name="names"/> that the request carries; null when none.</summary>
    public static async Task<string?> FindAsync(HttpContext ctx, string names)
    {
        foreach (var name in names.Split('/'))
        {
            if (ctx.GetRouteValue(name)?.ToString() is { Length: > 0 } route) return route;
            if (ctx.Request.Query[name].ToString() is { Length: > 0 } query) return query;
            if (await BodyStringAsync(ctx.Request, name) is { } field) return field;
        }
        return null;
    }

    /// <summary>A top-level string or integer field of a JSON object body; null for other bodies, types or a missing field.</summary>
    public static async Task<string?> BodyStringAsync(HttpRequest request, string name)
    {
        if (HttpMethods.IsGet(request.Method) || request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
            return null;
        var body = await BufferAsync(request);
        try
        {
            var reader = new Utf8JsonReader(body.Span);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var match = reader.ValueTextEquals(name);
                reader.Read();
                if (match)
                    return reader.TokenType switch
                    {
                        JsonTokenType.String => reader.GetString(),
                        JsonTokenType.Number when reader.TryGetInt64(out var n) => n.ToString(CultureInfo.InvariantCulture),
                        _ => null,
                    };
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Malformed JSON is the endpoint's 400 to give.
        }
        return null;
    }

    private static async Task<ReadOnlyMemory<byte>> BufferAsync(HttpRequest request)
    {
        if (request.Body is MemoryStream { Position: 0 } buffered && buffered.TryGetBuffer(out var seen)) return seen;
        var copy = new MemoryStream();
        await request.Body.CopyToAsync(copy, request.HttpContext.RequestAborted);
        copy.Position = 0;
        request.Body = copy;
        return copy.TryGetBuffer(out var bytes) ? bytes : copy.ToArray();
    }
}
