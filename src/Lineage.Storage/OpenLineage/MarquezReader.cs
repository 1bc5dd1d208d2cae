using System.Text.Json;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.OpenLineage;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.OpenLineage;

/// <summary>
/// Reads back what OpenLineage ingestion stored, in Marquez's model: namespaces, jobs (every run of
/// a job namespace/name), datasets (every version of a namespace/name) and the job/dataset graph
/// around a node. Each public method is one read transaction. Thread-safe.
/// Every read is of one project's OpenLineage data: the request's (<see cref="OperationContext.Project"/>, named by a
/// <c>/projects/{name}</c> prefix, else <c>default</c>), where <see cref="OpenLineageStore"/> put its events; a run
/// read by its id is read in its own project.
/// </summary>
public sealed class MarquezReader(Database db)
{
    /// <summary>Restricts artifact names (alias n) to the project (its id is the store's own number, never request text).</summary>
    private static string InProject(long pid) => $"n.project_id = {pid}";

    /// <summary>The OpenLineage runs (alias r) whose executions belong to the project.</summary>
    private static string RunsOf(long pid) => $"openlineage_runs r JOIN executions px ON px.id = r.execution_id AND px.project_id = {pid}";

    private static async Task<long> ProjectIdAsync(DbSession s) => (await ExperimentAccess.RequireProjectAsync(s, s.RequestProject)).Id;

    /// <summary>Largest depth (in jobs away from the start node) a graph read walks.</summary>
    public const int MaxDepth = 100;

    /// <summary>Largest graph a read returns; a walk that would pass it stops at the depth it reached.</summary>
    public const int MaxNodes = 10_000;

    public Task<IReadOnlyList<OlNamespaceView>> NamespacesAsync() =>
        db.ReadAsync<IReadOnlyList<OlNamespaceView>>(async s =>
        {
            var pid = await ProjectIdAsync(s);
            return (await s.Connection.QueryAsync<NamespaceRow>($"""
                SELECT ns AS Name, MIN(created) AS CreatedAt, MAX(updated) AS UpdatedAt FROM (
                    SELECT r.job_namespace AS ns, px.created_at AS created, r.last_event_time AS updated
                    FROM {RunsOf(pid)}
                    UNION ALL
                    SELECT d.namespace, v.created_at, v.created_at
                    FROM openlineage_datasets d JOIN artifact_names n ON n.name = d.artifact_name AND {InProject(pid)} JOIN artifact_versions v ON v.name_id = n.id
                ) u GROUP BY ns ORDER BY ns
                """, transaction: s.Transaction)).Select(r => new OlNamespaceView(r.Name, r.CreatedAt, r.UpdatedAt)).ToList();
        });

    /// <summary>
    /// The project's raw events as ingestion received them, in Marquez's window (<c>after</c> ≤ eventTime &lt; <c>before</c>, both
    /// optional, in milliseconds) and order (event time, then arrival, so that paging by offset is stable), with the window's count.
    /// </summary>
    public Task<(IReadOnlyList<string> Events, int Total)> LineageEventsAsync(long? after, long? before, bool ascending, int limit, int offset) =>
        db.ReadAsync<(IReadOnlyList<string>, int)>(async s =>
        {
            var pid = await ProjectIdAsync(s);
            var window = new { pid, after = after ?? long.MinValue, before = before ?? long.MaxValue, limit, offset };
            const string where = "project_id = @pid AND event_time >= @after AND event_time < @before";
            var total = await s.Connection.ExecuteScalarAsync<int>($"SELECT COUNT(*) FROM openlineage_events WHERE {where}", window, s.Transaction);
            var order = ascending ? "event_time, id" : "event_time DESC, id DESC";
            var bodies = await s.Connection.QueryAsync<string>(
                $"SELECT body FROM openlineage_events WHERE {where} ORDER BY {order} LIMIT @limit OFFSET @offset", window, s.Transaction);
            return (bodies.ToList(), total);
        });

