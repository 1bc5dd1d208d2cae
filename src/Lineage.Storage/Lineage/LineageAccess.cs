using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Lineage;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Lineage;

/// <summary>Data access for executions, events, contexts and graph walks. Never commits.</summary>
internal static class LineageAccess
{
    private const string SelectExecution = """
        SELECT x.id, p.name AS project, x.type, COALESCE(r.name, x.name) AS name,
               CASE WHEN r.id IS NULL THEN x.state ELSE
                 CASE r.status WHEN 'RUNNING' THEN 'RUNNING' WHEN 'SCHEDULED' THEN 'NEW' WHEN 'FINISHED' THEN 'COMPLETE'
                               WHEN 'FAILED' THEN 'FAILED' ELSE 'CANCELED' END END AS state,
               COALESCE(r.start_time, x.start_time) AS start_time, COALESCE(r.end_time, x.end_time) AS end_time,
               x.properties, r.uuid AS run_uuid, x.created_at, x.created_by, COALESCE(x.updated_at, x.created_at) AS updated_at, x.updated_by
        FROM executions x JOIN projects p ON p.id = x.project_id LEFT JOIN runs r ON r.id = x.run_id
        """;

    public static Task<long> CreateExecutionAsync(DbSession s, long projectId, string type, string name, ExecutionState state,
        long? start, long? end, string properties, long? runId, long now) =>
        s.Connection.ExecuteScalarAsync<long>("""
            INSERT INTO executions (project_id, type, name, state, start_time, end_time, properties, run_id, created_at, created_by, updated_at, updated_by)
            VALUES (@projectId, @type, @name, @state, @start, @end, @properties, @runId, @now, @by, @now, @by) RETURNING id
            """, new { projectId, type, name, state = Text(state), start, end, properties, runId, now, by = s.Actor }, s.Transaction);

    /// <summary>The execution that is this run (created with the run; made here for runs that predate it).</summary>
    public static async Task<long> RunExecutionAsync(DbSession s, long runId)
    {
        var id = await s.Connection.ExecuteScalarAsync<long?>("SELECT id FROM executions WHERE run_id = @runId", new { runId }, s.Transaction);
        if (id is not null) return id.Value;
        return await s.Connection.ExecuteScalarAsync<long>("""
            INSERT INTO executions (project_id, type, name, state, start_time, properties, run_id, created_at, created_by, updated_at, updated_by)
            SELECT e.project_id, 'run', COALESCE(r.name, r.uuid), 'RUNNING', r.start_time, '{}', r.id, r.start_time, r.created_by, r.start_time, r.created_by
            FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = @runId
            RETURNING id
            """, new { runId }, s.Transaction);
    }

    public static Task<ExecutionRow?> FindExecutionAsync(DbSession s, long id) =>
        s.Connection.QueryFirstOrDefaultAsync<ExecutionRow>($"{SelectExecution} WHERE x.id = @id{s.Visible("x.project_id")}", new { id }, s.Transaction);

    public static async Task<ExecutionRow> RequireExecutionAsync(DbSession s, long id) =>
        await FindExecutionAsync(s, id) ?? throw LineageException.NotFound($"execution {id} does not exist");

    public static async Task<IReadOnlyList<ExecutionRow>> ExecutionsAsync(DbSession s, IReadOnlyCollection<long> ids) =>
        ids.Count == 0 ? [] : (await s.Connection.QueryAsync<ExecutionRow>(
            $"{SelectExecution} WHERE {s.Dialect.InSet("x.id", "ids")}{s.Visible("x.project_id")}", new { ids = s.Dialect.Set(ids) }, s.Transaction)).ToList();

    public static async Task<IReadOnlyList<ExecutionRow>> ListExecutionsAsync(DbSession s, long? projectId, string? type, long? contextId, long? beforeId, int limit) =>
        (await s.Connection.QueryAsync<ExecutionRow>($"""
            {SelectExecution}
            WHERE (@projectId IS NULL OR x.project_id = @projectId){s.Visible("x.project_id")} AND (@type IS NULL OR x.type = @type)
              AND (@contextId IS NULL OR x.id IN (SELECT execution_id FROM context_executions WHERE context_id = @contextId))
              AND (@beforeId IS NULL OR x.id < @beforeId)
            ORDER BY x.id DESC LIMIT @limit
            """, new { projectId, type, contextId, beforeId, limit }, s.Transaction)).ToList();

