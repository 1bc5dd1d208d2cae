using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Tests.Query;

/// <summary>The query language on the native API: /api/v1/search/{runs,experiments,artifacts}.</summary>
public abstract class SearchApiTests : IAsyncLifetime
{
    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Postgres);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task<JsonNode> Send(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task runs_experiments_and_artifacts_are_searchable_with_filters_and_several_order_keys()
    {
        var experiment = (string)(await Send(HttpMethod.Post, "/api/v1/experiments", """{"name": "sweep", "tags": {"team": "vision"}}"""))["id"]!;
        foreach (var (name, lr, acc) in new[] { ("a", "0.1", 0.7), ("b", "0.01", 0.9), ("c", "0.1", 0.8) })
        {
            var run = (string)(await Send(HttpMethod.Post, "/api/v1/runs", $$"""{"experimentId": "{{experiment}}", "name": "{{name}}"}"""))["runId"]!;
            await Send(HttpMethod.Post, $"/api/v1/runs/{run}/batch",
                $$"""{"metrics": [{"key": "acc", "value": {{acc}}, "step": 0, "timestamp": 1}], "params": [{"key": "lr", "value": "{{lr}}"}]}""");
        }

        var filter = Uri.EscapeDataString("params.lr = '0.1' OR metrics.acc >= 0.9");
        var runs = await Send(HttpMethod.Get, $"/api/v1/search/runs?experimentId={experiment}&filter={filter}&orderBy={Uri.EscapeDataString("metrics.acc DESC")}");
        Assert.Equal(["b", "c", "a"], runs["runs"]!.AsArray().Select(r => (string)r!["name"]!));

        var experiments = await Send(HttpMethod.Get, $"/api/v1/search/experiments?filter={Uri.EscapeDataString("tags.team IN ('vision', 'nlp')")}");
        Assert.Equal("sweep", (string?)Assert.Single(experiments["experiments"]!.AsArray())!["name"]);

        using var bad = await Server.Http.GetAsync($"/api/v1/search/runs?experimentId={experiment}&filter={Uri.EscapeDataString("metrics.acc >> 1")}");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var error = JsonNode.Parse(await bad.Content.ReadAsStringAsync())!;
        Assert.Equal("INVALID_PARAMETER_VALUE", (string?)error["error_code"]);
        Assert.Contains("position 12", (string?)error["message"]);

        var artifacts = await Send(HttpMethod.Get, $"/api/v1/search/artifacts?filter={Uri.EscapeDataString("metadata.rows > 1000")}");
        Assert.Empty(artifacts["artifacts"]!.AsArray());
    }
}

public sealed class SearchApiSqliteTests : SearchApiTests
{
    protected override bool Postgres => false;
}

public sealed class SearchApiPostgresTests : SearchApiTests
{
    protected override bool Postgres => true;
}
