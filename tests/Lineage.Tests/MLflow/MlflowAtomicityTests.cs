using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Tests.MLflow;

/// <summary>Issue 11, item 3: an MLflow request is one store operation, so its idempotent replay repeats nothing.</summary>
public sealed class MlflowAtomicityTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<JsonNode> Post(string path, string json, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        using var response = await _server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task a_log_batch_that_renames_the_run_is_one_write_and_its_replay_renames_nothing()
    {
        var run = (string)(await Post("/api/2.0/mlflow/runs/create", """{"experiment_id":"0","run_name":"first"}"""))["run"]!["info"]!["run_id"]!;
        var batch = $$"""{"run_id":"{{run}}","tags":[{"key":"mlflow.runName","value":"from-batch"}],"params":[{"key":"lr","value":"0.1"}]}""";
        await Post("/api/2.0/mlflow/runs/log-batch", batch, "batch-1");
        Assert.Equal("from-batch", (string?)(await Get(run))["info"]!["run_name"]);

        await Post("/api/2.0/mlflow/runs/update", $$"""{"run_id":"{{run}}","run_name":"renamed-later"}""");
        // The client retries the batch (its answer was lost): the replay answers as before and changes nothing.
        await Post("/api/2.0/mlflow/runs/log-batch", batch, "batch-1");
        var info = (await Get(run))["info"]!;
        Assert.Equal("renamed-later", (string?)info["run_name"]);
    }

    [Fact]
    public async Task a_replayed_runs_create_answers_what_the_first_answered_not_the_run_as_it_is_now()
    {
        const string create = """{"experiment_id":"0","run_name":"first","tags":[{"key":"team","value":"growth"}]}""";
        var first = await Post("/api/2.0/mlflow/runs/create", create, "create-1");
        var run = (string)first["run"]!["info"]!["run_id"]!;
        await Post("/api/2.0/mlflow/runs/update", $$"""{"run_id":"{{run}}","run_name":"renamed","status":"FINISHED"}""");

        // The answer is the run as the creating transaction left it, kept with the key: the replay repeats it exactly.
        var replay = await Post("/api/2.0/mlflow/runs/create", create, "create-1");
        Assert.Equal(first.ToJsonString(), replay.ToJsonString());
        Assert.Equal("first", (string?)replay["run"]!["info"]!["run_name"]);
        Assert.Equal("renamed", (string?)(await Get(run))["info"]!["run_name"]);
    }

    [Fact]
    public async Task a_replayed_runs_update_answers_what_the_first_answered()
    {
        var run = (string)(await Post("/api/2.0/mlflow/runs/create", """{"experiment_id":"0","run_name":"r"}"""))["run"]!["info"]!["run_id"]!;
        var update = $$"""{"run_id":"{{run}}","status":"FINISHED","end_time":1700000000000}""";
        var first = await Post("/api/2.0/mlflow/runs/update", update, "update-1");
        Assert.Equal("FINISHED", (string?)first["run_info"]!["status"]);
        await Post("/api/2.0/mlflow/runs/update", $$"""{"run_id":"{{run}}","run_name":"later"}""");

        var replay = await Post("/api/2.0/mlflow/runs/update", update, "update-1");
        Assert.Equal(first.ToJsonString(), replay.ToJsonString());
        Assert.Equal("later", (string?)(await Get(run))["info"]!["run_name"]);
    }

    [Fact]
    public async Task get_history_reads_a_series_longer_than_a_store_page_whole_and_an_unknown_run_is_empty()
    {
        var run = (string)(await Post("/api/2.0/mlflow/runs/create", """{"experiment_id":"0"}"""))["run"]!["info"]!["run_id"]!;
        // More points than one native history page (100,000), logged in batches of 1,000 as MLflow clients do.
        for (var b = 0; b < 101; b++)
        {
            var metrics = string.Join(",", Enumerable.Range(b * 1000, 1000).Select(i => $$"""{"key":"loss","value":{{i}},"timestamp":{{1000 + i}},"step":{{i}}}"""));
            await Post("/api/2.0/mlflow/runs/log-batch", $$"""{"run_id":"{{run}}","metrics":[{{metrics}}]}""");
        }
        var history = JsonNode.Parse(await _server.Http.GetStringAsync($"/api/2.0/mlflow/metrics/get-history?run_id={run}&metric_key=loss"))!;
        var steps = history["metrics"]!.AsArray().Select(m => (long)m!["step"]!).ToList();
        Assert.Equal(Enumerable.Range(0, 101_000).Select(i => (long)i), steps);

        var missing = await _server.Http.GetStringAsync($"/api/2.0/mlflow/metrics/get-history?run_id={new string('a', 32)}&metric_key=loss");
        Assert.Equal("{}", missing);
    }

    private async Task<JsonNode> Get(string run) =>
        JsonNode.Parse(await _server.Http.GetStringAsync($"/api/2.0/mlflow/runs/get?run_id={run}"))!["run"]!;
}