    public static Task<int> UpdateExecutionAsync(DbSession s, long id, ExecutionState state, long? end) =>
        s.Connection.ExecuteAsync("""
            UPDATE executions SET state = @state, end_time = COALESCE(@end, end_time), updated_at = @now, updated_by = @by WHERE id = @id AND run_id IS NULL
            """, new { id, state = Text(state), end, now = Clock.NowMs(), by = s.Actor }, s.Transaction);

    /// <summary>Adds an event unless the very same one exists (a new one changes the execution); returns false for a repeat.</summary>
    /// <param name="touch">False when the execution was created in this transaction: its updated_at/by are already now.</param>
    public static async Task<bool> AddEventAsync(DbSession s, long executionId, long artifactId, EventKind kind, string role, long time, bool touch = true) =>
        await AddEventsAsync(s, executionId, [(artifactId, kind, role)], time, touch) == 1;

    /// <summary>Several edges of one execution in one statement, each unless the very same one exists; returns how many were new.</summary>
    public static async Task<int> AddEventsAsync(DbSession s, long executionId, IReadOnlyList<(long ArtifactId, EventKind Kind, string Role)> edges, long time,
        bool touch = true)
    {
        if (edges.Count == 0) return 0;
        var p = new DynamicParameters(new { executionId, time });
        var rows = new System.Text.StringBuilder();
        for (var i = 0; i < edges.Count; i++)
        {
            rows.Append(i == 0 ? "" : ", ").Append($"(@executionId, @a{i}, @k{i}, @r{i}, @time)");
            p.Add($"a{i}", edges[i].ArtifactId);
            p.Add($"k{i}", edges[i].Kind == EventKind.Input ? "input" : "output");
            p.Add($"r{i}", edges[i].Role);
        }
        var added = await s.Connection.ExecuteAsync($"""
            INSERT INTO lineage_events (execution_id, artifact_id, kind, role, time) VALUES {rows}
            ON CONFLICT (execution_id, artifact_id, kind, role) DO NOTHING
            """, p, s.Transaction);
        if (added > 0 && touch) await s.TouchAsync(Touched.Execution, executionId, Clock.NowMs());
        return added;
    }

