using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Storage.Artifacts;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Tests.MLflow;

/// <summary>MLflow REST behaviour beyond the recording: one store with the native API, limits, the artifact proxy.</summary>
public abstract class MlflowApiTests : IAsyncLifetime
{
    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    /// <summary>The artifact proxy on S3 (issue 13): the same tests with the artifacts in a bucket.</summary>
    protected virtual bool S3 => false;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Postgres, s3: S3);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Post(string path, object body)
    {
        using var response = await Server.Http.PostAsync(path,
            new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private async Task<JsonNode> Get(string path) => JsonNode.Parse(await Server.Http.GetStringAsync(path))!;

    private async Task<string> CreateRun(string experimentId = "0", string name = "r")
    {
        var (status, body) = await Post("/api/2.0/mlflow/runs/create", new { experiment_id = experimentId, run_name = name, start_time = 1000 });
        Assert.Equal(HttpStatusCode.OK, status);
        return (string)body!["run"]!["info"]!["run_id"]!;
    }

    [Fact]
    public async Task an_mlflow_run_is_the_native_run_with_the_same_params_metrics_and_tags()
    {
        var runId = await CreateRun(name: "shared");
        var (status, _) = await Post("/api/2.0/mlflow/runs/log-batch", new
        {
            run_id = runId,
            metrics = new object[] { new { key = "loss", value = 0.5, timestamp = 10, step = 1 }, new { key = "loss", value = "NaN", timestamp = 11, step = 2 } },
            @params = new[] { new { key = "lr", value = "0.1" } },
            tags = new[] { new { key = "team", value = "ml" } },
        });
        Assert.Equal(HttpStatusCode.OK, status);

        var native = await Get($"/api/v1/runs/{runId}");
        Assert.Equal("shared", (string?)native["name"]);
        Assert.Equal("0.1", (string?)native["params"]!["lr"]);
        Assert.Equal("ml", (string?)native["tags"]!["team"]);
        var history = await Get($"/api/v1/runs/{runId}/metrics/history?key=loss");
        Assert.Equal(2, history["points"]!.AsArray().Count);

        // …and what the native API writes, MLflow reads.
        using var patch = await Server.Http.PatchAsync($"/api/v1/runs/{runId}", new StringContent("""{"status":"FINISHED"}""", Encoding.UTF8, "application/json"));
        Assert.True(patch.IsSuccessStatusCode);
        var run = await Get($"/api/2.0/mlflow/runs/get?run_id={runId}");
        Assert.Equal("FINISHED", (string?)run["run"]!["info"]!["status"]);
        Assert.Equal("NaN", (string?)run["run"]!["data"]!["metrics"]![0]!["value"]);
    }

    [Fact]
    public async Task log_batch_enforces_mlflow_limits_and_writes_nothing_when_refused()
    {
        var runId = await CreateRun();
        var tooMany = Enumerable.Range(0, 1001).Select(i => new { key = "m", value = (double)i, timestamp = 1, step = i }).ToArray();
        var (status, body) = await Post("/api/2.0/mlflow/runs/log-batch", new { run_id = runId, metrics = tooMany });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string?)body!["error_code"]);
        Assert.Equal(2, body.AsObject().Count); // exactly {"error_code", "message"}

        var tags = Enumerable.Range(0, 101).Select(i => new { key = $"t{i}", value = "v" }).ToArray();
        Assert.Equal(HttpStatusCode.BadRequest, (await Post("/api/2.0/mlflow/runs/log-batch", new { run_id = runId, tags })).Status);
        var thousand = tooMany.Take(1000).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await Post("/api/2.0/mlflow/runs/log-batch", new { run_id = runId, metrics = thousand })).Status);
        var history = await Get($"/api/2.0/mlflow/metrics/get-history?run_id={runId}&metric_key=m");
        Assert.Equal(1000, history["metrics"]!.AsArray().Count);
        var run = await Get($"/api/2.0/mlflow/runs/get?run_id={runId}");
        Assert.Null(run["run"]!["data"]!["tags"]!.AsArray().FirstOrDefault(t => (string?)t!["key"] == "t0"));
    }

    [Fact]
    public async Task the_ajax_prefix_serves_the_same_api()
    {
        var runId = await CreateRun(name: "ajax");
        var run = await Get($"/ajax-api/2.0/mlflow/runs/get?run_id={runId}");
        Assert.Equal("ajax", (string?)run["run"]!["info"]!["run_name"]);
    }

    [Fact]
    public async Task search_accepts_the_extended_grammar_and_reports_the_bad_token_position()
    {
        var a = await CreateRun(name: "alpha");
        var b = await CreateRun(name: "beta");
        await CreateRun(name: "gamma");
        await Post("/api/2.0/mlflow/runs/log-parameter", new { run_id = a, key = "opt", value = "adam" });
        await Post("/api/2.0/mlflow/runs/log-parameter", new { run_id = b, key = "opt", value = "sgd" });
        var (status, body) = await Post("/api/2.0/mlflow/runs/search", new
        {
            experiment_ids = new[] { "0" },
            filter = "(params.opt = 'adam' OR params.opt = 'sgd') AND NOT run_name = 'beta'",
        });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("alpha", (string?)Assert.Single(body!["runs"]!.AsArray())!["info"]!["run_name"]);

        (status, body) = await Post("/api/2.0/mlflow/runs/search", new { experiment_ids = new[] { "0" }, filter = "params.opt = 'adam' AND metrics.x >> 1" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string?)body!["error_code"]);
        Assert.Contains("position 34", (string?)body["message"]);
    }

    [Fact]
    public async Task the_artifact_proxy_stores_lists_serves_and_deletes_files_and_gc_keeps_their_bytes()
    {
        var runId = await CreateRun();
        var root = $"/api/2.0/mlflow-artifacts/artifacts/0/{runId}/artifacts";
        using (var put = await Server.Http.PutAsync($"{root}/model/MLmodel", new StringContent("flavors: {}\n")))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var put = await Server.Http.PutAsync($"{root}/notes.txt", new StringContent("hello")))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var listed = await Get($"/api/2.0/mlflow/artifacts/list?run_id={runId}");
        Assert.Equal($"mlflow-artifacts:/0/{runId}/artifacts", (string?)listed["root_uri"]);
        Assert.Equal(["model", "notes.txt"], listed["files"]!.AsArray().Select(f => (string)f!["path"]!));
        var sub = await Get($"/api/2.0/mlflow/artifacts/list?run_id={runId}&path=model");
        Assert.Equal("model/MLmodel", (string?)Assert.Single(sub["files"]!.AsArray())!["path"]);

        // Unreferenced-blob collection must not take files the proxy still lists.
        var report = await Server.Server.App.Services.GetRequiredService<ArtifactMaintenance>()
            .CollectAsync(new GcOptions(UploadGrace: TimeSpan.Zero));
        Assert.Equal("hello", await Server.Http.GetStringAsync($"{root}/notes.txt"));

        using (var missing = await Server.Http.GetAsync($"{root}/nope.txt"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using (var mpu = await Server.Http.PostAsync($"/api/2.0/mlflow-artifacts/mpu/create/0/{runId}/artifacts/big.bin",
                   new StringContent("{}", Encoding.UTF8, "application/json")))
            Assert.Equal((HttpStatusCode)501, mpu.StatusCode);

        using (var delete = await Server.Http.DeleteAsync($"{root}/model"))
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        listed = await Get($"/api/2.0/mlflow/artifacts/list?run_id={runId}");
        Assert.Equal(["notes.txt"], listed["files"]!.AsArray().Select(f => (string)f!["path"]!));
    }

    [Fact]
    public async Task log_inputs_links_the_run_to_a_dataset_version_in_the_lineage_graph()
    {
        var runId = await CreateRun();
        var (status, _) = await Post("/api/2.0/mlflow/runs/log-inputs", new
        {
            run_id = runId,
            datasets = new[]
            {
                new
                {
                    tags = new[] { new { key = "mlflow.data.context", value = "training" } },
                    dataset = new { name = "iris", digest = "abc123", source_type = "local", source = "{\"uri\": \"/data/iris.csv\"}", profile = "{\"num_rows\": 150}" },
                },
            },
        });
        Assert.Equal(HttpStatusCode.OK, status);
        var graph = await Get($"/api/v1/lineage/graph?node=run:{runId}&depth=1");
        var edge = Assert.Single(graph["edges"]!.AsArray());
        Assert.Equal("training", (string?)edge!["role"]);
        var run = await Get($"/api/2.0/mlflow/runs/get?run_id={runId}");
        Assert.Equal("iris", (string?)run["run"]!["inputs"]!["dataset_inputs"]![0]!["dataset"]!["name"]);
    }

    /// <summary>
    /// runs/search writes its runs straight to the response (issue 15) while runs/get still goes through the serializer:
    /// each run of a search answer must be byte for byte the run runs/get answers — escaping, NaN and ±Infinity, a run
    /// without an end time, without data, with dataset inputs.
    /// </summary>
    [Fact]
    public async Task search_writes_every_run_byte_for_byte_as_runs_get_does()
    {
        var (_, experiment) = await Post("/api/2.0/mlflow/experiments/create", new { name = "bytes <&> \u00e9t\u00e9 \"q\"" });
        var experimentId = (string)experiment!["experiment_id"]!;
        var full = await CreateRun(experimentId, "caf\u00e9 <b>&amp;</b> 'x' \ud83d\ude80");
        Assert.Equal(HttpStatusCode.OK, (await Post("/api/2.0/mlflow/runs/log-batch", new
        {
            run_id = full,
            metrics = new object[]
            {
                new { key = "loss", value = 0.1 + 0.2, timestamp = 10, step = 1 },
                new { key = "nan", value = "NaN", timestamp = 11, step = 2 },
                new { key = "up", value = "Infinity", timestamp = 12, step = 3 },
                new { key = "down", value = "-Infinity", timestamp = 13, step = 4 },
                new { key = "big", value = 1e300, timestamp = 14, step = 5 },
            },
            @params = new[] { new { key = "p.1", value = "a\"b\\c\n\u0001" }, new { key = "lr", value = "0.001" } },
            tags = new[] { new { key = "note", value = "\u00fcber & <script>" } },
        })).Status);
        Assert.Equal(HttpStatusCode.OK, (await Post("/api/2.0/mlflow/runs/log-inputs", new
        {
            run_id = full,
            datasets = new[]
            {
                new
                {
                    tags = new[] { new { key = "mlflow.data.context", value = "training" } },
                    dataset = new { name = "iris", digest = "abc123", source_type = "local", source = "{\"uri\": \"/data/iris.csv\"}", profile = "{\"num_rows\": 150}" },
                },
            },
        })).Status);
        Assert.Equal(HttpStatusCode.OK, (await Post("/api/2.0/mlflow/runs/update", new { run_id = full, status = "FINISHED", end_time = 5000 })).Status);
        await CreateRun(experimentId, "empty");

        using var response = await Server.Http.PostAsync("/api/2.0/mlflow/runs/search",
            new StringContent($$"""{"experiment_ids": ["{{experimentId}}"], "max_results": 1}""", Encoding.UTF8, "application/json"));
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var text = await response.Content.ReadAsStringAsync();
        using var page = System.Text.Json.JsonDocument.Parse(text);
        Assert.True(page.RootElement.TryGetProperty("next_page_token", out var token));
        var runs = page.RootElement.GetProperty("runs").EnumerateArray().ToList();
        using var second = System.Text.Json.JsonDocument.Parse(await (await Server.Http.PostAsync("/api/2.0/mlflow/runs/search",
            new StringContent($$"""{"experiment_ids": ["{{experimentId}}"], "max_results": 1, "page_token": "{{token.GetString()}}"}""", Encoding.UTF8, "application/json")))
            .Content.ReadAsStringAsync());
        Assert.False(second.RootElement.TryGetProperty("next_page_token", out _));
        runs.AddRange(second.RootElement.GetProperty("runs").EnumerateArray());
        Assert.Equal(2, runs.Count);
        foreach (var run in runs)
        {
            var id = run.GetProperty("info").GetProperty("run_id").GetString();
            using var single = System.Text.Json.JsonDocument.Parse(await Server.Http.GetStringAsync($"/api/2.0/mlflow/runs/get?run_id={id}"));
            Assert.Equal(single.RootElement.GetProperty("run").GetRawText(), run.GetRawText());
        }
        Assert.Contains(runs, r => r.GetProperty("inputs").TryGetProperty("dataset_inputs", out _) && r.GetProperty("data").GetProperty("metrics").GetArrayLength() == 5);

        using var none = await Server.Http.PostAsync("/api/2.0/mlflow/runs/search",
            new StringContent($$"""{"experiment_ids": ["{{experimentId}}"], "filter": "params.lr = 'none'"}""", Encoding.UTF8, "application/json"));
        Assert.Equal("{}", await none.Content.ReadAsStringAsync());
    }
}

public sealed class MlflowApiSqliteTests : MlflowApiTests
{
    protected override bool Postgres => false;
}

public sealed class MlflowApiPostgresTests : MlflowApiTests
{
    protected override bool Postgres => true;
}

public sealed class MlflowApiS3Tests : MlflowApiTests
{
    protected override bool Postgres => false;
    protected override bool S3 => true;
}
