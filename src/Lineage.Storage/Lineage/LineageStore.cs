using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Lineage;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Lineage;

/// <summary>What an execution consumed or produced: an artifact version id and the role it played.</summary>
public readonly record struct EventInput(long ArtifactId, string Role);

public sealed record ImpactReport(NodeId Root, IReadOnlyList<ArtifactVersion> Artifacts, IReadOnlyList<ArtifactVersion> ModelVersions,
    IReadOnlyList<Execution> Executions, IReadOnlyList<string> Runs);

public sealed record ProvenanceReport(NodeId Root, IReadOnlyList<ArtifactVersion> Datasets, IReadOnlyList<ArtifactVersion> Code,
    IReadOnlyList<ArtifactVersion> OtherArtifacts, IReadOnlyList<Execution> Executions, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> RunParams);

/// <summary>
/// The lineage graph: executions consume (input) and produce (output) artifact versions; contexts group
/// them. Events are immutable and the graph stays acyclic: an event that would close a cycle is a 400.
/// Graph writes take a database-wide lock (PostgreSQL advisory lock; SQLite's single writer) so two
/// concurrent writers cannot close a cycle between them. Each public method is one transaction.
/// </summary>
public sealed class LineageStore(Database db)
{
    public const int MaxDepth = LineageAccess.MaxDepth;