    /// <summary>
    /// Nodes reachable from <paramref name="root"/> following edges downstream (artifact → consuming
    /// execution → its outputs) or upstream (artifact → producing execution → its inputs), with the
    /// fewest hops to each, up to <paramref name="maxDepth"/> hops. The graph is bipartite, so the
    /// recursive CTE steps two hops at a time from artifact to artifact through two index lookups
    /// (events by artifact, events by execution) — no OR-join, which would defeat the indexes — and
    /// the executions in between are read off the walked artifacts. Same SQL on both databases;
    /// CROSS JOIN pins SQLite's join order to "walked nodes first" (its planner otherwise may scan
    /// all events for a small walk), and PostgreSQL plans it as an ordinary inner join.
    /// </summary>
    /// <remarks>
    /// With <paramref name="visibleOnly"/> and a scoped session the walk is pruned at the project boundary: it
    /// never steps onto an execution or artifact of a project the caller cannot read, so nothing behind such a
    /// node is reached through it either. Cycle checks pass false: they must see the whole graph.
    /// </remarks>
    public static async Task<IReadOnlyList<(NodeId Node, int Depth)>> WalkAsync(DbSession s, NodeId root, bool downstream, int maxDepth,
        bool visibleOnly = true)
    {
        // Downstream: artifact -[input]-> execution -[output]-> artifact. Upstream: the reverse.
        var (first, second) = downstream ? ("input", "output") : ("output", "input");
        string Visible(string column) => visibleOnly ? s.Visible(column) : "";
        var seeds = root.Kind == NodeKind.Artifact
            ? "SELECT @id AS id, 0 AS depth"
            : $"SELECT artifact_id AS id, 1 AS depth FROM lineage_events WHERE execution_id = @id AND kind = '{second}' AND @maxDepth >= 1{Visible(ProjectOfArtifact("artifact_id"))}";
        var rows = await s.Connection.QueryAsync<(string Kind, long Id, long Depth)>($"""
            WITH RECURSIVE walk (id, depth) AS (
                {seeds}
                UNION
                SELECT o.artifact_id, w.depth + 2
                FROM walk w
                CROSS JOIN lineage_events i
                CROSS JOIN lineage_events o
                WHERE i.artifact_id = w.id AND i.kind = '{first}' AND o.execution_id = i.execution_id AND o.kind = '{second}'
                  AND w.depth + 2 <= @maxDepth{Visible(ProjectOfExecution("i.execution_id"))}{Visible(ProjectOfArtifact("o.artifact_id"))}
            ),
            arts (id, depth) AS (SELECT id, MIN(depth) FROM walk GROUP BY id)
            SELECT 'a' AS kind, id, depth FROM arts
            UNION ALL
            SELECT 'e', i.execution_id, MIN(a.depth) + 1
            FROM arts a CROSS JOIN lineage_events i
            WHERE i.artifact_id = a.id AND i.kind = '{first}' AND a.depth < @maxDepth{Visible(ProjectOfExecution("i.execution_id"))}
            GROUP BY i.execution_id
            """, new { id = root.Id, maxDepth }, s.Transaction);
        var result = rows.Select(r => (new NodeId(r.Kind == "a" ? NodeKind.Artifact : NodeKind.Execution, r.Id), (int)r.Depth)).ToList();
        if (root.Kind == NodeKind.Execution) result.Insert(0, (root, 0));
        return result;
    }

    private static string ProjectOfExecution(string id) => $"(SELECT vx.project_id FROM executions vx WHERE vx.id = {id})";

    private static string ProjectOfArtifact(string id) =>
        $"(SELECT vn.project_id FROM artifact_versions vv JOIN artifact_names vn ON vn.id = vv.name_id WHERE vv.id = {id})";

    /// <summary>Every event among the given executions (both ends are then known nodes or filtered by the caller).</summary>
    public static async Task<IReadOnlyList<EventRow>> EventsOfExecutionsAsync(DbSession s, IReadOnlyCollection<long> executionIds) =>
        executionIds.Count == 0 ? [] : (await s.Connection.QueryAsync<EventRow>(
            $"SELECT execution_id, artifact_id, kind, role, time FROM lineage_events WHERE {s.Dialect.InSet("execution_id", "ids")} ORDER BY id",
            new { ids = s.Dialect.Set(executionIds) }, s.Transaction)).ToList();

    public static Task<long?> CreateContextAsync(DbSession s, long projectId, string type, string name, long? parentId, string properties) =>
        s.Connection.QueryFirstOrDefaultAsync<long?>("""
            INSERT INTO contexts (project_id, type, name, parent_id, properties, created_at, created_by, updated_at, updated_by)
            VALUES (@projectId, @type, @name, @parentId, @properties, @now, @by, @now, @by)
            ON CONFLICT (project_id, type, name) DO NOTHING RETURNING id
            """, new { projectId, type, name, parentId, properties, now = Clock.NowMs(), by = s.Actor }, s.Transaction);

    public static async Task<Context?> FindContextAsync(DbSession s, long id) =>
        (await s.Connection.QueryFirstOrDefaultAsync<ContextRow>($"""
            SELECT c.id, p.name AS project, c.type, c.name, c.parent_id, c.properties, c.created_at, c.created_by,
                   COALESCE(c.updated_at, c.created_at) AS updated_at, c.updated_by
            FROM contexts c JOIN projects p ON p.id = c.project_id WHERE c.id = @id{s.Visible("c.project_id")}
            """, new { id }, s.Transaction))?.ToModel();

