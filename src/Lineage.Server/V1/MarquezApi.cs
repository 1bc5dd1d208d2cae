using System.Text.Json;
using Lineage.Core.Contracts.Marquez;
using Lineage.Core.Errors;
using Lineage.Core.OpenLineage;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.OpenLineage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>
/// Marquez's read API over what OpenLineage ingestion stored (issue: "read-back in Marquez's shape,
/// so tools built for Marquez can read Lineage"): namespaces, jobs, runs, datasets and
/// <c>GET /api/v1/lineage?nodeId=…&amp;depth=N</c>.
/// </summary>
public static class MarquezApi
{
    private const int DefaultDepth = 20;

    public static RouteGroupBuilder MapMarquez(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("").WithTags("OpenLineage (Marquez read API)");

        group.MapGet("/namespaces", async (MarquezReader reader) =>
            Results.Json(new MqNamespaceList((await reader.NamespacesAsync()).Select(ToDto).ToList()), MarquezJson.Default.MqNamespaceList))
            .Produces<MqNamespaceList>();

        group.MapGet("/namespaces/{ns}", async (string ns, MarquezReader reader) =>
            {
                ns = Unescape(ns);
                var found = (await reader.NamespacesAsync()).FirstOrDefault(n => n.Name == ns)
                            ?? throw LineageException.NotFound($"namespace '{ns}' does not exist");
                return Results.Json(ToDto(found), MarquezJson.Default.MqNamespace);
            })
            .Produces<MqNamespace>();

        group.MapGet("/namespaces/{ns}/jobs", async (string ns, HttpContext ctx, MarquezReader reader) =>
            {
                var (limit, offset) = Paging(ctx.Request);
                var (jobs, total) = await reader.JobsAsync(Unescape(ns), limit, offset);
                return Results.Json(new MqJobList(jobs.Select(ToDto).ToList(), total), MarquezJson.Default.MqJobList);
            })
            .Produces<MqJobList>();

        group.MapGet("/namespaces/{ns}/jobs/{job}", async (string ns, string job, MarquezReader reader) =>
                Results.Json(ToDto(await reader.JobAsync(Unescape(ns), Unescape(job))), MarquezJson.Default.MqJob))
            .Produces<MqJob>();

        group.MapGet("/namespaces/{ns}/jobs/{job}/runs", async (string ns, string job, HttpContext ctx, MarquezReader reader) =>
            {
                var (limit, offset) = Paging(ctx.Request);
                var (runs, total) = await reader.RunsAsync(Unescape(ns), Unescape(job), limit, offset);
                return Results.Json(new MqRunList(runs.Select(ToDto).ToList(), total), MarquezJson.Default.MqRunList);
            })
            .Produces<MqRunList>();

        group.MapGet("/jobs/runs/{id}", async (string id, MarquezReader reader) =>
                Results.Json(ToDto(await reader.RunAsync(Guid.TryParse(id, out var uuid) ? uuid
                    : throw LineageException.Invalid("id", $"run id '{id}' is not a UUID"))), MarquezJson.Default.MqRun))
            .Produces<MqRun>();

        group.MapGet("/namespaces/{ns}/datasets", async (string ns, HttpContext ctx, MarquezReader reader) =>
            {
                var (limit, offset) = Paging(ctx.Request);
                var (datasets, total) = await reader.DatasetsAsync(Unescape(ns), limit, offset);
                return Results.Json(new MqDatasetList(datasets.Select(ToDto).ToList(), total), MarquezJson.Default.MqDatasetList);
            })
            .Produces<MqDatasetList>();

        group.MapGet("/namespaces/{ns}/datasets/{dataset}", async (string ns, string dataset, MarquezReader reader) =>
                Results.Json(ToDto(await reader.DatasetAsync(Unescape(ns), Unescape(dataset))), MarquezJson.Default.MqDataset))
            .Produces<MqDataset>();

        // The raw events, as Marquez serves them to its UI and to tools that copy its history (lineage import openlineage --from).
        group.MapGet("/events/lineage", async (HttpContext ctx, MarquezReader reader) =>
            {
                var (limit, offset) = Paging(ctx.Request);
                var direction = ctx.Request.QueryText("sortDirection")?.ToLowerInvariant() ?? "desc";
                if (direction is not ("asc" or "desc"))
                    throw LineageException.Invalid("sortDirection", $"'sortDirection' must be asc or desc, got '{direction}'");
                // Stored times are whole milliseconds: a bound between two is widened to the millisecond around it.
                var after = EventTime(ctx.Request, "after", ceiling: false);
                var before = EventTime(ctx.Request, "before", ceiling: true);
                var (events, total) = await reader.LineageEventsAsync(after, before, direction == "asc", limit, offset);
                // The events are written as they were received (a JSON object each), not re-serialized.
                var body = new System.Text.StringBuilder("{\"events\":[");
                for (var i = 0; i < events.Count; i++) body.Append(i == 0 ? "" : ",").Append(events[i]);
                body.Append("],\"totalCount\":").Append(total.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('}');
                return Results.Text(body.ToString(), "application/json");
            })
            .Produces<MqEventList>();

        group.MapGet("/lineage", async (HttpContext ctx, MarquezReader reader) =>
            {
                var nodeId = ctx.Request.QueryText("nodeId") ?? throw LineageException.Invalid("nodeId", "'nodeId' is required: job:<namespace>:<name> or dataset:<namespace>:<name>");
                var depth = ctx.Request.QueryInt("depth") ?? DefaultDepth;
                if (depth < 0 || depth > MarquezReader.MaxDepth)
                    throw LineageException.Invalid("depth", $"'depth' must be between 0 and {MarquezReader.MaxDepth}, got {depth}");
                return Results.Json(ToDto(await reader.GraphAsync(nodeId, depth)), MarquezJson.Default.MqLineage);
            })
            .Produces<MqLineage>();
        return api;
    }

    private static (int Limit, int Offset) Paging(HttpRequest request)
    {
        var limit = Validate.PageSize(request.QueryInt("limit"));
        var offset = request.QueryInt("offset") ?? 0;
        return offset >= 0 ? (limit, offset) : throw LineageException.Invalid("offset", $"'offset' must be 0 or more, got {offset}");
    }

    /// <summary>An ISO-8601 time with offset (Marquez's <c>ZonedDateTimeParam</c>), as whole milliseconds rounded down or up.</summary>
    private static long? EventTime(HttpRequest request, string name, bool ceiling)
    {
        if (request.QueryText(name) is not { } text) return null;
        if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
            throw LineageException.Invalid(name, $"'{name}' must be an ISO-8601 time such as 2026-01-31T10:00:00Z, got '{text}'");
        var ms = time.ToUnixTimeMilliseconds();
        return ceiling && time.UtcTicks % TimeSpan.TicksPerMillisecond != 0 ? ms + 1 : ms;
    }

    // Route values keep an encoded slash (%2F) encoded; dataset names and URI namespaces contain them.
    private static string Unescape(string value) => value.Contains('%') ? Uri.UnescapeDataString(value) : value;

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset? Time(long? ms) => ms is null ? null : Time(ms.Value);

    private static MqNamespace ToDto(OlNamespaceView n) => new(n.Name, Time(n.CreatedAt), Time(n.UpdatedAt), "anonymous", null, false);

    private static MqJob ToDto(OlJobView j)
    {
        using var facets = JsonDocument.Parse(j.JobFacets);
        var root = facets.RootElement;
        return new MqJob(new MqId(j.Namespace, j.Name), j.Type, j.Name, j.Name, null, Time(j.CreatedAt), Time(j.UpdatedAt), j.Namespace,
            j.Inputs.Select(d => new MqId(d.Namespace, d.Name)).ToList(), j.Outputs.Select(d => new MqId(d.Namespace, d.Name)).ToList(),
            Text(root, "sourceCodeLocation", "url"), Text(root, "documentation", "description"),
            j.LatestRun is null ? null : ToDto(j.LatestRun), root.Clone());
    }

    private static MqRun ToDto(OlRunView r)
    {
        using var facets = JsonDocument.Parse(r.RunFacets);
        var root = facets.RootElement;
        return new MqRun(r.RunId.ToString("D"), Time(r.CreatedAt), Time(r.UpdatedAt),
            Instant(Text(root, "nominalTime", "nominalStartTime")), Instant(Text(root, "nominalTime", "nominalEndTime")),
            r.State switch { "COMPLETE" or "CACHED" => "COMPLETED", "CANCELED" => "ABORTED", var s => s },
            Time(r.StartedAt), Time(r.EndedAt), r.StartedAt is { } start && r.EndedAt is { } end ? end - start : null, [],
            r.Inputs.Select(Version).ToList(), r.Outputs.Select(Version).ToList(), root.Clone());
    }

    private static MqDatasetVersionRef Version(OlDatasetVersionId v) =>
        new(new MqDatasetVersionId(v.Namespace, v.Name, v.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)), EmptyObject);

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private static MqDataset ToDto(OlDatasetView d)
    {
        using var facets = JsonDocument.Parse(d.Facets);
        var root = facets.RootElement;
        var fields = root.TryGetProperty("schema", out var schema) && schema.TryGetProperty("fields", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(f => f.ValueKind == JsonValueKind.Object && f.TryGetProperty("name", out _))
                .Select(f => new MqField(f.GetProperty("name").GetString() ?? "", Text(f, "type"), [], Text(f, "description"))).ToList()
            : [];
        return new MqDataset(new MqId(d.Namespace, d.Name), "DB_TABLE", d.Name, d.Name, Time(d.CreatedAt), Time(d.UpdatedAt), d.Namespace, d.Namespace,
            fields, [], Time(d.LastModifiedAt), Text(root, "lifecycleStateChange", "lifecycleStateChange"), Text(root, "documentation", "description"),
            d.CurrentVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), root.Clone(), false);
    }

    private static MqLineage ToDto(OlGraph g)
    {
        var nodes = g.Nodes.Select(n =>
        {
            var data = n.Kind == OlNodeKind.Job
                ? JsonSerializer.SerializeToElement(ToDto(g.Jobs[n]), MarquezJson.Default.MqJob)
                : JsonSerializer.SerializeToElement(ToDto(g.Datasets[n]), MarquezJson.Default.MqDataset);
            var inEdges = g.Edges.Where(e => e.Destination == n).Select(e => new MqEdge(e.Origin.Id, e.Destination.Id)).OrderBy(e => e.Origin, StringComparer.Ordinal).ToList();
            var outEdges = g.Edges.Where(e => e.Origin == n).Select(e => new MqEdge(e.Origin.Id, e.Destination.Id)).OrderBy(e => e.Destination, StringComparer.Ordinal).ToList();
            return new MqNode(n.Id, n.Kind == OlNodeKind.Job ? "JOB" : "DATASET", data, inEdges, outEdges);
        }).ToList();
        return new MqLineage(nodes);
    }

    private static string? Text(JsonElement element, params string[] path)
    {
        foreach (var key in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(key, out element)) return null;
        }
        return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
    }

    private static DateTimeOffset? Instant(string? text) => DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
        System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}
