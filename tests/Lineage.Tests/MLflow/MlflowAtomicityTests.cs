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

    private async Task<JsonNode> Get(string run) =>
        JsonNode.Parse(await _server.Http.GetStringAsync($"/api/2.0/mlflow/runs/get?run_id={run}"))!["run"]!;
}
