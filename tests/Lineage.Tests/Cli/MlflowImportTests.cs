using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Cli.Import;
using Lineage.Core.Contracts.V1;
using Lineage.Tests.Support;

namespace Lineage.Tests.Cli;

/// <summary>
/// `lineage import mlflow` (issue 12, part 2): a second Lineage server is the MLflow source, filled through its
/// MLflow REST API the way the MLflow client fills one (dataset input taken from the recorded MLflow 2.12 traffic);
/// the import goes into the first server, in process.
/// </summary>
public sealed class MlflowImportTests : IAsyncLifetime
{
    private TestServer _source = null!;
    private TestServer _target = null!;
    private readonly TempDir _dir = new();
    private string Journal => _dir.File("mlflow.journal");
    private string SourceUrl => _source.Address.AbsoluteUri.TrimEnd('/');

    public async Task InitializeAsync()
    {
        _source = await TestServer.StartAsync();
        _target = await TestServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _target.DisposeAsync();
        _dir.Dispose();
    }

    private Task<(int Code, string Out, string Err)> Import(params string[] more) =>
        InProcessCli.RunAsync(["import", "mlflow", "--from", SourceUrl, "--server", _target.Address.ToString(), "--state", Journal, .. more]);

    private async Task<JsonNode> ImportJson(params string[] more)
    {
        var (code, stdout, stderr) = await Import([.. more, "--json"]);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        return JsonNode.Parse(stdout)!;
    }

    private async Task<JsonNode> Ml(string route, object body)
    {
        using var response = await _source.Http.PostAsJsonAsync($"/api/2.0/mlflow/{route}", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{route}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text.Length == 0 ? "{}" : text)!;
    }

