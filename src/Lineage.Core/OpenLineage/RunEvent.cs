using System.Globalization;
using System.Text.Json;
using Lineage.Core.Errors;

namespace Lineage.Core.OpenLineage;

/// <summary>A dataset of an OpenLineage event, with its facets kept verbatim (raw JSON objects).</summary>
public sealed record OlDataset(string Namespace, string Name, string Facets, string? IoFacets);

public sealed record OlJobRef(string Namespace, string Name, Guid RunId);

/// <summary>A checked OpenLineage RunEvent (spec 2-0-x). Facets are raw JSON so unknown ones survive untouched.</summary>
public sealed record OlRunEvent(
    string EventType,
    DateTimeOffset EventTime,
    string Producer,
    Guid RunId,
    string RunFacets,
    string JobNamespace,
    string JobName,
    string JobFacets,
    IReadOnlyList<OlDataset> Inputs,
    IReadOnlyList<OlDataset> Outputs,
    OlJobRef? Parent,
    OlJobRef? Root);

/// <summary>
/// Checks a RunEvent against the rules of the OpenLineage schema that matter for ingestion (required
/// fields, types, uuid, date-time with offset, URIs, facets carrying _producer and _schemaURL) and
/// reports the first problem as 400 with its JSON path (e.g. <c>inputs[1].facets.schema._producer</c>).
/// </summary>
public static class RunEventParser
{
    private static readonly string[] EventTypes = ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"];

    public static OlRunEvent Parse(JsonElement e)
    {
        Object(e, "body");
        var eventType = OptionalString(e, "eventType", "eventType") ?? "OTHER";
        if (!EventTypes.Contains(eventType))
            throw Bad("eventType", $"'eventType' must be one of {string.Join(", ", EventTypes)}, got '{eventType}'");
        var timeText = RequiredString(e, "eventTime", "eventTime");
        if (!timeText.Contains('T') || !DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            || !(timeText.EndsWith('Z') || timeText.EndsWith('z') || timeText[^6] is '+' or '-'))
            throw Bad("eventTime", $"'eventTime' must be an ISO-8601 date-time with a time zone, got '{timeText}'");
        var producer = Uri(e, "producer", "producer");
        Uri(e, "schemaURL", "schemaURL");

        var run = Member(e, "run", "run");
        Object(run, "run");
        var runIdText = RequiredString(run, "runId", "run.runId");
        if (!Guid.TryParseExact(runIdText, "D", out var runId))
            throw Bad("run.runId", $"'run.runId' must be a UUID, got '{runIdText}'");
        var runFacets = Facets(run, "facets", "run.facets", deletable: false);

        var job = Member(e, "job", "job");
        Object(job, "job");
        var jobNamespace = RequiredString(job, "namespace", "job.namespace");
        var jobName = RequiredString(job, "name", "job.name");
        var jobFacets = Facets(job, "facets", "job.facets", deletable: true);

        var inputs = Datasets(e, "inputs", "inputFacets");
        var outputs = Datasets(e, "outputs", "outputFacets");

        OlJobRef? parent = null, root = null;
        if (run.TryGetProperty("facets", out var rf) && rf.ValueKind == JsonValueKind.Object && rf.TryGetProperty("parent", out var p))
        {
            parent = JobRef(p, "run.facets.parent");
            if (p.TryGetProperty("root", out var r) && r.ValueKind == JsonValueKind.Object) root = JobRef(r, "run.facets.parent.root");
        }
        return new OlRunEvent(eventType, time, producer, runId, runFacets, jobNamespace, jobName, jobFacets, inputs, outputs, parent, root);
    }

    private static OlJobRef JobRef(JsonElement facet, string path)
    {
        var run = Member(facet, "run", path + ".run");
        var job = Member(facet, "job", path + ".job");
        var id = RequiredString(run, "runId", path + ".run.runId");
        if (!Guid.TryParseExact(id, "D", out var runId)) throw Bad(path + ".run.runId", $"'{path}.run.runId' must be a UUID, got '{id}'");
        return new OlJobRef(RequiredString(job, "namespace", path + ".job.namespace"), RequiredString(job, "name", path + ".job.name"), runId);
    }

    private static List<OlDataset> Datasets(JsonElement e, string key, string ioKey)
    {
        var list = new List<OlDataset>();
        if (!e.TryGetProperty(key, out var array) || array.ValueKind == JsonValueKind.Null) return list;
        if (array.ValueKind != JsonValueKind.Array) throw Bad(key, $"'{key}' must be an array");
        var i = 0;
        foreach (var d in array.EnumerateArray())
        {
            var path = $"{key}[{i++}]";
            Object(d, path);
            list.Add(new OlDataset(RequiredString(d, "namespace", path + ".namespace"), RequiredString(d, "name", path + ".name"),
                Facets(d, "facets", path + ".facets", deletable: true),
                d.TryGetProperty(ioKey, out _) ? Facets(d, ioKey, $"{path}.{ioKey}", deletable: false) : null));
        }
        return list;
    }

    /// <summary>Every facet is an object with _producer and _schemaURL URIs; returned as the raw object text.</summary>
    private static string Facets(JsonElement owner, string key, string path, bool deletable)
    {
        if (!owner.TryGetProperty(key, out var facets) || facets.ValueKind == JsonValueKind.Null) return "{}";
        Object(facets, path);
        foreach (var facet in facets.EnumerateObject())
        {
            var at = $"{path}.{facet.Name}";
            Object(facet.Value, at);
            if (deletable && facet.Value.TryGetProperty("_deleted", out var deleted) && deleted.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw Bad(at + "._deleted", $"'{at}._deleted' must be a boolean");
            if (deletable && facet.Value.TryGetProperty("_deleted", out var d) && d.ValueKind == JsonValueKind.True) continue;
            Uri(facet.Value, "_producer", at + "._producer");
            Uri(facet.Value, "_schemaURL", at + "._schemaURL");
        }
        return facets.GetRawText();
    }

    private static string Uri(JsonElement owner, string key, string path)
    {
        var text = RequiredString(owner, key, path);
        var colon = text.IndexOf(':');
        if (colon < 1 || !char.IsAsciiLetter(text[0]) || text.Any(char.IsWhiteSpace)
            || !text[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
            throw Bad(path, $"'{path}' must be a URI (scheme:...), got '{Shorten(text)}'");
        return text;
    }

    private static JsonElement Member(JsonElement owner, string key, string path) =>
        owner.ValueKind == JsonValueKind.Object && owner.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null
            ? v
            : throw Bad(path, $"'{path}' is required");

    private static string RequiredString(JsonElement owner, string key, string path)
    {
        var v = Member(owner, key, path);
        if (v.ValueKind != JsonValueKind.String) throw Bad(path, $"'{path}' must be a string, got {v.ValueKind}");
        var s = v.GetString()!;
        return s.Length > 0 ? s : throw Bad(path, $"'{path}' must not be empty");
    }

    private static string? OptionalString(JsonElement owner, string key, string path) =>
        owner.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? RequiredString(owner, key, path) : null;

    private static void Object(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Bad(path, $"'{path}' must be a JSON object, got {e.ValueKind}");
    }

    private static LineageException Bad(string path, string message) => LineageException.Invalid(path, message);

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
