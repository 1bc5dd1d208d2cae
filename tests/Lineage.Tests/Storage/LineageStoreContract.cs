using System.Text;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Lineage;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Storage.Lineage;
using Lineage.Tests.Support;

namespace Lineage.Tests.Storage;

/// <summary>The lineage graph on each database: capture, traversal, impact, provenance, acyclicity.</summary>
public abstract class LineageStoreContract : StoreTestBase
{
    private ArtifactStore _artifacts = null!;
    private LineageStore _lineage = null!;
    private LocalFolderBlobStore _blobs = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _blobs = new LocalFolderBlobStore(Dir.File("blobs"));
        _artifacts = new ArtifactStore(Db, _blobs);
        _lineage = new LineageStore(Db);
    }

    private async Task<ArtifactVersion> Register(string name, string type, string? runId = null)
    {
        var blob = await _blobs.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes(name + Guid.NewGuid())));
        return await _artifacts.RegisterAsync(new ArtifactRegistration(null, name, type, null, new ArtifactContent.File(blob.Digest, blob.Size), RunId: runId));
    }

    /// <summary>raw dataset → [training run] → model → [evaluate] → report; code → [training run].</summary>
    private async Task<(ArtifactVersion Raw, ArtifactVersion Code, Run Run, ArtifactVersion Model, Execution Evaluate, ArtifactVersion Report)> Pipeline()
    {
        var raw = await Register("raw-sales", "dataset");
        var code = await Register("train-code", "code");
        var run = await Store.CreateRunAsync(0, "train");
        await Store.LogBatchAsync(run.Info.RunId, new RunBatch([], [new KeyValue("lr", "0.1")], []));
        await _lineage.LogRunInputAsync(run.Info.RunId, raw.Id, "training_data");
        await _lineage.LogRunInputAsync(run.Info.RunId, code.Id, "code");
        var model = await Register("churn-model", "model", run.Info.RunId);
        var report = await Register("eval-report", "report");
        var evaluate = await _lineage.CreateExecutionAsync(null, "evaluation", "evaluate churn", ExecutionState.Complete,
            inputs: [new EventInput(model.Id, "model")], outputs: [new EventInput(report.Id, "report")]);
        return (raw, code, run, model, evaluate, report);
    }

    [Fact]
    public async Task a_run_is_an_execution_and_registering_from_it_records_the_output_edge()
    {
        var p = await Pipeline();
        var runs = await _lineage.ListExecutionsAsync(null, "run", null);
        var runExecution = Assert.Single(runs.Items, e => e.RunId == p.Run.Info.RunId);
        Assert.Equal(ExecutionState.Running, runExecution.State);
        await Store.UpdateRunAsync(p.Run.Info.RunId, new RunUpdate(RunStatus.Finished));
        Assert.Equal(ExecutionState.Complete, (await _lineage.GetExecutionAsync(runExecution.Id)).State);

        var graph = await _lineage.GraphAsync(new GraphQuery(new NodeId(NodeKind.Artifact, p.Model.Id), Direction.Upstream, 1));
        var edge = Assert.Single(graph.Edges);
        Assert.Equal((new NodeId(NodeKind.Execution, runExecution.Id), new NodeId(NodeKind.Artifact, p.Model.Id), "output"), (edge.From, edge.To, edge.Role));
    }

    [Fact]
    public async Task downstream_and_upstream_closures_follow_the_edges_with_depth_and_type_filters()
    {
        var p = await Pipeline();
        var down = await _lineage.GraphAsync(new GraphQuery(new NodeId(NodeKind.Artifact, p.Raw.Id), Direction.Downstream));
        Assert.Equal(["raw-sales v1", "train", "churn-model v1", "evaluate churn", "eval-report v1"], down.Nodes.Select(n => n.Label));
        Assert.Equal([0, 1, 2, 3, 4], down.Nodes.Select(n => n.Depth));
        Assert.Equal(4, down.Edges.Count);

        var shallow = await _lineage.GraphAsync(new GraphQuery(new NodeId(NodeKind.Artifact, p.Raw.Id), Direction.Downstream, 2));
        Assert.Equal(3, shallow.Nodes.Count);

        var up = await _lineage.GraphAsync(new GraphQuery(new NodeId(NodeKind.Artifact, p.Report.Id), Direction.Upstream, ArtifactTypes: ["dataset"]));
        Assert.Contains(up.Nodes, n => n.Label == "raw-sales v1");
        Assert.DoesNotContain(up.Nodes, n => n.Label.StartsWith("train-code") || n.Label.StartsWith("churn-model"));

        var both = await _lineage.GraphAsync(new GraphQuery(new NodeId(NodeKind.Artifact, p.Model.Id)));
        Assert.Equal(6, both.Nodes.Count);
    }

    [Fact]
    public async Task impact_lists_the_runs_and_model_versions_that_depend_on_a_dataset_version()
    {
        var p = await Pipeline();
        var impact = await _lineage.ImpactAsync(p.Raw.Id);
        Assert.Equal([p.Run.Info.RunId], impact.Runs);
        Assert.Equal(["churn-model"], impact.ModelVersions.Select(m => m.Name));
        Assert.Equal(["churn-model", "eval-report"], impact.Artifacts.Select(a => a.Name));
        Assert.Equal(2, impact.Executions.Count);
    }

    [Fact]
    public async Task provenance_lists_datasets_code_params_and_executions_behind_a_model_version()
    {
        var p = await Pipeline();
        var provenance = await _lineage.ProvenanceAsync(p.Model.Id);
        Assert.Equal(["raw-sales"], provenance.Datasets.Select(d => d.Name));
        Assert.Equal(["train-code"], provenance.Code.Select(d => d.Name));
        Assert.Equal("0.1", provenance.RunParams[p.Run.Info.RunId]["lr"]);
        Assert.Single(provenance.Executions);
    }

    [Fact]
    public async Task the_path_between_two_nodes_is_found_in_either_direction()
    {
        var p = await Pipeline();
        var (nodes, edges) = await _lineage.PathAsync(new NodeId(NodeKind.Artifact, p.Report.Id), new NodeId(NodeKind.Artifact, p.Raw.Id));
        Assert.Equal(["raw-sales v1", "train", "churn-model v1", "evaluate churn", "eval-report v1"], nodes.Select(n => n.Label));
        Assert.Equal(["training_data", "output", "model", "report"], edges.Select(e => e.Role));
        var lonely = await Register("lonely", "dataset");
        await Assert.ThrowsAnyAsync<LineageException>(() => _lineage.PathAsync(new NodeId(NodeKind.Artifact, lonely.Id), new NodeId(NodeKind.Artifact, p.Raw.Id)));
    }

    [Fact]
    public async Task an_event_that_would_close_a_cycle_is_rejected_and_changes_nothing()
    {
        var p = await Pipeline();
        var ex = await Assert.ThrowsAnyAsync<LineageException>(() => _lineage.LogRunInputAsync(p.Run.Info.RunId, p.Report.Id, "feedback"));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        Assert.Contains("cycle", ex.Message);
        ex = await Assert.ThrowsAnyAsync<LineageException>(() => _lineage.AddEventsAsync(p.Evaluate.Id, [], [new EventInput(p.Raw.Id, "oops")]));
        Assert.Contains("cycle", ex.Message);
        var down = await _lineage.GraphAsync(new GraphQuery(new NodeId(NodeKind.Artifact, p.Raw.Id), Direction.Downstream));
        Assert.Equal(4, down.Edges.Count);
    }

    [Fact]
    public async Task contexts_group_executions_and_artifacts_and_nest()
    {
        var p = await Pipeline();
        var release = await _lineage.CreateContextAsync(null, "release", "2026.11");
        var pipelineRun = await _lineage.CreateContextAsync(null, "pipeline_run", "nightly-42", release.Id);
        Assert.Equal(release.Id, pipelineRun.ParentId);
        await _lineage.AddToContextAsync(pipelineRun.Id, [p.Evaluate.Id], [p.Model.Id, p.Report.Id]);
        var (executions, artifacts) = await _lineage.ContextMembersAsync(pipelineRun.Id);
        Assert.Equal([p.Evaluate.Id], executions.Select(e => e.Id));
        Assert.Equal(["churn-model", "eval-report"], artifacts.Select(a => a.Name));
        Assert.Equal([p.Evaluate.Id], (await _lineage.ListExecutionsAsync(null, null, pipelineRun.Id)).Items.Select(e => e.Id));
        await Assert.ThrowsAnyAsync<LineageException>(() => _lineage.CreateContextAsync(null, "release", "2026.11"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task closures_match_an_in_memory_reference_on_random_dags(int seed)
    {
        // A random layered DAG: 40 artifacts, 25 executions, each consuming 1-3 earlier artifacts and producing 1-2 later ones.
        var random = new Random(seed);
        var artifacts = new List<ArtifactVersion>();
        for (var i = 0; i < 40; i++) artifacts.Add(await Register($"a{i}", "dataset"));
        var edges = new List<(NodeId From, NodeId To)>();
        for (var e = 0; e < 25; e++)
        {
            var cut = random.Next(5, 35);
            var inputs = Enumerable.Range(0, random.Next(1, 4)).Select(_ => artifacts[random.Next(0, cut)]).DistinctBy(a => a.Id).ToList();
            var outputs = Enumerable.Range(0, random.Next(1, 3)).Select(_ => artifacts[random.Next(cut, 40)]).DistinctBy(a => a.Id).ToList();
            var x = await _lineage.CreateExecutionAsync(null, "step", $"x{e}", ExecutionState.Complete,
                inputs: inputs.Select(a => new EventInput(a.Id, "in")).ToList(), outputs: outputs.Select(a => new EventInput(a.Id, "out")).ToList());
            var xn = new NodeId(NodeKind.Execution, x.Id);
            edges.AddRange(inputs.Select(a => (new NodeId(NodeKind.Artifact, a.Id), xn)));
            edges.AddRange(outputs.Select(a => (xn, new NodeId(NodeKind.Artifact, a.Id))));
        }

        // Reference: breadth-first search in memory, fewest hops per node.
        static Dictionary<NodeId, int> Reference(List<(NodeId From, NodeId To)> edges, NodeId root, bool downstream, int maxDepth)
        {
            var next = downstream ? edges.ToLookup(e => e.From, e => e.To) : edges.ToLookup(e => e.To, e => e.From);
            var depth = new Dictionary<NodeId, int> { [root] = 0 };
            var queue = new Queue<NodeId>([root]);
            while (queue.Count > 0)
            {
                var n = queue.Dequeue();
                if (depth[n] == maxDepth) continue;
                foreach (var m in next[n])
                    if (depth.TryAdd(m, depth[n] + 1)) queue.Enqueue(m);
            }
            return depth;
        }

        foreach (var a in artifacts.Where((_, i) => i % 4 == 0))
            foreach (var (downstream, maxDepth) in new[] { (true, 20), (false, 20), (true, 2), (false, 3) })
            {
                var root = new NodeId(NodeKind.Artifact, a.Id);
                var expected = Reference(edges, root, downstream, maxDepth);
                var graph = await _lineage.GraphAsync(new GraphQuery(root, downstream ? Direction.Downstream : Direction.Upstream, maxDepth));
                Assert.Equal(expected.OrderBy(kv => kv.Key.ToString()).Select(kv => (kv.Key, kv.Value)),
                    graph.Nodes.OrderBy(n => n.Id.ToString()).Select(n => (n.Id, n.Depth)));
            }
    }

    [Fact]
    public async Task graphs_export_as_dot_and_mermaid()
    {
        var p = await Pipeline();
        var graph = await _lineage.GraphAsync(new GraphQuery(new NodeId(NodeKind.Artifact, p.Raw.Id), Direction.Downstream));
        var dot = GraphAlgorithms.ToDot(graph);
        Assert.StartsWith("digraph lineage {", dot);
        Assert.Contains($"\"artifact:{p.Raw.Id}\" -> \"execution:", dot);
        Assert.Contains("label=\"training_data\"", dot);
        var mermaid = GraphAlgorithms.ToMermaid(graph);
        Assert.StartsWith("graph LR\n", mermaid);
        Assert.Contains($"a{p.Raw.Id}[\"raw-sales v1 (dataset)\"]", mermaid);
        Assert.Contains("-->|training_data|", mermaid);
    }
}

public sealed class LineageStoreSqliteTests : LineageStoreContract
{
    protected override string NewTarget(TempDir dir) => dir.File($"lin-{Guid.NewGuid():N}.db");
}

public sealed class LineageStorePostgresTests : LineageStoreContract
{
    protected override string NewTarget(TempDir dir) => PostgresTarget.CreateDatabase();
}