    /// <summary>Contexts newest first (keyset by id), optionally of one project, one type and one parent, within the visible projects.</summary>
    public static async Task<IReadOnlyList<Context>> ListContextsAsync(DbSession s, long? projectId, string? type, long? parentId, long? beforeId, int limit) =>
        (await s.Connection.QueryAsync<ContextRow>($"""
            SELECT c.id, p.name AS project, c.type, c.name, c.parent_id, c.properties, c.created_at, c.created_by,
                   COALESCE(c.updated_at, c.created_at) AS updated_at, c.updated_by
            FROM contexts c JOIN projects p ON p.id = c.project_id
            WHERE (@projectId IS NULL OR c.project_id = @projectId){s.Visible("c.project_id")} AND (@type IS NULL OR c.type = @type)
              AND (@parentId IS NULL OR c.parent_id = @parentId) AND (@beforeId IS NULL OR c.id < @beforeId)
            ORDER BY c.id DESC LIMIT @limit
            """, new { projectId, type, parentId, beforeId, limit }, s.Transaction)).Select(r => r.ToModel()).ToList();

    public static Task AttributeAsync(DbSession s, long contextId, long artifactId) =>
        s.Connection.ExecuteAsync("INSERT INTO context_artifacts (context_id, artifact_id) VALUES (@contextId, @artifactId) ON CONFLICT DO NOTHING",
            new { contextId, artifactId }, s.Transaction);

    public static Task AssociateAsync(DbSession s, long contextId, long executionId) =>
        s.Connection.ExecuteAsync("INSERT INTO context_executions (context_id, execution_id) VALUES (@contextId, @executionId) ON CONFLICT DO NOTHING",
            new { contextId, executionId }, s.Transaction);

    public static async Task<IReadOnlyList<long>> ContextArtifactIdsAsync(DbSession s, long contextId) =>
        (await s.Connection.QueryAsync<long>("SELECT artifact_id FROM context_artifacts WHERE context_id = @contextId ORDER BY artifact_id",
            new { contextId }, s.Transaction)).ToList();

    public static string Text(ExecutionState state) => state.ToString().ToUpperInvariant();

    public static ExecutionState ParseState(string text) => Enum.Parse<ExecutionState>(text, ignoreCase: true);

    /// <summary>The deepest walk a lineage query may ask for.</summary>
    public const int MaxDepth = 100;

    /// <summary>Advisory lock id for graph writes on PostgreSQL (lineage writes and OpenLineage ingestion take it).</summary>
    internal const long GraphLockId = 0x4c696e6547726170;

    /// <summary>Inside a write: the run's execution produced this artifact (called when registering from a run).</summary>
    internal static async Task RecordRunOutputAsync(DbSession s, long runId, long artifactId, long time)
    {
        var execution = await RunExecutionAsync(s, runId);
        await AddEventAsync(s, execution, artifactId, EventKind.Output, "output", time);
    }

}

internal sealed class ContextRow
{
    public long Id { get; set; }
    public string Project { get; set; } = "";
    public string Type { get; set; } = "";
    public string Name { get; set; } = "";
    public long? ParentId { get; set; }
    public string Properties { get; set; } = "{}";
    public long CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public long UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public Context ToModel() => new(Id, Project, Type, Name, ParentId, Properties, CreatedAt)
    {
        Provenance = new Provenance(CreatedAt, CreatedBy, UpdatedAt, UpdatedBy),
    };
}

internal sealed class ExecutionRow
{
    public long Id { get; set; }
    public string Project { get; set; } = "";
    public string Type { get; set; } = "";
    public string Name { get; set; } = "";
    public string State { get; set; } = "";
    public long? StartTime { get; set; }
    public long? EndTime { get; set; }
    public string Properties { get; set; } = "{}";
    public string? RunUuid { get; set; }
    public long CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public long UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public Execution ToModel() =>
        new(Id, Project, Type, Name, LineageAccess.ParseState(State), StartTime, EndTime, Properties, RunUuid, CreatedAt)
        {
            Provenance = new Provenance(CreatedAt, CreatedBy, UpdatedAt, UpdatedBy),
        };
}

internal sealed class EventRow
{
    public long ExecutionId { get; set; }
    public long ArtifactId { get; set; }
    public string Kind { get; set; } = "";
    public string Role { get; set; } = "";
    public long Time { get; set; }
}
