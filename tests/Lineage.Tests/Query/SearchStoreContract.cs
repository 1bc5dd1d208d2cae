using System.Text;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Lineage;
using Lineage.Core.Query;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Storage.Lineage;
using Lineage.Storage.MLflow;
using Lineage.Storage.Query;
using Lineage.Tests.Storage;
using Lineage.Tests.Support;

namespace Lineage.Tests.Query;

/// <summary>Searches compiled to SQL behave the same on both databases.</summary>
public abstract class SearchStoreContract : StoreTestBase
{
    private SearchStore _search = null!;
    private MlflowStore _mlflow = null!;
    private LocalFolderBlobStore _blobs = null!;
    private long _experiment;
    private readonly Dictionary<string, string> _runs = new();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _search = new SearchStore(Db);
        _blobs = new LocalFolderBlobStore(Dir.File("blobs"));
        _mlflow = new MlflowStore(Db, _blobs);
        _experiment = (await Store.CreateExperimentAsync(null, "search")).Id;
        // name, optimizer, acc (null = not logged), team tag, start time
        (string, string, double?, string, long)[] runs =
        [
            ("adam-1", "adam", 0.91, "vision", 1000),
            ("adam-2", "adam", 0.75, "nlp", 2000),
            ("sgd-1", "sgd", 0.62, "vision", 3000),
            ("sgd-2", "sgd", 0.88, "Vision-Research", 4000),
            ("rms", "rmsprop", null, "audio", 5000),
        ];
        foreach (var (name, optimizer, acc, team, start) in runs)
        {
            var run = await Store.CreateRunAsync(_experiment, name, start, tags: new Dictionary<string, string> { ["team"] = team });
            _runs[name] = run.Info.RunId;
            await Store.LogBatchAsync(run.Info.RunId, new RunBatch(
                acc is { } a ? [new MetricPoint("acc", a, 0, 1)] : [new MetricPoint("loss", 0.3, 0, 1)],
                [new KeyValue("optimizer", optimizer)], []));
        }
    }

    private async Task<List<string>> Runs(string? filter, params string[] orderBy)
    {
        var page = await _search.SearchRunsAsync([_experiment], LifecycleFilter.Active, QueryParser.Parse(SearchTarget.Runs, filter, orderBy));
        return page.Items.Select(r => r.Run.Info.Name!).ToList();
    }

    private static List<string> Sorted(IEnumerable<string> names) => names.Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task mlflow_filters_select_the_same_runs_as_mlflow()
    {
        Assert.Equal(["adam-1", "sgd-2"], Sorted(await Runs("metrics.acc > 0.8")));
        Assert.Equal(["adam-2", "sgd-2"], Sorted(await Runs("metrics.acc >= 0.75 AND metrics.acc <= 0.9")));
        Assert.Equal(["adam-1", "adam-2"], Sorted(await Runs("params.optimizer = 'adam'")));
        Assert.Equal(["rms", "sgd-1", "sgd-2"], Sorted(await Runs("params.optimizer != 'adam'")));
        Assert.Equal(["rms"], await Runs("params.optimizer LIKE '%prop'"));
        Assert.Equal(["sgd-1", "sgd-2"], Sorted(await Runs("params.optimizer ILIKE 'SG%'")));
        Assert.Equal(["adam-2"], await Runs("metrics.acc > 0.5 AND params.optimizer = 'adam' AND tags.team = 'nlp'"));
        Assert.Equal(["sgd-1", "sgd-2"], Sorted(await Runs("attributes.run_name LIKE 'sgd%'")));
        Assert.Equal(["rms", "sgd-2"], Sorted(await Runs("attributes.start_time >= 4000")));
        Assert.Equal([_runs["adam-1"]], (await _search.SearchRunsAsync([_experiment], LifecycleFilter.Active,
            QueryParser.Parse(SearchTarget.Runs, $"attributes.run_id = '{_runs["adam-1"]}'", null))).Items.Select(r => r.Run.Info.RunId));
        Assert.Empty(await Runs("params.optimizer = 'adagrad'"));
    }

    [Fact]
    public async Task like_is_case_sensitive_and_ilike_is_not_on_both_databases()
    {
        Assert.Equal(["sgd-2"], await Runs("tags.team LIKE 'Vision%'"));
        Assert.Equal(["adam-1", "sgd-1", "sgd-2"], Sorted(await Runs("tags.team ILIKE 'vision%'")));
        // GLOB metacharacters in a LIKE pattern are plain characters.
        Assert.Empty(await Runs("tags.team LIKE 'vis*'"));
    }

    [Fact]
    public async Task or_not_parentheses_in_and_is_null_extend_mlflow()
    {
        Assert.Equal(["adam-2", "rms"], Sorted(await Runs("tags.team = 'nlp' OR params.optimizer = 'rmsprop'")));
        Assert.Equal(["adam-2", "sgd-2"], Sorted(await Runs("(params.optimizer = 'adam' OR params.optimizer = 'sgd') AND NOT tags.team = 'vision' AND metrics.acc > 0.7")));
        Assert.Equal(["adam-1", "adam-2", "rms"], Sorted(await Runs("params.optimizer IN ('adam', 'rmsprop')")));
        Assert.Equal(["sgd-1", "sgd-2"], Sorted(await Runs("params.optimizer NOT IN ('adam', 'rmsprop')")));
        Assert.Equal(["adam-1", "sgd-1"], Sorted(await Runs("metrics.acc IN (0.91, 0.62)")));
        Assert.Equal(["rms"], await Runs("metrics.acc IS NULL"));
        Assert.Equal(4, (await Runs("metrics.acc IS NOT NULL")).Count);
        Assert.Equal(["adam-1", "adam-2"], Sorted(await Runs("attributes.status IN ('RUNNING') AND params.optimizer = 'adam'")));
    }

    [Fact]
    public async Task user_text_is_always_a_value_never_sql()
    {
        Assert.Empty(await Runs("params.optimizer = 'x'' OR 1=1 --'"));
        Assert.Empty(await Runs("params.`optimizer' OR '1'='1` = 'adam'"));
        Assert.Empty(await Runs("tags.team LIKE '%''; DROP TABLE runs; --'"));
        Assert.Equal(5, (await Runs(null)).Count);
    }

    [Fact]
    public async Task order_by_takes_several_keys_and_puts_missing_values_last()
    {
        Assert.Equal(["adam-1", "sgd-2", "adam-2", "sgd-1", "rms"], await Runs(null, "metrics.acc DESC"));
        Assert.Equal(["sgd-1", "adam-2", "sgd-2", "adam-1", "rms"], await Runs(null, "metrics.acc ASC"));
        Assert.Equal(["adam-2", "adam-1", "rms", "sgd-2", "sgd-1"], await Runs(null, "params.optimizer ASC", "attributes.start_time DESC"));
        Assert.Equal(["rms", "sgd-2", "sgd-1", "adam-2", "adam-1"], await Runs(null));
        Assert.Equal(["adam-1", "adam-2", "rms", "sgd-1", "sgd-2"], await Runs(null, "attributes.run_name"));
    }

    [Fact]
    public async Task pages_cover_every_result_once_and_tokens_belong_to_their_query()
    {
        var query = QueryParser.Parse(SearchTarget.Runs, "metrics.acc > 0", ["metrics.acc DESC"]);
        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await _search.SearchRunsAsync([_experiment], LifecycleFilter.Active, query, 3, token);
            seen.AddRange(page.Items.Select(r => r.Run.Info.Name!));
            token = page.NextPageToken;
            pages++;
            if (token is not null)
            {
                var other = QueryParser.Parse(SearchTarget.Runs, "metrics.acc > 0.5", ["metrics.acc DESC"]);
                var ex = await Assert.ThrowsAsync<LineageException>(() => _search.SearchRunsAsync([_experiment], LifecycleFilter.Active, other, 3, token));
                Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
            }
        } while (token is not null);
        Assert.Equal(2, pages);
        Assert.Equal(["adam-1", "sgd-2", "adam-2", "sgd-1"], seen);
        await Assert.ThrowsAsync<LineageException>(() => _search.SearchRunsAsync([_experiment], LifecycleFilter.Active, query, 50_001));
        await Assert.ThrowsAsync<LineageException>(() => _search.SearchRunsAsync([_experiment], LifecycleFilter.Active, query, 3, "garbage"));
    }

    [Fact]
    public async Task deleted_runs_show_only_when_asked()
    {
        await Store.DeleteRunAsync(_runs["rms"]);
        Assert.Equal(4, (await Runs(null)).Count);
        var deleted = await _search.SearchRunsAsync([_experiment], LifecycleFilter.Deleted, SearchQuery.Empty);
        Assert.Equal("rms", Assert.Single(deleted.Items).Run.Info.Name);
        Assert.Equal(5, (await _search.SearchRunsAsync([_experiment], LifecycleFilter.All, SearchQuery.Empty)).Items.Count);
    }

    [Fact]
    public async Task experiments_search_by_name_tags_and_times()
    {
        await Store.SetExperimentTagAsync(_experiment, "purpose", "search");
        var byTag = await _search.SearchExperimentsAsync(LifecycleFilter.Active, QueryParser.Parse(SearchTarget.Experiments, "tags.purpose = 'search'", null));
        Assert.Equal("search", Assert.Single(byTag.Items).Experiment.Name);
        var byName = await _search.SearchExperimentsAsync(LifecycleFilter.Active,
            QueryParser.Parse(SearchTarget.Experiments, "name ILIKE 'DEF%' OR name = 'search'", ["name ASC"]));
        Assert.Equal(["Default", "search"], byName.Items.Select(e => e.Experiment.Name));
        Assert.Equal("mlflow-artifacts:/0", byName.Items[0].ArtifactLocation);
    }

    [Fact]
    public async Task artifacts_filter_on_metadata_numbers_and_text()
    {
        var artifacts = new ArtifactStore(Db, _blobs);
        async Task Register(string name, string metadata)
        {
            var blob = await _blobs.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes(name + metadata)));
            await artifacts.RegisterAsync(new ArtifactRegistration(null, name, "dataset", metadata, new ArtifactContent.File(blob.Digest, blob.Size)));
        }
        await Register("big", """{"rows": 5000, "format": "parquet"}""");
        await Register("small", """{"rows": 10, "format": "csv"}""");
        await Register("odd", """{"rows": "many", "format": "parquet"}""");

        async Task<List<string>> Find(string filter, params string[] order) =>
            (await _search.SearchArtifactsAsync(null, LifecycleFilter.Active, QueryParser.Parse(SearchTarget.Artifacts, filter, order)))
            .Items.Select(v => v.Name).ToList();

        Assert.Equal(["big"], await Find("metadata.rows > 1000"));
        Assert.Equal(["big", "odd"], Sorted(await Find("metadata.format = 'parquet'")));
        Assert.Equal(["big", "small"], await Find("type = 'dataset' AND metadata.rows IN (10, 5000)", "name"));
        Assert.Equal(["odd"], await Find("metadata.rows = 'many'"));
        Assert.Equal(["small"], await Find("metadata.rows < 100 OR name = 'nothing'"));
        Assert.Equal(["big", "odd", "small"], await Find("version = 1", "name ASC"));
    }

    [Fact]
    public async Task logged_dataset_inputs_are_lineage_edges_and_searchable()
    {
        var run = _runs["adam-1"];
        var input = new DatasetInput("flowers data", "79821e86", "http", """{"url": "https://example.com/f.csv"}""", null,
            """{"num_rows": 4}""", [new KeyValue("mlflow.data.context", "training"), new KeyValue("split", "train")]);
        await _mlflow.LogInputsAsync(run, [input]);
        await _mlflow.LogInputsAsync(run, [input]); // the same dataset again is one edge

        Assert.Equal(["adam-1"], await Runs("datasets.name = 'flowers data'"));
        Assert.Equal(["adam-1"], await Runs("datasets.context = 'training' AND datasets.digest = '79821e86'"));
        Assert.Empty(await Runs("datasets.context = 'evaluation'"));

        var view = await _search.GetRunAsync(run);
        var logged = Assert.Single(view.Inputs);
        Assert.Equal("flowers data", logged.Name);
        Assert.Contains(new KeyValue("split", "train"), logged.Tags);
        Assert.Contains(new KeyValue("mlflow.data.context", "training"), logged.Tags);

        var dataset = Assert.Single((await _search.SearchArtifactsAsync(null, LifecycleFilter.Active,
            QueryParser.Parse(SearchTarget.Artifacts, "type = 'dataset' AND metadata.rows >= 4", null))).Items);
        var lineage = new LineageStore(Db);
        var execution = await lineage.ExecutionOfRunAsync(run);
        var graph = await lineage.GraphAsync(new GraphQuery(new NodeId(NodeKind.Artifact, dataset.Id), Direction.Downstream, 1));
        var edge = Assert.Single(graph.Edges);
        Assert.Equal(new NodeId(NodeKind.Execution, execution.Id), edge.To);
        Assert.Equal("training", edge.Role);
    }
}

public sealed class SearchStoreSqliteTests : SearchStoreContract
{
    protected override string NewTarget(TempDir dir) => dir.File($"search-{Guid.NewGuid():N}.db");
}

public sealed class SearchStorePostgresTests : SearchStoreContract
{
    protected override string NewTarget(TempDir dir) => PostgresTarget.CreateDatabase();
}
