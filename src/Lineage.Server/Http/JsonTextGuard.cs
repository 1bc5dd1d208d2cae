using System.Text;
using System.Text.Json;
using Lineage.Core.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.Http;

/// <summary>
/// Refuses a JSON body holding a string no .NET string can carry: a lone UTF-16 surrogate escape such as
/// <c>"\ud800"</c> is valid JSON text but not valid Unicode, and would fail (as a 500) wherever the value is read —
/// or be stored and break every later read. The body is read once into memory (within the route's size limit),
/// checked, and handed on; only bodies with a <c>\u</c> escape are walked. The answer is 400 naming the field.
/// Uploads (artifact content) are bytes, not JSON, and pass untouched.
/// </summary>
public static class JsonTextGuard
{
    public static IApplicationBuilder UseJsonTextGuard(this IApplicationBuilder app) =>
        app.Use(async (ctx, next) =>
        {
            var request = ctx.Request;
            var pattern = ctx.GetEndpoint() is RouteEndpoint e ? e.RoutePattern.RawText ?? "" : "";
            if (request.ContentLength is not 0 && !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)
                && RequestLimits.ClassOf(request.Method, pattern) != RequestLimits.BodyClass.Upload
                && request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) != false)
            {
                var buffer = new MemoryStream();
                await request.Body.CopyToAsync(buffer, ctx.RequestAborted);
                if (FirstBrokenString(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)) is { } field)
                    throw LineageException.Invalid(field, $"'{field}' holds a lone UTF-16 surrogate escape (such as \\ud800), which is not valid Unicode text");
                buffer.Position = 0;
                request.Body = buffer;
            }
            await next(ctx);
        });

    /// <summary>The path of the first string or property name that cannot be decoded; null when there is none (or the JSON is malformed: the endpoint says so).</summary>
    internal static string? FirstBrokenString(ReadOnlySpan<byte> json)
    {
        if (json.IndexOf("\\u"u8) < 0) return null;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var frames = new List<Frame>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        var name = Decoded(ref reader);
                        frames[^1] = frames[^1] with { Property = name ?? "?" };
                        if (name is null) return PathOf(frames);
                        continue;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        Advance(frames);
                        frames.Add(new Frame(reader.TokenType == JsonTokenType.StartArray, -1, null));
                        continue;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        frames.RemoveAt(frames.Count - 1);
                        continue;
                    case JsonTokenType.String:
                        Advance(frames);
                        if (reader.ValueIsEscaped && Decoded(ref reader) is null) return PathOf(frames);
                        continue;
                    default:
                        Advance(frames);
                        continue;
                }
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    private sealed record Frame(bool IsArray, int Index, string? Property);

    private static void Advance(List<Frame> frames)
    {
        if (frames.Count > 0 && frames[^1].IsArray) frames[^1] = frames[^1] with { Index = frames[^1].Index + 1 };
    }

    private static string? Decoded(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string PathOf(List<Frame> frames)
    {
        var path = new StringBuilder();
        foreach (var f in frames)
        {
            if (f.IsArray) path.Append('[').Append(f.Index).Append(']');
            else if (f.Property is not null) path.Append(path.Length == 0 ? "" : ".").Append(f.Property);
        }
        return path.Length == 0 ? "body" : path.ToString();
    }
}