    public Task<(IReadOnlyList<OlJobView> Jobs, int Total)> JobsAsync(string ns, int limit, int offset) =>
        db.ReadAsync<(IReadOnlyList<OlJobView>, int)>(async s =>
        {
            var pid = await ProjectIdAsync(s);
            var total = await s.Connection.ExecuteScalarAsync<int>(
                $"SELECT COUNT(DISTINCT r.job_name) FROM {RunsOf(pid)} WHERE r.job_namespace = @ns", new { ns }, s.Transaction);
            var names = await s.Connection.QueryAsync<string>($"""
                SELECT r.job_name FROM {RunsOf(pid)} WHERE r.job_namespace = @ns GROUP BY r.job_name ORDER BY r.job_name LIMIT @limit OFFSET @offset
                """, new { ns, limit, offset }, s.Transaction);
            var jobs = new List<OlJobView>();
            foreach (var name in names) jobs.Add((await JobAsync(s, pid, ns, name))!);
            return (jobs, total);
        });

    public Task<OlJobView> JobAsync(string ns, string name) =>
        db.ReadAsync(async s => await JobAsync(s, await ProjectIdAsync(s), ns, name)
                                ?? throw LineageException.NotFound($"job '{name}' in namespace '{ns}' does not exist"));

    public Task<(IReadOnlyList<OlRunView> Runs, int Total)> RunsAsync(string ns, string name, int limit, int offset) =>
        db.ReadAsync<(IReadOnlyList<OlRunView>, int)>(async s =>
        {
            var pid = await ProjectIdAsync(s);
            var total = await s.Connection.ExecuteScalarAsync<int>(
                $"SELECT COUNT(*) FROM {RunsOf(pid)} WHERE r.job_namespace = @ns AND r.job_name = @name", new { ns, name }, s.Transaction);
            if (total == 0) throw LineageException.NotFound($"job '{name}' in namespace '{ns}' does not exist");
            var uuids = await s.Connection.QueryAsync<string>($"""
                SELECT r.run_uuid FROM {RunsOf(pid)}
                WHERE r.job_namespace = @ns AND r.job_name = @name ORDER BY px.created_at DESC, px.id DESC LIMIT @limit OFFSET @offset
                """, new { ns, name, limit, offset }, s.Transaction);
            var runs = new List<OlRunView>();
            foreach (var uuid in uuids) runs.Add((await RunAsync(s, pid, uuid))!);
            return (runs, total);
        });

    /// <summary>
    /// A run reached by its id is read in its own project, as every entity reached by id is (the access rule
    /// <c>openlineage-run:id</c> checks the role there), not in the request's: reading it in the request's project
    /// answered "project 'default' does not exist" for a run of another project, naming a project the run has
    /// nothing to do with (issue 17). A run the caller may not see is "does not exist", as a missing one.
    /// </summary>
    public Task<OlRunView> RunAsync(Guid runId) =>
        db.ReadAsync(async s =>
        {
            var uuid = runId.ToString("D");
            var pid = await s.Connection.ExecuteScalarAsync<long?>($"""
                SELECT px.project_id FROM openlineage_runs r JOIN executions px ON px.id = r.execution_id
                WHERE r.run_uuid = @uuid{s.Visible("px.project_id")}
                """, new { uuid }, s.Transaction);
            return (pid is { } owner ? await RunAsync(s, owner, uuid) : null)
                   ?? throw LineageException.NotFound($"run '{uuid}' does not exist");
        });

    public Task<(IReadOnlyList<OlDatasetView> Datasets, int Total)> DatasetsAsync(string ns, int limit, int offset) =>
        db.ReadAsync<(IReadOnlyList<OlDatasetView>, int)>(async s =>
        {
            var pid = await ProjectIdAsync(s);
            var inProject = $"openlineage_datasets d JOIN artifact_names n ON n.name = d.artifact_name AND {InProject(pid)}";
            var total = await s.Connection.ExecuteScalarAsync<int>($"SELECT COUNT(*) FROM {inProject} WHERE d.namespace = @ns", new { ns }, s.Transaction);
            var names = await s.Connection.QueryAsync<string>(
                $"SELECT d.name FROM {inProject} WHERE d.namespace = @ns ORDER BY d.name LIMIT @limit OFFSET @offset", new { ns, limit, offset }, s.Transaction);
            var datasets = new List<OlDatasetView>();
            foreach (var name in names) datasets.Add((await DatasetAsync(s, pid, ns, name))!);
            return (datasets, total);
        });

    public Task<OlDatasetView> DatasetAsync(string ns, string name) =>
        db.ReadAsync(async s => await DatasetAsync(s, await ProjectIdAsync(s), ns, name)
                                ?? throw LineageException.NotFound($"dataset '{name}' in namespace '{ns}' does not exist"));

