using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Lineage;
using Lineage.Core.OpenLineage;
using Lineage.Storage.Artifacts;
using Lineage.Core.Events;
using Lineage.Storage.Engine;
using Lineage.Storage.Events;
using Lineage.Storage.Lineage;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.OpenLineage;

/// <param name="Repeat">The event was a repeat of one stored (same run, type and time): nothing was written.</param>
public sealed record IngestResult(long ExecutionId, IReadOnlyList<long> Inputs, IReadOnlyList<long> Outputs, bool Repeat = false);

/// <summary>
/// Maps OpenLineage RunEvents onto the lineage graph, one transaction per event:
/// an OpenLineage run is an execution (type from the jobType facet, else "job"); a dataset
/// (namespace, name) is an external artifact whose versions change when its schema or version
/// facet changes, and each run's write of an output is a new version; the parent facet becomes
/// contexts. Ingestion is idempotent and order-tolerant: a repeated event adds nothing, a late
/// START does not undo a COMPLETE, an input that the run itself produced later is not linked
/// back (no cycles). Facets are kept verbatim in execution properties and artifact metadata.
/// Events land in the request's project (<see cref="OperationContext.Project"/>: a <c>/projects/{name}</c> prefix, else
/// default); a run stays in the project of its first event.
/// </summary>
public sealed class OpenLineageStore(Database db)
{
    // (namespace, name) → artifact name: fixed once assigned, so cached after the assigning commit. Bounded: a
    // server that sees ever new datasets for years must not keep each one (cleared when full; a miss reads the row).
    private const int MaxCachedNames = 100_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), string> _names = new();
    // Project name → id: a project is never renamed or removed while the server runs.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _projectIds = new();

    /// <summary>
    /// Ingests one event and keeps its text (<paramref name="raw"/>, the JSON as posted) for replay (<c>GET /api/v1/events/lineage</c>).
    /// An event whose run, type and time (to the millisecond) match a stored one is a repeat: it is answered with the run's
    /// execution and changes nothing, so replaying an event log or another server's events twice imports each event once.
    /// </summary>
    public Task<IngestResult> IngestAsync(OlRunEvent e, string raw)
    {
        // Everything that needs no database is worked out here, before the event joins the single writer's queue.
        var inputs = e.Inputs.Select(d => new PreparedDataset(d, e.Producer)).ToList();
        var outputs = e.Outputs.Select(d => new PreparedDataset(d, e.Producer)).ToList();
        var fresh = new FreshExecution(JobType(e.JobFacets), Name(e), Properties(e, null));
        return db.WriteAsync(async s =>
        {
            // The request's project (a /projects/{name} prefix, else default): OpenLineage events carry none of their own.
            if (!_projectIds.TryGetValue(s.RequestProject, out var projectId))
                _projectIds.TryAdd(s.RequestProject, projectId = (await ExperimentAccess.RequireProjectAsync(s, s.RequestProject)).Id);
            var time = e.EventTime.ToUnixTimeMilliseconds();
            if (await RepeatAsync(s, projectId, e, raw, time) is { } repeat) return repeat;
            var (execution, isNew) = await ExecutionAsync(s, projectId, e, fresh, time);

            // What the run already has: a repeated START/COMPLETE names the same datasets again, which then costs
            // one read instead of a lookup per dataset (and no downstream walk when no input is new).
            var linked = isNew ? new List<LinkedRow>() : await LinkedAsync(s, projectId, execution);
            HashSet<long>? downstream = isNew ? [] : null;
            // Edges are written together at the end, one statement for the event (the walk follows output edges
            // only, and outputs come after every input, so deferring them changes nothing it sees).
            var edges = new List<(long, EventKind, string)>();
            var inputIds = new List<long>();
            foreach (var d in inputs)
            {
                var name = await ArtifactNameAsync(s, d);
                if (linked.Any(l => l.Kind == "input" && l.Name == name)) continue;
                // The versions this run wrote must not become its inputs (a cycle); a new execution has written nothing.
                downstream ??= await DownstreamAsync(s, execution);
                var id = await InputVersionAsync(s, projectId, name, d, downstream);
                if (id is null) continue;
                edges.Add((id.Value, EventKind.Input, "input"));
                linked.Add(new LinkedRow { Kind = "input", Role = "input", ArtifactId = id.Value, Name = name }); // a dataset named twice links once
                inputIds.Add(id.Value);
            }
            var outputIds = new List<long>();
            foreach (var d in outputs)
            {
                var name = await ArtifactNameAsync(s, d);
                // Each run's write of a dataset is a new version; a repeated output of the same run reuses it.
                var known = linked.FirstOrDefault(l => l.Kind == "output" && l.Name == name);
                var id = known?.ArtifactId ?? await RegisterAsync(s, projectId, name, d);
                if (!linked.Any(l => l.Kind == "output" && l.ArtifactId == id && l.Role == "output"))
                {
                    edges.Add((id, EventKind.Output, "output"));
                    linked.Add(new LinkedRow { Kind = "output", Role = "output", ArtifactId = id, Name = name });
                }
                outputIds.Add(id);
            }
            // A new execution's updated_at is this moment already: no need to stamp it for its edges.
            await LineageAccess.AddEventsAsync(s, execution, edges, time, touch: !isNew);
            await ContextsAsync(s, projectId, execution, e);
            if (e.EventType is "COMPLETE" or "FAIL")
                await EventOutbox.AppendAsync(s, e.EventType == "FAIL" ? EventTypes.OpenLineageRunFailed : EventTypes.OpenLineageRunCompleted, projectId,
                    $"openlineage_run:{e.RunId:D}", new { runId = e.RunId.ToString("D"), job = new { @namespace = e.JobNamespace, name = e.JobName }, executionId = execution,
                        inputs = inputIds.Count, outputs = outputIds.Count, eventTime = time });
            s.OnCommitted(() => db.Metrics.Ingested("openlineage_events", 1));
            return new IngestResult(execution, inputIds, outputIds);
        }, keyed: true);
    }

    /// <summary>
    /// Keeps the event's text, unless the run already has an event of this type at this time: then the answer for the repeat
    /// (the run's execution, nothing new). A run recorded in another project is refused as for any of its events.
    /// </summary>
    private static async Task<IngestResult?> RepeatAsync(DbSession s, long projectId, OlRunEvent e, string raw, long time)
    {
        var runUuid = e.RunId.ToString("D");
        var inserted = await s.Connection.ExecuteAsync("""
            INSERT INTO openlineage_events (project_id, run_uuid, event_type, event_time, body, received_at)
            VALUES (@projectId, @runUuid, @type, @time, @raw, @now) ON CONFLICT (run_uuid, event_type, event_time) DO NOTHING
            """, new { projectId, runUuid, type = e.EventType, time, raw, now = global::Lineage.Core.Tracking.Clock.NowMs() }, s.Transaction);
        if (inserted == 1) return null;
        var known = await s.Connection.QueryFirstOrDefaultAsync<OlRunRow>("""
            SELECT r.execution_id, r.last_event_time, x.project_id FROM openlineage_runs r JOIN executions x ON x.id = r.execution_id
            WHERE r.run_uuid = @runUuid
            """, new { runUuid }, s.Transaction);
        // The stored event always comes with its run (same transaction); a missing run would be a bug, not a repeat.
        if (known is null) throw new InvalidOperationException($"OpenLineage event of run {runUuid} is stored without its run");
        if (known.ProjectId != projectId)
            throw new Core.Errors.LineageException(Core.Errors.ErrorCode.Conflict, $"OpenLineage run {runUuid} was recorded in another project");
        return new IngestResult(known.ExecutionId, [], [], Repeat: true);
    }

    /// <summary>
    /// The artifacts downstream of an existing execution, under PostgreSQL's graph lock (shared with the native
    /// lineage writes): a new input edge on it could close a cycle with an edge another server adds meanwhile.
    /// Nothing else an event writes can: a new execution's outputs are new versions nothing consumes yet, and an
    /// output edge always comes with the new version it produces. So most events (every run's first, and a
    /// COMPLETE naming the START's inputs again) take no lock and commit in parallel.
    /// </summary>
    private async Task<HashSet<long>> DownstreamAsync(DbSession s, long execution)
    {
        await s.Dialect.TransactionLockAsync(s, LineageAccess.GraphLockId);
        return (await LineageAccess.WalkAsync(s, new NodeId(NodeKind.Execution, execution), true, LineageAccess.MaxDepth * 10))
            .Where(n => n.Node.Kind == NodeKind.Artifact).Select(n => n.Node.Id).ToHashSet();
    }

    /// <summary>What a first event makes of its run's execution.</summary>
    private sealed record FreshExecution(string Type, string Name, string Properties);

    /// <summary>A dataset of an event with what identifies and describes its version, computed outside the writer.</summary>
    private sealed class PreparedDataset(OlDataset d, string producer)
    {
        public OlDataset Dataset { get; } = d;
        public (string, string) Key { get; } = (d.Namespace, d.Name);
        public string CandidateName { get; } = ArtifactName(d);
        public string Digest { get; } = VersionDigest(d);
        public string Uri { get; } = d.Namespace.Contains("://", StringComparison.Ordinal) ? $"{d.Namespace.TrimEnd('/')}/{d.Name}" : $"openlineage://{d.Namespace}/{d.Name}";
        public string Metadata { get; } = MetadataOf(d);
        public string Producer { get; } = producer.Length <= 250 ? producer : producer[..250];
    }

    /// <summary>The run's execution, created on its first event; state moves forward by event time, never back from a terminal state.</summary>
    private static async Task<(long Id, bool IsNew)> ExecutionAsync(DbSession s, long projectId, OlRunEvent e, FreshExecution fresh, long time)
    {
        var runUuid = e.RunId.ToString("D");
        var known = await s.Connection.QueryFirstOrDefaultAsync<OlRunRow>("""
            SELECT r.execution_id, r.last_event_time, x.project_id FROM openlineage_runs r JOIN executions x ON x.id = r.execution_id
            WHERE r.run_uuid = @runUuid
            """, new { runUuid }, s.Transaction);
        // A run belongs to the project of its first event; another project may not add to it.
        if (known is not null && known.ProjectId != projectId)
            throw new Core.Errors.LineageException(Core.Errors.ErrorCode.Conflict, $"OpenLineage run {runUuid} was recorded in another project");
        var state = e.EventType switch
        {
            "START" or "RUNNING" => ExecutionState.Running,
            "COMPLETE" => ExecutionState.Complete,
            "FAIL" => ExecutionState.Failed,
            "ABORT" => ExecutionState.Canceled,
            _ => (ExecutionState?)null,
        };
        if (known is null)
        {
            var id = await LineageAccess.CreateExecutionAsync(s, projectId, fresh.Type, fresh.Name, state ?? ExecutionState.Running,
                e.EventType == "START" ? time : null, state is ExecutionState.Complete or ExecutionState.Failed or ExecutionState.Canceled ? time : null,
                fresh.Properties, null, time);
            var inserted = await s.Connection.ExecuteAsync("""
                INSERT INTO openlineage_runs (run_uuid, execution_id, job_namespace, job_name, last_event_time)
                VALUES (@runUuid, @id, @ns, @name, @time) ON CONFLICT (run_uuid) DO NOTHING
                """, new { runUuid, id, ns = e.JobNamespace, name = e.JobName, time }, s.Transaction);
            if (inserted == 0) throw new RetryTransactionException($"OpenLineage run {runUuid} was created concurrently");
            return (id, true);
        }
        var (executionId, last) = (known.ExecutionId, known.LastEventTime);
        var existing = await s.Connection.ExecuteScalarAsync<string>("SELECT properties FROM executions WHERE id = @executionId", new { executionId }, s.Transaction) ?? "{}";
        var properties = time >= last ? Properties(e, existing) : Properties(JsonNode.Parse(existing)!, e);
        // Terminal states are final; otherwise the newest event wins. START time is kept from the START event.
        await s.Connection.ExecuteAsync("""
            UPDATE executions SET
                state = CASE WHEN state IN ('COMPLETE', 'FAILED', 'CANCELED') OR @state IS NULL OR (@time < @last AND @state = 'RUNNING') THEN state ELSE @state END,
                start_time = CASE WHEN @start IS NOT NULL AND (start_time IS NULL OR @start < start_time) THEN @start ELSE start_time END,
                end_time = CASE WHEN @terminal = 1 AND end_time IS NULL THEN @time ELSE end_time END,
                properties = @properties, updated_at = @now, updated_by = @by
            WHERE id = @executionId
            """, new
        {
            executionId, time, last, properties, now = global::Lineage.Core.Tracking.Clock.NowMs(), by = s.Actor,
            state = state is null ? null : LineageAccess.Text(state.Value),
            start = e.EventType == "START" ? time : (long?)null,
            terminal = state is ExecutionState.Complete or ExecutionState.Failed or ExecutionState.Canceled ? 1 : 0,
        }, s.Transaction);
        await s.Connection.ExecuteAsync("UPDATE openlineage_runs SET last_event_time = @time WHERE run_uuid = @runUuid AND last_event_time < @time",
            new { runUuid, time }, s.Transaction);
        return (executionId, false);
    }

    /// <summary>
    /// The version an input refers to: a repeat of an input already recorded is skipped; a changed schema
    /// or version facet registers a new version; a version downstream of this run (it wrote it) is not linked back.
    /// </summary>
    /// <summary>
    /// The run's edges to artifacts of the project, by the artifact name at their other end. Written so that SQLite
    /// starts from the run's few edges (CROSS JOIN) and finds each name by its id (a correlated subquery) whatever
    /// its statistics say; joined plainly, it may walk every artifact name of the project for each edge.
    /// </summary>
    private static async Task<List<LinkedRow>> LinkedAsync(DbSession s, long projectId, long execution) =>
        (await s.Connection.QueryAsync<LinkedRow>("""
            SELECT ev.kind, ev.role, ev.artifact_id,
                   (SELECT n.name FROM artifact_names n WHERE n.id = v.name_id AND n.project_id = @projectId) AS name
            FROM lineage_events ev CROSS JOIN artifact_versions v
            WHERE ev.execution_id = @execution AND v.id = ev.artifact_id
            ORDER BY ev.id
            """, new { execution, projectId }, s.Transaction)).Where(l => l.Name is not null).ToList();

    /// <summary>
    /// The version a new input refers to: the newest one, unless this run wrote it (then the newest it did not
    /// write); a changed schema or version facet registers a new version.
    /// </summary>
    private static async Task<long?> InputVersionAsync(DbSession s, long projectId, string name, PreparedDataset d, HashSet<long> downstream)
    {
        // The name's id comes from a scalar subquery, not a join: PostgreSQL evaluates it once (an InitPlan) and
        // walks the (name_id, version) index backwards; joined, it may plan a scan of every version of every name.
        var versions = (await s.Connection.QueryAsync<(long Id, string Digest)>($"""
            SELECT id, digest FROM artifact_versions
            WHERE name_id = (SELECT id FROM artifact_names WHERE project_id = @projectId AND name = @name) AND lifecycle = 'active'
            ORDER BY version DESC {(downstream.Count == 0 ? "LIMIT 1" : "")}
            """, new { projectId, name }, s.Transaction)).AsList();
        var usable = versions.Where(v => !downstream.Contains(v.Id)).ToList();
        if (usable.Count > 0 && usable[0].Digest == d.Digest) return usable[0].Id;
        if (usable.Count == 0 && versions.Count > 0) return null; // only this run's own writes exist
        return await RegisterAsync(s, projectId, name, d);
    }

    private static async Task<long> RegisterAsync(DbSession s, long projectId, string name, PreparedDataset d)
    {
        var next = await ArtifactAccess.NextVersionAsync(s, projectId, name);
        return await ArtifactAccess.InsertVersionAsync(s, next.Id, next.LatestVersion, "dataset", ArtifactKind.External, d.Digest, 0, d.Uri,
            d.Metadata, null, null, d.Producer, Core.Tracking.Clock.NowMs());
    }

    private static string MetadataOf(OlDataset d)
    {
        var openLineage = new JsonObject { ["namespace"] = d.Namespace, ["name"] = d.Name, ["facets"] = JsonNode.Parse(d.Facets) };
        if (d.IoFacets is not null) openLineage["ioFacets"] = JsonNode.Parse(d.IoFacets);
        return new JsonObject { ["openlineage"] = openLineage }.ToJsonString();
    }

    /// <summary>The dataset's artifact name: the one assigned when it was first seen, else its candidate name, assigned now.</summary>
    private async Task<string> ArtifactNameAsync(DbSession s, PreparedDataset p)
    {
        if (_names.TryGetValue(p.Key, out var cached)) return cached;
        var d = p.Dataset;
        var known = await s.Connection.ExecuteScalarAsync<string?>(
            "SELECT artifact_name FROM openlineage_datasets WHERE namespace = @Namespace AND name = @Name", new { d.Namespace, d.Name }, s.Transaction);
        if (known is not null)
        {
            Remember(p.Key, known);
            return known;
        }
        // Parameter names differ by more than case: Npgsql matches them case-insensitively.
        await s.Connection.ExecuteAsync("INSERT INTO openlineage_datasets (namespace, name, artifact_name) VALUES (@Namespace, @Name, @artifactName) ON CONFLICT DO NOTHING",
            new { d.Namespace, d.Name, artifactName = p.CandidateName }, s.Transaction);
        s.OnCommitted(() => Remember(p.Key, p.CandidateName));
        return p.CandidateName;
    }

    private void Remember((string, string) key, string artifactName)
    {
        if (_names.Count >= MaxCachedNames) _names.Clear();
        _names.TryAdd(key, artifactName);
    }

    /// <summary>Stable artifact name of a dataset: readable, within the artifact-name alphabet, unique by a hash suffix.</summary>
    private static string ArtifactName(OlDataset d)
    {
        var readable = new string($"{d.Namespace}.{d.Name}".Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_').ToArray()).Trim('_', '.', '-');
        if (readable.Length > 150) readable = readable[..150];
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(d.Namespace + "\n" + d.Name)))[..10];
        var name = $"{(readable.Length == 0 ? "dataset" : readable)}-{hash}";
        return char.IsAsciiLetterOrDigit(name[0]) ? name : "d" + name;
    }

    /// <summary>What identifies a dataset version: its version facet, else its schema, else nothing (one version).</summary>
    private static string VersionDigest(OlDataset d)
    {
        using var facets = JsonDocument.Parse(d.Facets);
        var root = facets.RootElement;
        var basis = root.TryGetProperty("version", out var v) && v.TryGetProperty("datasetVersion", out var dv) ? "version:" + dv.GetRawText()
            : root.TryGetProperty("schema", out var schema) && schema.TryGetProperty("fields", out var fields) ? "schema:" + JsonSerializer.Serialize(fields)
            : "dataset";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{d.Namespace}\n{d.Name}\n{basis}")));
    }

    /// <summary>The parent facet: the parent run (and its root) become contexts the execution belongs to.</summary>
    private static async Task ContextsAsync(DbSession s, long projectId, long execution, OlRunEvent e)
    {
        if (e.Parent is null) return;
        long? rootId = null;
        if (e.Root is { } root && root.RunId != e.Parent.RunId) rootId = await ContextAsync(s, projectId, root, null);
        var parent = await ContextAsync(s, projectId, e.Parent, rootId);
        await LineageAccess.AssociateAsync(s, parent, execution);
    }

    private static async Task<long> ContextAsync(DbSession s, long projectId, OlJobRef job, long? parentId)
    {
        var name = $"{job.Namespace}/{job.Name}/{job.RunId:D}";
        var props = JsonSerializer.Serialize(new Dictionary<string, string> { ["namespace"] = job.Namespace, ["job"] = job.Name, ["runId"] = job.RunId.ToString("D") });
        return await LineageAccess.CreateContextAsync(s, projectId, "openlineage_run", name.Length <= 500 ? name : name[..500], parentId, props)
               ?? await s.Connection.ExecuteScalarAsync<long>("SELECT id FROM contexts WHERE project_id = @projectId AND type = 'openlineage_run' AND name = @name",
                   new { projectId, name = name.Length <= 500 ? name : name[..500] }, s.Transaction);
    }

    private static string JobType(string jobFacets)
    {
        using var doc = JsonDocument.Parse(jobFacets);
        var text = doc.RootElement.TryGetProperty("jobType", out var jt) && jt.TryGetProperty("jobType", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()!.ToLowerInvariant() : "job";
        var clean = new string(text.Where(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-').ToArray());
        return clean.Length > 0 && char.IsAsciiLetterLower(clean[0]) ? clean[..Math.Min(clean.Length, 50)] : "job";
    }

    private static string Name(OlRunEvent e)
    {
        var name = $"{e.JobNamespace}/{e.JobName}";
        return name.Length <= 500 ? name : name[..500];
    }

    /// <summary>
    /// Execution properties: the job's identity and every run and job facet seen so far, kept verbatim;
    /// a facet sent again by a newer event replaces the older copy of that facet only.
    /// </summary>
    private static string Properties(OlRunEvent e, string? existing)
    {
        var current = existing is null ? new JsonObject() : JsonNode.Parse(existing)!.AsObject();
        var ol = current["openlineage"] as JsonObject ?? new JsonObject();
        ol["namespace"] = e.JobNamespace;
        ol["job"] = e.JobName;
        ol["runId"] = e.RunId.ToString("D");
        ol["lastEventType"] = e.EventType;
        ol["producer"] = e.Producer;
        ol["runFacets"] = Merge(ol["runFacets"] as JsonObject, e.RunFacets, newerWins: true);
        ol["jobFacets"] = Merge(ol["jobFacets"] as JsonObject, e.JobFacets, newerWins: true);
        current["openlineage"] = ol;
        return current.ToJsonString();
    }

    /// <summary>An older event arriving late only fills in facets not seen yet.</summary>
    private static string Properties(JsonNode existing, OlRunEvent older)
    {
        var ol = existing["openlineage"]!.AsObject();
        ol["runFacets"] = Merge(ol["runFacets"] as JsonObject, older.RunFacets, newerWins: false);
        ol["jobFacets"] = Merge(ol["jobFacets"] as JsonObject, older.JobFacets, newerWins: false);
        return existing.ToJsonString();
    }

    private static JsonObject Merge(JsonObject? into, string facetsJson, bool newerWins)
    {
        var result = into is null ? new JsonObject() : (JsonObject)into.DeepClone();
        foreach (var (key, value) in JsonNode.Parse(facetsJson)!.AsObject())
            if (newerWins || !result.ContainsKey(key)) result[key] = value?.DeepClone();
        return result;
    }

    private sealed class LinkedRow
    {
        public string Kind { get; set; } = "";
        public string Role { get; set; } = "";
        public long ArtifactId { get; set; }
        public string? Name { get; set; }
    }

    private sealed class OlRunRow
    {
        public long ExecutionId { get; set; }
        public long LastEventTime { get; set; }
        public long ProjectId { get; set; }
    }
}
