using System.Globalization;
using System.Text.Json;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.MLflow;

/// <summary>
/// The parameters of one MLflow request: the query string for GET, the JSON body otherwise.
/// Follows MLflow's reading rules: a body that is not a JSON object counts as <c>{}</c>, unknown
/// fields are ignored, numbers may arrive as JSON numbers or numeric strings, and metric values
/// may be the strings "NaN", "Infinity", "-Infinity". A value of the wrong type is a 400 naming it.
/// </summary>
public sealed class MlflowArgs
{
    private readonly JsonElement _body;
    private readonly IQueryCollection? _query;

    private MlflowArgs(JsonElement body, IQueryCollection? query)
    {
        _body = body;
        _query = query;
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    public static async Task<MlflowArgs> ReadAsync(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method)) return new MlflowArgs(EmptyObject, request.Query);
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        try
        {
            using var doc = JsonDocument.Parse(bytes, Strict);
            return new MlflowArgs(doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.Clone() : EmptyObject, null);
        }
        catch (JsonException strict)
        {
            // Malformed JSON counts as {} (MLflow's reading); well-formed JSON that failed only the strict
            // parse repeats a key, which is refused (issue 7: duplicate keys are a 400 naming the key).
            try
            {
                using var _ = JsonDocument.Parse(bytes);
            }
            catch (JsonException)
            {
                return new MlflowArgs(EmptyObject, null);
            }
            throw LineageException.Invalid("body", $"the request body repeats a key: {strict.Message}");
        }
    }

    public JsonElement Body => _body;

    private JsonElement? Element(string name) =>
        _body.TryGetProperty(name, out var e) && e.ValueKind != JsonValueKind.Null ? e : null;

    public string? String(string name)
    {
        if (_query is not null) return _query.TryGetValue(name, out var v) && v.Count > 0 ? v[0] : null;
        return Element(name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } e => e.GetString(),
            { } e => throw MlflowErrors.WrongType(name, e),
        };
    }

    public string RequiredString(string name) =>
        String(name) is { Length: > 0 } value ? value : throw MlflowErrors.Missing(name);

    /// <summary>run_id, or its older spelling run_uuid.</summary>
    public string RunId() => String("run_id") is { Length: > 0 } id ? id : String("run_uuid") is { Length: > 0 } uuid ? uuid : throw MlflowErrors.Missing("run_id");

    public long? Long(string name)
    {
        if (_query is not null)
        {
            var text = String(name);
            if (string.IsNullOrEmpty(text)) return null;
            return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var q) ? q
                : throw LineageException.Invalid(name, $"Invalid value {text} for parameter '{name}' supplied.");
        }
        return Element(name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Number } e when e.TryGetInt64(out var n) => n,
            { ValueKind: JsonValueKind.String } e when long.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) => s,
            { } e => throw MlflowErrors.WrongType(name, e),
        };
    }

    public int? Int(string name) => Long(name) is { } v
        ? v is >= int.MinValue and <= int.MaxValue ? (int)v : throw LineageException.Invalid(name, $"Invalid value {v} for parameter '{name}' supplied.")
        : null;

    /// <summary>A repeated field: a JSON array of strings, or a query key given several times.</summary>
    public IReadOnlyList<string> Strings(string name)
    {
        if (_query is not null) return _query.TryGetValue(name, out var v) ? v.Where(s => s is not null).Select(s => s!).ToList() : [];
        return Element(name) switch
        {
            null => [],
            { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(i => i.ValueKind == JsonValueKind.String
                ? i.GetString()!
                : throw MlflowErrors.WrongType(name, a)).ToList(),
            { ValueKind: JsonValueKind.String } s => [s.GetString()!],
            { } e => throw MlflowErrors.WrongType(name, e),
        };
    }

    /// <summary>A repeated message field (tags, metrics, params, datasets).</summary>
    public IReadOnlyList<JsonElement> Objects(string name) => Element(name) switch
    {
        null => [],
        { ValueKind: JsonValueKind.Array } a when a.EnumerateArray().All(i => i.ValueKind == JsonValueKind.Object) => a.EnumerateArray().ToList(),
        { } e => throw MlflowErrors.WrongType(name, e),
    };

    /// <summary>Key/value pairs of a repeated field such as tags; a missing value is "".</summary>
    public IReadOnlyList<KeyValue> KeyValues(string name) =>
        Objects(name).Select((o, i) => new KeyValue(
            Field(o, "key", $"{name}[{i}].key") ?? throw MlflowErrors.Missing($"{name}[{i}].key"),
            Field(o, "value", $"{name}[{i}].value") ?? "")).ToList();

    public static string? Field(JsonElement o, string name, string path) =>
        Property(o, name, path, out var e) ? e.ValueKind switch
        {
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Null => null,
            _ => throw MlflowErrors.WrongType(path, e),
        } : null;

    /// <summary>A field of a message; a message that is not a JSON object (<c>"tags":[1,2]</c>) is a 400 naming it.</summary>
    private static bool Property(JsonElement o, string name, string path, out JsonElement value)
    {
        if (o.ValueKind != JsonValueKind.Object)
        {
            var dot = path.LastIndexOf('.');
            throw MlflowErrors.WrongType(dot > 0 ? path[..dot] : path, o);
        }
        return o.TryGetProperty(name, out value);
    }

    /// <summary>A double as protobuf JSON allows it: a number, a numeric string, "NaN", "Infinity", "-Infinity".</summary>
    public static double? Double(JsonElement o, string name, string path)
    {
        if (!Property(o, name, path, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind == JsonValueKind.Number) return e.GetDouble();
        if (e.ValueKind == JsonValueKind.String)
        {
            var s = e.GetString();
            switch (s)
            {
                case "NaN": return double.NaN;
                case "Infinity": return double.PositiveInfinity;
                case "-Infinity": return double.NegativeInfinity;
            }
            if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        }
        throw LineageException.Invalid(path, $"Invalid value {(e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText())} for parameter '{path}' supplied.");
    }

    public static long? Long(JsonElement o, string name, string path)
    {
        if (!Property(o, name, path, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var n)) return n;
        if (e.ValueKind == JsonValueKind.String && long.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)) return s;
        throw MlflowErrors.WrongType(path, e);
    }

    /// <summary>ACTIVE_ONLY (default), DELETED_ONLY or ALL; MLflow also accepts 1, 2, 3. Unknown values are a 400.</summary>
    public LifecycleFilter ViewType(string name)
    {
        string? text;
        if (_query is null && Element(name) is { ValueKind: JsonValueKind.Number } n) text = n.GetRawText();
        else text = String(name);
        return text?.ToUpperInvariant() switch
        {
            null or "" or "ACTIVE_ONLY" or "1" => LifecycleFilter.Active,
            "DELETED_ONLY" or "2" => LifecycleFilter.Deleted,
            "ALL" or "3" => LifecycleFilter.All,
            _ => throw LineageException.Invalid(name, $"Invalid value {text} for parameter '{name}': use ACTIVE_ONLY, DELETED_ONLY or ALL"),
        };
    }
}