    /// <summary>
    /// The graph around a node in both directions, as Marquez draws it: jobs and datasets, an edge
    /// dataset → job for every read and job → dataset for every write by any run. Depth counts jobs
    /// away from the start node; the datasets of the outermost jobs are included.
    /// </summary>
    /// <param name="nodeId"><c>job:namespace:name</c> or <c>dataset:namespace:name</c>; namespaces may hold colons.</param>
    public Task<OlGraph> GraphAsync(string nodeId, int depth) =>
        db.ReadAsync(async s =>
        {
            var pid = await ProjectIdAsync(s);
            var root = await ResolveAsync(s, pid, nodeId);
            // A job at depth d is 2d hops from a job root and 2d-1 from a dataset root; its datasets one more.
            var maxHops = root.Kind == OlNodeKind.Job ? 2 * depth + 1 : 2 * depth;
            var seen = new Dictionary<OlNode, int> { [root] = 0 };
            var edges = new HashSet<OlEdge>();
            var frontier = new List<OlNode> { root };
            for (var hop = 1; hop <= maxHops && frontier.Count > 0 && seen.Count < MaxNodes; hop++)
            {
                var next = new List<OlNode>();
                foreach (var node in frontier)
                    foreach (var edge in await EdgesAsync(s, pid, node))
                    {
                        edges.Add(edge);
                        var other = edge.Origin == node ? edge.Destination : edge.Origin;
                        if (seen.TryAdd(other, hop)) next.Add(other);
                    }
                frontier = next;
            }
            var nodes = seen.Keys.OrderBy(n => n.Id, StringComparer.Ordinal).ToList();
            var jobs = new Dictionary<OlNode, OlJobView>();
            var datasets = new Dictionary<OlNode, OlDatasetView>();
            foreach (var node in nodes)
                if (node.Kind == OlNodeKind.Job) jobs[node] = (await JobAsync(s, pid, node.Namespace, node.Name))!;
                else datasets[node] = (await DatasetAsync(s, pid, node.Namespace, node.Name))!;
            return new OlGraph(nodes, edges.Where(e => seen.ContainsKey(e.Origin) && seen.ContainsKey(e.Destination)).ToList(), jobs, datasets);
        });

    /// <summary>Splits a node id at the colon that names an existing job or dataset (namespaces such as <c>postgres://h:5432</c> hold colons).</summary>
    private static async Task<OlNode> ResolveAsync(DbSession s, long pid, string nodeId)
    {
        var colon = nodeId.IndexOf(':');
        var prefix = colon < 0 ? nodeId : nodeId[..colon];
        var kind = prefix switch
        {
            "job" => OlNodeKind.Job,
            "dataset" => OlNodeKind.Dataset,
            _ => throw LineageException.Invalid("nodeId", $"nodeId '{nodeId}' must be job:<namespace>:<name> or dataset:<namespace>:<name>"),
        };
        var rest = nodeId[(colon + 1)..];
        for (var i = rest.IndexOf(':'); i > 0; i = rest.IndexOf(':', i + 1))
        {
            var (ns, name) = (rest[..i], rest[(i + 1)..]);
            if (name.Length == 0) continue;
            var exists = kind == OlNodeKind.Job
                ? await s.Connection.ExecuteScalarAsync<int>($"SELECT COUNT(*) FROM {RunsOf(pid)} WHERE r.job_namespace = @ns AND r.job_name = @name",
                    new { ns, name }, s.Transaction) > 0
                : await s.Connection.ExecuteScalarAsync<int>($"""
                    SELECT COUNT(*) FROM openlineage_datasets d JOIN artifact_names n ON n.name = d.artifact_name AND {InProject(pid)}
                    WHERE d.namespace = @ns AND d.name = @name
                    """, new { ns, name }, s.Transaction) > 0;
            if (exists) return new OlNode(kind, ns, name);
        }
        if (rest.IndexOf(':') <= 0)
            throw LineageException.Invalid("nodeId", $"nodeId '{nodeId}' must be {prefix}:<namespace>:<name>");
        throw LineageException.NotFound($"{prefix} '{rest}' (namespace:name) does not exist");
    }