    private async Task PutArtifact(string root, string path, byte[] bytes)
    {
        using var response = await _source.Http.PutAsync($"/api/2.0/mlflow-artifacts/artifacts/{root["mlflow-artifacts:/".Length..]}/{path}",
            new ByteArrayContent(bytes));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The dataset input the MLflow 2.12 client sent in the recorded traffic.</summary>
    private static JsonNode RecordedDatasetInput()
    {
        var line = File.ReadLines(Path.Combine(RecordedFixtures.Root, "mlflow", "runs.jsonl"))
            .First(l => l.Contains("\"/api/2.0/mlflow/runs/log-inputs\"", StringComparison.Ordinal));
        return JsonNode.Parse(line)!["request"]!["json"]!["datasets"]![0]!.DeepClone();
    }

    private static readonly byte[] ModelFile = Encoding.UTF8.GetBytes("artifact_path: model\nflavors:\n  python_function: {}\n");
    private static readonly byte[] Weights = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 31)).ToArray();

    private sealed record Source(string ExperimentId, string Parent, string Child, string ParentRoot);

    private static object Tag(string key, string value) => new { key, value };

    /// <summary>An experiment with a trained parent run (params, two metric series with NaN, a dataset, model files), a failed child, and a registered model.</summary>
    private async Task<Source> FillSourceAsync()
    {
        var exp = Str(await Ml("experiments/create", new { name = "churn", tags = new[] { Tag("team", "ml") } }), "experiment_id");
        var parent = (await Ml("runs/create", new { experiment_id = exp, run_name = "train", start_time = 1_700_000_000_000, user_id = "ana",
            tags = new[] { Tag("stage", "dev") } }))["run"]!["info"]!;
        var parentId = Str(parent, "run_id");
        var root = Str(parent, "artifact_uri");
        await Ml("runs/log-batch", new
        {
            run_id = parentId,
            @params = Enumerable.Range(0, 10).Select(i => new { key = $"p{i}", value = $"v{i}" }).ToArray(),
            metrics = Enumerable.Range(0, 150).Select(i => new { key = "loss", value = (object)(i == 7 ? "NaN" : 1.0 / (i + 1)), timestamp = 1_700_000_000_000L + i, step = i })
                .Concat(Enumerable.Range(0, 3).Select(i => new { key = "acc", value = (object)(0.5 + i / 10.0), timestamp = 1_700_000_000_500L, step = i * 10 }))
                .ToArray(),
        });
        var input = RecordedDatasetInput();
        await Ml("runs/log-inputs", new JsonObject { ["run_id"] = parentId, ["datasets"] = new JsonArray(input) });
        await PutArtifact(root, "model/MLmodel", ModelFile);
        await PutArtifact(root, "model/model.pkl", Weights);
        await PutArtifact(root, "notes/empty.txt", []);
        await Ml("runs/update", new { run_id = parentId, status = "FINISHED", end_time = 1_700_000_360_000 });

        var child = Str((await Ml("runs/create", new { experiment_id = exp, run_name = "fold-1", start_time = 1_700_000_100_000,
            tags = new[] { Tag("mlflow.parentRunId", parentId) } }))["run"]!["info"]!, "run_id");
        await Ml("runs/log-metric", new { run_id = child, key = "loss", value = 0.3, timestamp = 1_700_000_100_001, step = 0 });
        await Ml("runs/update", new { run_id = child, status = "FAILED", end_time = 1_700_000_100_500 });

        await Ml("registered-models/create", new { name = "churn-model", description = "predicts churn", tags = new[] { Tag("owner", "ana") } });
        await Ml("model-versions/create", new { name = "churn-model", source = $"runs:/{parentId}/model", run_id = parentId, description = "first",
            tags = new[] { Tag("validated", "yes") } });
        await Ml("model-versions/create", new { name = "churn-model", source = $"{root}/model", run_id = parentId });
        await Ml("model-versions/transition-stage", new { name = "churn-model", version = "1", stage = "Production", archive_existing_versions = false });
        await Ml("registered-models/alias", new { name = "churn-model", alias = "champion", version = "2" });
        return new Source(exp, parentId, child, root);
    }

    private static string Str(JsonNode node, string field) => node[field]!.GetValue<string>();

    private async Task<RunDto> TargetRun(string sourceRunId, string experimentName = "churn")
    {
        var experiment = await _target.Client.GetExperimentByNameAsync(experimentName);
        var runs = (await _target.Client.ListRunsAsync([experiment.Id], lifecycle: "all", limit: 1000)).Runs
            .Where(r => r.Tags.GetValueOrDefault(MlflowImporter.RunIdTag) == sourceRunId).ToList();
        return Assert.Single(runs);
    }

    private static List<(long Step, long Timestamp, string Value)> Points(IEnumerable<HistoryPointDto> points) =>
        points.Select(p => (p.Step, p.Timestamp, p.Value.ToString("R"))).ToList();

    [Fact]
    public async Task everything_arrives_with_its_lineage_and_a_second_import_adds_nothing()
    {
        var src = await FillSourceAsync();
        var report = await ImportJson();
        Assert.Empty(report["failed"]!.AsArray());
        Assert.Equal(2, (int)report["runsCreated"]!);
        Assert.Equal(3, (int)report["artifactFiles"]!);

        // Experiment with its tags and its MLflow id.
        var experiment = await _target.Client.GetExperimentByNameAsync("churn");
        Assert.Equal("ml", experiment.Tags["team"]);
        Assert.Equal(src.ExperimentId, experiment.Tags[MlflowImporter.ExperimentIdTag]);
        Assert.Equal(SourceUrl, experiment.Tags[MlflowImporter.SourceTag]);

        // Runs: times, status, user, params, tags, every metric point, the parent link.
        var parent = await TargetRun(src.Parent);
        Assert.NotEqual(src.Parent, parent.RunId);
        Assert.Equal("train", parent.Name);
        Assert.Equal("FINISHED", parent.Status, ignoreCase: true);
        Assert.Equal(1_700_000_000_000, parent.StartTime);
        Assert.Equal(1_700_000_360_000, parent.EndTime);
        Assert.Equal("ana", parent.User);
        Assert.Equal(10, parent.Params.Count);
        Assert.Equal("v3", parent.Params["p3"]);
        Assert.Equal("dev", parent.Tags["stage"]);
        foreach (var key in new[] { "loss", "acc" })
        {
            var expected = await _source.Client.GetFullMetricHistoryAsync(src.Parent, key);
            var actual = await _target.Client.GetFullMetricHistoryAsync(parent.RunId, key);
            Assert.Equal(Points(expected), Points(actual));
        }
        Assert.True(double.IsNaN((await _target.Client.GetFullMetricHistoryAsync(parent.RunId, "loss"))[7].Value));
        var child = await TargetRun(src.Child);
        Assert.Equal(parent.RunId, child.ParentRunId);
        Assert.Equal(parent.RunId, child.Tags["mlflow.parentRunId"]);
        Assert.Equal("FAILED", child.Status, ignoreCase: true);

        // Artifact files, byte for byte, in the target's artifact proxy.
        var listed = JsonNode.Parse(await _target.Http.GetStringAsync($"/api/2.0/mlflow/artifacts/list?run_id={parent.RunId}&path=model"))!;
        Assert.Equal(2, listed["files"]!.AsArray().Count);
        Assert.Equal(Weights, await _target.Http.GetByteArrayAsync($"/get-artifact?path=model/model.pkl&run_uuid={parent.RunId}"));

        // Dataset input → run → model version: the graph MLflow's data implies.
        var datasets = await _target.Client.ListArtifactsAsync(type: "dataset");
        var dataset = Assert.Single(datasets.Artifacts);
        Assert.Equal("flowers", dataset.Name);
        var impact = await _target.Client.GetImpactAsync(dataset.Id);
        Assert.Contains(parent.RunId, impact.Runs);

        // Registry: description, tags, versions linked to the imported run, stage and alias.
        var model = await _target.Client.GetModelAsync("churn-model");
        Assert.Equal("predicts churn", model.Description);
        Assert.Equal("ana", model.Tags["owner"]);
        Assert.Equal(2, model.Aliases["champion"]);
        var v1 = await _target.Client.GetModelVersionAsync("churn-model", "1");
        Assert.Equal("Production", v1.Stage);
        Assert.Equal("first", v1.Description);
        Assert.Equal("yes", v1.Tags["validated"]);
        Assert.Equal(parent.RunId, v1.RunId);
        Assert.Equal("1", v1.Tags[MlflowImporter.VersionTag]);
        var v2 = await _target.Client.GetModelVersionAsync("churn-model", "champion");
        Assert.Equal(2, v2.Version);
        Assert.Equal(parent.RunId, v2.RunId);
        Assert.NotEqual("external", v2.Artifact.Kind); // the model files were imported: not a pointer back to MLflow
        Assert.NotEmpty((await _target.Client.GetImpactAsync(dataset.Id)).ModelVersions);

        // Again: nothing new, nothing written.
        var again = await ImportJson();
        Assert.Equal(0, (int)again["runsCreated"]! + (int)again["runsUpdated"]!);
        Assert.Equal(2, (int)again["runsUnchanged"]!);
        Assert.Equal(0, (int)again["versionsCreated"]! + (int)again["aliasesSet"]! + (int)again["stageChanges"]!);

        // Without the journal every run is compared with the target: still nothing is written twice.
        File.Delete(Journal);
        var rechecked = await ImportJson();
        Assert.Equal(0, (int)rechecked["runsCreated"]!);
        Assert.Equal(0, (long)rechecked["metricPoints"]! + (long)rechecked["params"]! + (long)rechecked["artifactFiles"]!);
        Assert.Equal(Points(await _source.Client.GetFullMetricHistoryAsync(src.Parent, "loss")),
            Points(await _target.Client.GetFullMetricHistoryAsync(parent.RunId, "loss")));
        Assert.Equal(2, (await _target.Client.ListRunsAsync([experiment.Id], lifecycle: "all")).Runs.Count);
        Assert.Equal(2, (await _target.Client.SearchModelVersionsAsync("churn-model")).Versions.Count);
    }

    [Fact]
    public async Task a_later_import_picks_up_new_runs_and_new_points_only()
    {
        var src = await FillSourceAsync();
        await ImportJson();
        await Ml("runs/log-metric", new { run_id = src.Child, key = "loss", value = 0.2, timestamp = 1_700_000_100_002, step = 1 });
        var late = Str((await Ml("runs/create", new { experiment_id = src.ExperimentId, run_name = "late" }))["run"]!["info"]!, "run_id");
        await Ml("runs/log-parameter", new { run_id = late, key = "lr", value = "0.1" });

        var report = await ImportJson();
        Assert.Equal(1, (int)report["runsCreated"]!);
        Assert.Equal(1, (int)report["runsUpdated"]!);
        Assert.Equal(1, (int)report["runsUnchanged"]!);
        Assert.Equal(1, (long)report["metricPoints"]!);
        Assert.Equal("0.1", (await TargetRun(late)).Params["lr"]);
        Assert.Equal([0.3, 0.2], (await _target.Client.GetFullMetricHistoryAsync((await TargetRun(src.Child)).RunId, "loss")).Select(p => p.Value));
    }

    [Fact]
    public async Task an_interrupted_import_resumes_without_duplicating_a_point()
    {
        var src = await FillSourceAsync();
        // What an import stopped mid-run leaves: the experiment, the run with its MLflow id, some params and the first
        // 40 points of one series — and a journal whose last line was torn by the crash.
        var experiment = await _target.Client.CreateExperimentAsync("churn");
        var partial = await _target.Client.CreateRunAsync(new CreateRunRequest(experiment.Id, "train", 1_700_000_000_000,
            Tags: new() { [MlflowImporter.RunIdTag] = src.Parent, [MlflowImporter.SourceTag] = SourceUrl }));
        var history = await _source.Client.GetFullMetricHistoryAsync(src.Parent, "loss");
        await _target.Client.LogBatchAsync(partial.RunId, new BatchRequest(
            history.Take(40).Select(p => new LogMetricRequest("loss", p.Value, p.Step, p.Timestamp)).ToList(),
            [new KeyValueDto("p0", "v0"), new KeyValueDto("p1", "v1")]));
        var identity = $"{SourceUrl} -> {_target.Address.AbsoluteUri.TrimEnd('/')} project default";
        await File.WriteAllTextAsync(Journal, $"{{\"kind\":\"source\",\"source\":\"{identity}\"}}\n{{\"kind\":\"run\",\"sou");

        var report = await ImportJson();
        Assert.Equal(1, (int)report["runsUpdated"]!);
        Assert.Equal(1, (int)report["runsCreated"]!);
        var run = await TargetRun(src.Parent);
        Assert.Equal(partial.RunId, run.RunId);
        Assert.Equal(10, run.Params.Count);
        Assert.Equal(Points(history), Points(await _target.Client.GetFullMetricHistoryAsync(run.RunId, "loss")));
        Assert.Equal("FINISHED", run.Status, ignoreCase: true);
    }

    [Fact]
    public async Task an_experiment_filter_limits_the_import_and_an_unknown_one_is_an_error()
    {
        await FillSourceAsync();
        await Ml("experiments/create", new { name = "other" });
        var report = await ImportJson("--experiments", "churn", "--no-models");
        Assert.Equal(1, (int)report["experiments"]!);
        Assert.Equal(0, (int)report["models"]!);
        await Assert.ThrowsAsync<Lineage.Client.LineageApiException>(() => _target.Client.GetExperimentByNameAsync("other"));

        var (code, _, err) = await Import("--experiments", "nope");
        Assert.Equal(1, code);
        Assert.Contains("--experiments", err);
        var (badCode, _, badErr) = await InProcessCli.RunAsync("import", "mlflow", "--from", "ftp://x", "--server", _target.Address.ToString());
        Assert.Equal(1, badCode);
        Assert.Contains("--from", badErr);
    }

    [Fact]
    public async Task histories_of_many_runs_are_read_in_bulk_and_arrive_complete()
    {
        var exp = Str(await Ml("experiments/create", new { name = "sweep" }), "experiment_id");
        var runs = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var run = Str((await Ml("runs/create", new { experiment_id = exp, run_name = $"trial-{i}", start_time = 1_700_000_000_000 + i }))["run"]!["info"]!, "run_id");
            await Ml("runs/log-batch", new
            {
                run_id = run,
                metrics = Enumerable.Range(0, 30).Select(s => new { key = "a", value = (object)(s == 3 ? "-Infinity" : s * 0.5 + i), timestamp = 1_700_000_000_000L + s, step = s })
                    .Concat(Enumerable.Range(0, i % 2 == 0 ? 4 : 0).Select(s => new { key = "b", value = (object)(double)s, timestamp = 1_700_000_000_000L, step = s }))
                    .ToArray(),
            });
            runs.Add(run);
        }
        var report = await ImportJson("--experiments", "sweep", "--parallel", "1", "--no-models");
        Assert.Equal(5, (int)report["runsCreated"]!);
        Assert.Equal(5 * 30 + 3 * 4, (long)report["metricPoints"]!);
        foreach (var run in runs)
        {
            var target = await TargetRun(run, "sweep");
            foreach (var key in new[] { "a", "b" })
                Assert.Equal(Points(await _source.Client.GetFullMetricHistoryAsync(run, key)), Points(await _target.Client.GetFullMetricHistoryAsync(target.RunId, key)));
        }
        // The same source into another project of the same server: a second, complete copy (not a replay of the first).
        await _target.Client.CreateProjectAsync("copy");
        var copy = await InProcessCli.RunAsync("import", "mlflow", "--from", SourceUrl, "--server", _target.Address.ToString(), "--state",
            _dir.File("copy.journal"), "--experiments", "sweep", "--project", "copy", "--no-models", "--json");
        Assert.True(copy.Code == 0, copy.Out + copy.Err);
        Assert.Equal(5, (int)JsonNode.Parse(copy.Out)!["runsCreated"]!);
        // A journal of another import is refused rather than trusted.
        var wrong = await InProcessCli.RunAsync("import", "mlflow", "--from", SourceUrl, "--server", _target.Address.ToString(), "--state",
            Journal, "--experiments", "sweep", "--project", "copy");
        Assert.Equal(1, wrong.Code);
        Assert.Contains("--state", wrong.Err);

        // The source was asked once per key for all five runs, not once per run and key.
        var served = await _source.Http.GetStringAsync("/metrics");
        Assert.Contains("get-history-bulk", served);
    }
}