    public Task<Execution> CreateExecutionAsync(string? project, string type, string name, ExecutionState state = ExecutionState.Running,
        string? properties = null, IReadOnlyList<EventInput>? inputs = null, IReadOnlyList<EventInput>? outputs = null,
        IReadOnlyList<long>? contextIds = null)
    {
        ArtifactRules.Type(type);
        Validate.Name(name, "name");
        var props = ArtifactRules.Metadata(properties, "properties");
        CheckEvents(inputs, "inputs");
        CheckEvents(outputs, "outputs");
        return db.WriteAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project ?? OperationContext.DefaultProject);
            var now = Clock.NowMs();
            var end = state is ExecutionState.Complete or ExecutionState.Failed or ExecutionState.Canceled or ExecutionState.Cached ? now : (long?)null;
            var id = await LineageAccess.CreateExecutionAsync(s, p.Id, type, name, state, now, end, props, null, now);
            await AddEventsAsync(s, id, inputs ?? [], outputs ?? [], now);
            foreach (var c in contextIds ?? [])
            {
                _ = await LineageAccess.FindContextAsync(s, c) ?? throw LineageException.NotFound($"context {c} does not exist");
                await LineageAccess.AssociateAsync(s, c, id);
            }
            return (await LineageAccess.RequireExecutionAsync(s, id)).ToModel();
        }, keyed: true);
    }

    /// <summary>The execution that is this run.</summary>
    public Task<Execution> ExecutionOfRunAsync(string runId)
    {
        runId = Validate.RunId(runId);
        return db.ReadAsync(async s =>
        {
            var run = await RunAccess.RequireAsync(s, runId);
            var id = await s.Connection.ExecuteScalarAsync<long?>("SELECT id FROM executions WHERE run_id = @id", new { id = run.Id })
                     ?? throw LineageException.NotFound($"run '{runId}' has no lineage yet");
            return (await LineageAccess.RequireExecutionAsync(s, id)).ToModel();
        });
    }

    public Task<Execution> GetExecutionAsync(long id) => db.ReadAsync(async s => (await LineageAccess.RequireExecutionAsync(s, id)).ToModel());

    public Task<Page<Execution>> ListExecutionsAsync(string? project, string? type, long? contextId, int limit = 100, string? pageToken = null)
    {
        Validate.PageSize(limit);
        if (type is not null) ArtifactRules.Type(type);
        var before = PageToken.DecodeOne(pageToken);
        return db.ReadAsync(async s =>
        {
            long? projectId = project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, project)).Id;
            var rows = await LineageAccess.ListExecutionsAsync(s, projectId, type, contextId, before, limit + 1);
            var page = rows.Take(limit).Select(r => r.ToModel()).ToList();
            return new Page<Execution>(page, rows.Count > limit ? PageToken.Encode(page[^1].Id) : null);
        });
    }

    /// <summary>Moves a standalone execution to a new state (a run's execution follows its run instead).</summary>
    public Task<Execution> UpdateExecutionAsync(long id, ExecutionState state) =>
        db.WriteAsync(async s =>
        {
            var row = await LineageAccess.RequireExecutionAsync(s, id);
            if (row.RunUuid is not null)
                throw LineageException.Invalid("state", $"execution {id} is run {row.RunUuid}; change the run's status instead");
            var end = state is ExecutionState.Complete or ExecutionState.Failed or ExecutionState.Canceled or ExecutionState.Cached ? Clock.NowMs() : (long?)null;
            await LineageAccess.UpdateExecutionAsync(s, id, state, end);
            return (await LineageAccess.RequireExecutionAsync(s, id)).ToModel();
        }, keyed: true);

    /// <summary>Records more inputs and outputs of an execution. Repeating an existing event is a no-op.</summary>
    public Task<Execution> AddEventsAsync(long executionId, IReadOnlyList<EventInput> inputs, IReadOnlyList<EventInput> outputs)
    {
        CheckEvents(inputs, "inputs");
        CheckEvents(outputs, "outputs");
        return db.WriteAsync(async s =>
        {
            await LineageAccess.RequireExecutionAsync(s, executionId);
            await AddEventsAsync(s, executionId, inputs, outputs, Clock.NowMs());
            return (await LineageAccess.RequireExecutionAsync(s, executionId)).ToModel();
        }, keyed: true);
    }

    /// <summary>A run consumed an artifact version (a dataset input): an input event of the run's execution.</summary>
    public Task<Execution> LogRunInputAsync(string runId, long artifactId, string role)
    {
        runId = Validate.RunId(runId);
        CheckEvents([new EventInput(artifactId, role)], "inputs");
        return db.WriteAsync(async s =>
        {
            var run = await RunAccess.RequireActiveAsync(s, runId, "log an input");
            var execution = await LineageAccess.RunExecutionAsync(s, run.Id);
            await AddEventsAsync(s, execution, [new EventInput(artifactId, role)], [], Clock.NowMs());
            return (await LineageAccess.RequireExecutionAsync(s, execution)).ToModel();
        }, keyed: true);
    }

    public Task<Context> CreateContextAsync(string? project, string type, string name, long? parentId = null, string? properties = null)
    {
        ArtifactRules.Type(type);
        Validate.Name(name, "name");
        var props = ArtifactRules.Metadata(properties, "properties");
        return db.WriteAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project ?? OperationContext.DefaultProject);
            if (parentId is { } parent && await LineageAccess.FindContextAsync(s, parent) is null)
                throw LineageException.NotFound($"parent context {parent} does not exist");
            var id = await LineageAccess.CreateContextAsync(s, p.Id, type, name, parentId, props)
                     ?? throw LineageException.AlreadyExists($"context {type} '{name}' already exists in project '{p.Name}'");
            return (await LineageAccess.FindContextAsync(s, id))!;
        }, keyed: true);
    }

    /// <summary>
    /// Contexts by type, MLMD's <c>GetContextsByType</c>: OpenLineage parent runs (<c>openlineage_run</c>), and the pipelines,
    /// experiments or other groupings clients create. Newest first; a project narrows to it, else every readable project.
    /// </summary>
    public Task<Page<Context>> ListContextsAsync(string? project, string? type, long? parentId, int limit = 100, string? pageToken = null)
    {
        Validate.PageSize(limit);
        if (type is not null) ArtifactRules.Type(type);
        var before = PageToken.DecodeOne(pageToken);
        return db.ReadAsync(async s =>
        {
            long? projectId = project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, project)).Id;
            var rows = await LineageAccess.ListContextsAsync(s, projectId, type, parentId, before, limit + 1);
            var page = rows.Take(limit).ToList();
            return new Page<Context>(page, rows.Count > limit ? PageToken.Encode(page[^1].Id) : null);
        });
    }

    public Task<Context> GetContextAsync(long id) =>
        db.ReadAsync(async s => await LineageAccess.FindContextAsync(s, id) ?? throw LineageException.NotFound($"context {id} does not exist"));

    /// <summary>Attributes artifacts and associates executions with a context.</summary>
    public Task<Context> AddToContextAsync(long contextId, IReadOnlyList<long> executionIds, IReadOnlyList<long> artifactIds) =>
        db.WriteAsync(async s =>
        {
            var context = await LineageAccess.FindContextAsync(s, contextId) ?? throw LineageException.NotFound($"context {contextId} does not exist");
            foreach (var e in executionIds)
            {
                await LineageAccess.RequireExecutionAsync(s, e);
                await LineageAccess.AssociateAsync(s, contextId, e);
            }
            foreach (var a in artifactIds)
            {
                _ = await ArtifactAccess.FindByIdAsync(s, a) ?? throw LineageException.NotFound($"artifact version with id {a} does not exist");
                await LineageAccess.AttributeAsync(s, contextId, a);
            }
            await s.TouchAsync(Touched.Context, contextId, Clock.NowMs());
            return (await LineageAccess.FindContextAsync(s, contextId))!;
        }, keyed: true);

    /// <summary>Everything in a context: its executions and the artifacts attributed to it.</summary>
    public Task<(IReadOnlyList<Execution> Executions, IReadOnlyList<ArtifactVersion> Artifacts)> ContextMembersAsync(long contextId) =>
        db.ReadAsync<(IReadOnlyList<Execution>, IReadOnlyList<ArtifactVersion>)>(async s =>
        {
            _ = await LineageAccess.FindContextAsync(s, contextId) ?? throw LineageException.NotFound($"context {contextId} does not exist");
            var executions = await LineageAccess.ListExecutionsAsync(s, null, null, contextId, null, 10_000);
            var artifacts = await LoadArtifactsAsync(s, await LineageAccess.ContextArtifactIdsAsync(s, contextId));
            return (executions.Select(e => e.ToModel()).ToList(), artifacts);
        });

    /// <summary>The subgraph around a node: its upstream and/or downstream closure up to a depth, filtered by node types.</summary>
    public Task<LineageGraph> GraphAsync(GraphQuery query)
    {
        CheckDepth(query.MaxDepth);
        return db.ReadAsync(s => LoadGraphAsync(s, query));
    }

    /// <summary>The shortest directed path between two nodes (either direction), or RESOURCE_DOES_NOT_EXIST when none.</summary>
    public Task<(IReadOnlyList<GraphNode> Nodes, IReadOnlyList<GraphEdge> Edges)> PathAsync(NodeId from, NodeId to, int maxDepth = MaxDepth)
    {
        CheckDepth(maxDepth);
        return db.ReadAsync<(IReadOnlyList<GraphNode>, IReadOnlyList<GraphEdge>)>(async s =>
        {
            foreach (var (start, end) in new[] { (from, to), (to, from) })
            {
                var graph = await LoadGraphAsync(s, new GraphQuery(start, Direction.Downstream, maxDepth));
                if (GraphAlgorithms.ShortestPath(graph.Edges, start, end) is { } path)
                {
                    var nodes = graph.Nodes.ToDictionary(n => n.Id);
                    var edges = path.Zip(path.Skip(1), (a, b) => graph.Edges.First(e => e.From == a && e.To == b)).ToList();
                    return (path.Select(n => nodes[n]).ToList(), edges);
                }
            }
            throw LineageException.NotFound($"no lineage path connects {from} and {to} within {maxDepth} hops");
        });
    }

    /// <summary>What depends on an artifact version: every downstream artifact, model version, execution and run.</summary>
    public Task<ImpactReport> ImpactAsync(long artifactId) =>
        db.ReadAsync(async s =>
        {
            var root = new NodeId(NodeKind.Artifact, artifactId);
            await RequireNodeAsync(s, root);
            var reached = (await LineageAccess.WalkAsync(s, root, downstream: true, MaxDepth)).Where(r => r.Node != root).ToList();
            var artifacts = await LoadArtifactsAsync(s, reached.Where(r => r.Node.Kind == NodeKind.Artifact).Select(r => r.Node.Id).ToList());
            var executions = (await LineageAccess.ExecutionsAsync(s, reached.Where(r => r.Node.Kind == NodeKind.Execution).Select(r => r.Node.Id).ToList()))
                .Select(e => e.ToModel()).ToList();
            return new ImpactReport(root, artifacts, artifacts.Where(a => a.Type == "model").ToList(), executions,
                executions.Where(e => e.RunId is not null).Select(e => e.RunId!).ToList());
        });

    /// <summary>What produced an artifact version: upstream datasets, code, other artifacts, executions and the params of its runs.</summary>
    public Task<ProvenanceReport> ProvenanceAsync(long artifactId) =>
        db.ReadAsync(async s =>
        {
            var root = new NodeId(NodeKind.Artifact, artifactId);
            await RequireNodeAsync(s, root);
            var reached = (await LineageAccess.WalkAsync(s, root, downstream: false, MaxDepth)).Where(r => r.Node != root).ToList();
            var artifacts = await LoadArtifactsAsync(s, reached.Where(r => r.Node.Kind == NodeKind.Artifact).Select(r => r.Node.Id).ToList());
            var executions = (await LineageAccess.ExecutionsAsync(s, reached.Where(r => r.Node.Kind == NodeKind.Execution).Select(r => r.Node.Id).ToList()))
                .Select(e => e.ToModel()).ToList();
            var runs = executions.Where(e => e.RunId is not null).Select(e => e.RunId!).ToList();
            var parameters = new Dictionary<string, IReadOnlyDictionary<string, string>>();
            foreach (var run in runs.Count == 0 ? [] : await RunAccess.LoadAsync(s, await RunRowsAsync(s, runs)))
                parameters[run.Info.RunId] = run.Params;
            return new ProvenanceReport(root, artifacts.Where(a => a.Type == "dataset").ToList(), artifacts.Where(a => a.Type == "code").ToList(),
                artifacts.Where(a => a.Type is not ("dataset" or "code")).ToList(), executions, parameters);
        });

    private static async Task<IReadOnlyList<RunRow>> RunRowsAsync(DbSession s, IReadOnlyList<string> uuids)
    {
        var rows = new List<RunRow>();
        foreach (var uuid in uuids) rows.Add(await RunAccess.RequireAsync(s, uuid));
        return rows;
    }

    private static async Task<LineageGraph> LoadGraphAsync(DbSession s, GraphQuery q)
    {
        await RequireNodeAsync(s, q.Root);
        var depth = new Dictionary<NodeId, int>();
        if (q.Direction is Direction.Downstream or Direction.Both)
            foreach (var (node, d) in await LineageAccess.WalkAsync(s, q.Root, true, q.MaxDepth)) depth[node] = d;
        if (q.Direction is Direction.Upstream or Direction.Both)
            foreach (var (node, d) in await LineageAccess.WalkAsync(s, q.Root, false, q.MaxDepth))
                depth[node] = depth.TryGetValue(node, out var other) ? Math.Min(other, d) : d;

        var artifacts = (await LoadArtifactsAsync(s, depth.Keys.Where(n => n.Kind == NodeKind.Artifact).Select(n => n.Id).ToList())).ToDictionary(a => a.Id);
        var executions = (await LineageAccess.ExecutionsAsync(s, depth.Keys.Where(n => n.Kind == NodeKind.Execution).Select(n => n.Id).ToList()))
            .ToDictionary(e => e.Id);
        var nodes = new List<GraphNode>();
        foreach (var (id, d) in depth.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key.Kind).ThenBy(kv => kv.Key.Id))
        {
            if (id.Kind == NodeKind.Artifact && artifacts.TryGetValue(id.Id, out var a))
            {
                if (id != q.Root && q.ArtifactTypes is { Count: > 0 } at && !at.Contains(a.Type)) continue;
                nodes.Add(new GraphNode(id, $"{a.Name} v{a.Version}", a.Type, d, Project: a.Project));
            }
            else if (id.Kind == NodeKind.Execution && executions.TryGetValue(id.Id, out var e))
            {
                if (id != q.Root && q.ExecutionTypes is { Count: > 0 } et && !et.Contains(e.Type)) continue;
                nodes.Add(new GraphNode(id, e.Name, e.Type, d, e.State, e.RunUuid, e.Project));
            }
        }
        var kept = nodes.Select(n => n.Id).ToHashSet();
        var edges = (await LineageAccess.EventsOfExecutionsAsync(s, executions.Keys.ToList()))
            .Select(ev => ev.Kind == "input"
                ? new GraphEdge(new NodeId(NodeKind.Artifact, ev.ArtifactId), new NodeId(NodeKind.Execution, ev.ExecutionId), ev.Role)
                : new GraphEdge(new NodeId(NodeKind.Execution, ev.ExecutionId), new NodeId(NodeKind.Artifact, ev.ArtifactId), ev.Role))
            .Where(e => kept.Contains(e.From) && kept.Contains(e.To))
            .ToList();
        return new LineageGraph(q.Root, nodes, edges);
    }

    private async Task AddEventsAsync(DbSession s, long executionId, IReadOnlyList<EventInput> inputs, IReadOnlyList<EventInput> outputs, long time)
    {
        if (inputs.Count + outputs.Count == 0) return;
        await s.Dialect.TransactionLockAsync(s, LineageAccess.GraphLockId);
        var execution = new NodeId(NodeKind.Execution, executionId);
        for (var i = 0; i < inputs.Count; i++)
        {
            var artifact = await RequireArtifactAsync(s, inputs[i].ArtifactId, $"inputs[{i}]");
            // Consuming something downstream of yourself would close a cycle.
            if ((await LineageAccess.WalkAsync(s, execution, true, MaxDepth * 10, visibleOnly: false)).Any(r => r.Node == artifact))
                throw LineageException.Invalid($"inputs[{i}]", $"execution {executionId} cannot consume {artifact}: it is downstream of the execution (a cycle)");
            await LineageAccess.AddEventAsync(s, executionId, artifact.Id, EventKind.Input, inputs[i].Role, time);
        }
        for (var i = 0; i < outputs.Count; i++)
        {
            var artifact = await RequireArtifactAsync(s, outputs[i].ArtifactId, $"outputs[{i}]");
            if ((await LineageAccess.WalkAsync(s, execution, false, MaxDepth * 10, visibleOnly: false)).Any(r => r.Node == artifact))
                throw LineageException.Invalid($"outputs[{i}]", $"execution {executionId} cannot produce {artifact}: it is upstream of the execution (a cycle)");
            await LineageAccess.AddEventAsync(s, executionId, artifact.Id, EventKind.Output, outputs[i].Role, time);
        }
    }

    private static async Task<NodeId> RequireArtifactAsync(DbSession s, long id, string field) =>
        await ArtifactAccess.FindByIdAsync(s, id) is not null
            ? new NodeId(NodeKind.Artifact, id)
            : throw new LineageException(ErrorCode.ResourceDoesNotExist, $"artifact version with id {id} does not exist", field);

    private static async Task RequireNodeAsync(DbSession s, NodeId node)
    {
        if (node.Kind == NodeKind.Artifact) await RequireArtifactAsync(s, node.Id, "node");
        else await LineageAccess.RequireExecutionAsync(s, node.Id);
    }

    private static async Task<IReadOnlyList<ArtifactVersion>> LoadArtifactsAsync(DbSession s, IReadOnlyList<long> ids)
    {
        if (ids.Count == 0) return [];
        var rows = (await s.Connection.QueryAsync<VersionRow>($"{ArtifactAccess.SelectVersion} WHERE {s.Dialect.InSet("v.id", "ids")}{s.Visible("n.project_id")} ORDER BY v.id",
            new { ids = s.Dialect.Set(ids) }, s.Transaction)).ToList();
        return await ArtifactAccess.LoadAsync(s, rows);
    }

    private static void CheckEvents(IReadOnlyList<EventInput>? events, string field)
    {
        for (var i = 0; i < (events?.Count ?? 0); i++)
            Validate.Key(events![i].Role, $"{field}[{i}].role");
    }

    private static void CheckDepth(int depth)
    {
        if (depth < 1 || depth > MaxDepth) throw LineageException.Invalid("depth", $"'depth' must be between 1 and {MaxDepth}, got {depth}");
    }
}