    private static async Task<IReadOnlyList<OlEdge>> EdgesAsync(DbSession s, long pid, OlNode node)
    {
        if (node.Kind == OlNodeKind.Job)
            return (await s.Connection.QueryAsync<(string Namespace, string Name, string Kind)>($"""
                SELECT DISTINCT d.namespace, d.name, ev.kind
                FROM {RunsOf(pid)}
                JOIN lineage_events ev ON ev.execution_id = r.execution_id
                JOIN artifact_versions v ON v.id = ev.artifact_id
                JOIN artifact_names n ON n.id = v.name_id
                JOIN openlineage_datasets d ON d.artifact_name = n.name AND {InProject(pid)}
                WHERE r.job_namespace = @Namespace AND r.job_name = @Name
                """, new { node.Namespace, node.Name }, s.Transaction))
                .Select(r => Edge(node, new OlNode(OlNodeKind.Dataset, r.Namespace, r.Name), r.Kind)).ToList();
        return (await s.Connection.QueryAsync<(string Namespace, string Name, string Kind)>($"""
            SELECT DISTINCT r.job_namespace, r.job_name, ev.kind
            FROM openlineage_datasets d
            JOIN artifact_names n ON n.name = d.artifact_name AND {InProject(pid)}
            JOIN artifact_versions v ON v.name_id = n.id
            JOIN lineage_events ev ON ev.artifact_id = v.id
            JOIN openlineage_runs r ON r.execution_id = ev.execution_id
            JOIN executions px ON px.id = r.execution_id AND px.project_id = {pid}
            WHERE d.namespace = @Namespace AND d.name = @Name
            """, new { node.Namespace, node.Name }, s.Transaction))
            .Select(r => Edge(new OlNode(OlNodeKind.Job, r.Namespace, r.Name), node, r.Kind)).ToList();
    }

    private static OlEdge Edge(OlNode job, OlNode dataset, string kind) => kind == "input" ? new OlEdge(dataset, job) : new OlEdge(job, dataset);

    private static async Task<OlJobView?> JobAsync(DbSession s, long pid, string ns, string name)
    {
        var summary = await s.Connection.QueryFirstOrDefaultAsync<JobRow>($"""
            SELECT COUNT(*) AS RunCount, MIN(px.created_at) AS CreatedAt, MAX(r.last_event_time) AS UpdatedAt
            FROM {RunsOf(pid)}
            WHERE r.job_namespace = @ns AND r.job_name = @name
            """, new { ns, name }, s.Transaction);
        if (summary is null || summary.RunCount == 0) return null;
        var latestUuid = await s.Connection.ExecuteScalarAsync<string>($"""
            SELECT r.run_uuid FROM {RunsOf(pid)}
            WHERE r.job_namespace = @ns AND r.job_name = @name ORDER BY r.last_event_time DESC, px.id DESC LIMIT 1
            """, new { ns, name }, s.Transaction);
        var latest = await RunAsync(s, pid, latestUuid!);
        var edges = await EdgesAsync(s, pid, new OlNode(OlNodeKind.Job, ns, name));
        static List<OlDatasetId> Sorted(IEnumerable<OlNode> datasets) => datasets.Select(d => new OlDatasetId(d.Namespace, d.Name))
            .OrderBy(d => d.Namespace, StringComparer.Ordinal).ThenBy(d => d.Name, StringComparer.Ordinal).ToList();
        var inputs = Sorted(edges.Where(e => e.Destination.Kind == OlNodeKind.Job).Select(e => e.Origin));
        var outputs = Sorted(edges.Where(e => e.Origin.Kind == OlNodeKind.Job).Select(e => e.Destination));
        var properties = await s.Connection.ExecuteScalarAsync<string>("SELECT properties FROM executions WHERE id = @id", new { id = latest!.ExecutionId }, s.Transaction);
        var jobFacets = Facets(properties, "jobFacets");
        return new OlJobView(ns, name, ProcessingType(jobFacets), summary.CreatedAt, summary.UpdatedAt, (int)summary.RunCount, inputs, outputs, jobFacets, latest);
    }

    private static async Task<OlRunView?> RunAsync(DbSession s, long pid, string runUuid)
    {
        var row = await s.Connection.QueryFirstOrDefaultAsync<RunRow>($"""
            SELECT r.run_uuid AS RunUuid, px.id AS ExecutionId, px.state AS State, px.created_at AS CreatedAt, r.last_event_time AS UpdatedAt,
                   px.start_time AS StartedAt, px.end_time AS EndedAt, px.properties AS Properties
            FROM {RunsOf(pid)} WHERE r.run_uuid = @runUuid{s.Visible("px.project_id")}
            """, new { runUuid }, s.Transaction);
        if (row is null) return null;
        var versions = (await s.Connection.QueryAsync<(string Namespace, string Name, long Version, string Kind)>($"""
            SELECT d.namespace, d.name, v.version, ev.kind
            FROM lineage_events ev
            JOIN artifact_versions v ON v.id = ev.artifact_id
            JOIN artifact_names n ON n.id = v.name_id
            JOIN openlineage_datasets d ON d.artifact_name = n.name AND {InProject(pid)}
            WHERE ev.execution_id = @ExecutionId ORDER BY d.namespace, d.name
            """, new { row.ExecutionId }, s.Transaction)).ToList();
        return new OlRunView(Guid.Parse(row.RunUuid), row.ExecutionId, row.State, row.CreatedAt, row.UpdatedAt, row.StartedAt, row.EndedAt,
            Facets(row.Properties, "runFacets"),
            versions.Where(v => v.Kind == "input").Select(v => new OlDatasetVersionId(v.Namespace, v.Name, (int)v.Version)).ToList(),
            versions.Where(v => v.Kind == "output").Select(v => new OlDatasetVersionId(v.Namespace, v.Name, (int)v.Version)).ToList());
    }

    private static async Task<OlDatasetView?> DatasetAsync(DbSession s, long pid, string ns, string name)
    {
        var row = await s.Connection.QueryFirstOrDefaultAsync<DatasetRow>($"""
            SELECT d.artifact_name AS ArtifactName, n.id AS NameId
            FROM openlineage_datasets d JOIN artifact_names n ON n.name = d.artifact_name AND {InProject(pid)}
            WHERE d.namespace = @ns AND d.name = @name
            """, new { ns, name }, s.Transaction);
        if (row is null) return null;
        var newest = await s.Connection.QueryFirstAsync<(long Version, string Metadata, long CreatedAt)>(
            "SELECT version, metadata, created_at FROM artifact_versions WHERE name_id = @NameId ORDER BY version DESC LIMIT 1", new { row.NameId }, s.Transaction);
        var created = await s.Connection.ExecuteScalarAsync<long>("SELECT MIN(created_at) FROM artifact_versions WHERE name_id = @NameId", new { row.NameId }, s.Transaction);
        var modified = await s.Connection.ExecuteScalarAsync<long?>("""
            SELECT MAX(ev.time) FROM artifact_versions v JOIN lineage_events ev ON ev.artifact_id = v.id
            WHERE v.name_id = @NameId AND ev.kind = 'output'
            """, new { row.NameId }, s.Transaction);
        using var metadata = JsonDocument.Parse(newest.Metadata);
        var facets = metadata.RootElement.TryGetProperty("openlineage", out var ol) && ol.TryGetProperty("facets", out var f) ? f.GetRawText() : "{}";
        return new OlDatasetView(ns, name, row.ArtifactName, (int)newest.Version, created, newest.CreatedAt, modified, facets);
    }

    private static string Facets(string? properties, string which)
    {
        using var doc = JsonDocument.Parse(properties ?? "{}");
        return doc.RootElement.TryGetProperty("openlineage", out var ol) && ol.TryGetProperty(which, out var facets) ? facets.GetRawText() : "{}";
    }

    /// <summary>Marquez's job type: the jobType facet's processingType (BATCH or STREAMING), BATCH when absent.</summary>
    private static string ProcessingType(string jobFacets)
    {
        using var doc = JsonDocument.Parse(jobFacets);
        return doc.RootElement.TryGetProperty("jobType", out var jt) && jt.TryGetProperty("processingType", out var p) && p.GetString() is { } text
            && text.Equals("STREAMING", StringComparison.OrdinalIgnoreCase) ? "STREAM" : "BATCH";
    }

    // Settable properties, not a positional record: on an empty result SQLite reports untyped (blob) columns,
    // which no constructor signature matches, and Dapper refused the empty list with an exception.
    private sealed class NamespaceRow
    {
        public string Name { get; set; } = "";
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }
    }

    private sealed class JobRow
    {
        public long RunCount { get; set; }
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }
    }

    private sealed class RunRow
    {
        public string RunUuid { get; set; } = "";
        public long ExecutionId { get; set; }
        public string State { get; set; } = "";
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }
        public long? StartedAt { get; set; }
        public long? EndedAt { get; set; }
        public string Properties { get; set; } = "{}";
    }

    private sealed class DatasetRow
    {
        public string ArtifactName { get; set; } = "";
        public long NameId { get; set; }
    }
}
