using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>The native API over real HTTP on loopback, against a real server and SQLite file.</summary>
public abstract class NativeApiTests : IAsyncLifetime
{
    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Postgres);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private HttpClient Http => Server.Http;

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Send(HttpMethod method, string path, string? json = null,
        string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static void AssertError(HttpStatusCode expected, string code, (HttpStatusCode Status, JsonNode? Body) answer, string? field = null)
    {
        Assert.Equal(expected, answer.Status);
        Assert.Equal(code, (string?)answer.Body?["error_code"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)answer.Body?["message"]));
        if (field is not null) Assert.Equal(field, (string?)answer.Body?["field"]);
    }

    private async Task<string> NewRun(string? experimentId = null)
    {
        experimentId ??= (string)(await Send(HttpMethod.Post, "/api/v1/experiments", $$"""{"name":"e-{{Guid.NewGuid():N}}"}""")).Body!["id"]!;
        var run = await Send(HttpMethod.Post, "/api/v1/runs", $$"""{"experimentId":"{{experimentId}}","name":"r"}""");
        Assert.Equal(HttpStatusCode.Created, run.Status);
        return (string)run.Body!["runId"]!;
    }

    [Fact]
    public async Task health_and_ready_answer_ok()
    {
        var health = await Send(HttpMethod.Get, "/health");
        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Equal("ok", (string?)health.Body!["status"]);
        var ready = await Send(HttpMethod.Get, "/ready");
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        Assert.Equal("ready", (string?)ready.Body!["status"]);
    }

    [Fact]
    public async Task the_openapi_document_describes_the_native_endpoints()
    {
        var doc = await Send(HttpMethod.Get, "/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, doc.Status);
        var paths = doc.Body!["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/api/v1/runs/{runId}/batch", paths);
        Assert.Contains("/api/v1/experiments", paths);
        Assert.NotNull(doc.Body!["paths"]!["/api/v1/runs/{runId}/batch"]!["post"]!["requestBody"]);
    }

    [Fact]
    public async Task experiment_lifecycle_over_http()
    {
        var created = await Send(HttpMethod.Post, "/api/v1/experiments", """{"name":"http-exp","description":"d","tags":{"team":"ml"}}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = (string)created.Body!["id"]!;
        Assert.Equal("default", (string?)created.Body["project"]);
        Assert.Equal("ml", (string?)created.Body["tags"]!["team"]);

        AssertError(HttpStatusCode.Conflict, "RESOURCE_ALREADY_EXISTS", await Send(HttpMethod.Post, "/api/v1/experiments", """{"name":"http-exp"}"""));

        var byName = await Send(HttpMethod.Get, "/api/v1/experiments/by-name?name=http-exp");
        Assert.Equal(id, (string?)byName.Body!["id"]);

        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Post, $"/api/v1/experiments/{id}/tags", """{"key":"a/b","value":"1"}""")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Delete, $"/api/v1/experiments/{id}/tags/a/b")).Status);

        var renamed = await Send(HttpMethod.Patch, $"/api/v1/experiments/{id}", """{"name":"http-exp-2"}""");
        Assert.Equal("http-exp-2", (string?)renamed.Body!["name"]);

        Assert.Equal("deleted", (string?)(await Send(HttpMethod.Delete, $"/api/v1/experiments/{id}")).Body!["lifecycle"]);
        var list = await Send(HttpMethod.Get, "/api/v1/experiments?lifecycle=deleted");
        Assert.Contains(list.Body!["experiments"]!.AsArray(), e => (string?)e!["id"] == id);
        Assert.Equal("active", (string?)(await Send(HttpMethod.Post, $"/api/v1/experiments/{id}/restore")).Body!["lifecycle"]);
    }

    [Fact]
    public async Task run_logging_round_trips_params_tags_metrics_and_nan()
    {
        var runId = await NewRun();
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/params", """{"key":"lr","value":"0.1"}""")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/tags", """{"key":"stage","value":"dev"}""")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/metrics", """{"key":"loss","value":"NaN","step":1}""")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/metrics", """{"key":"loss","value":"-Infinity","step":2,"timestamp":5}""")).Status);
        var batch = await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/batch",
            """{"metrics":[{"key":"acc","value":0.5,"step":0,"timestamp":1},{"key":"acc","value":0.75,"step":1,"timestamp":2}],"params":[{"key":"epochs","value":"3"}],"tags":[{"key":"stage","value":"prod"}]}""");
        Assert.Equal(HttpStatusCode.OK, batch.Status);
        Assert.Equal(2, (int)batch.Body!["metrics"]!);

        var run = (await Send(HttpMethod.Get, $"/api/v1/runs/{runId}")).Body!;
        Assert.Equal("0.1", (string?)run["params"]!["lr"]);
        Assert.Equal("3", (string?)run["params"]!["epochs"]);
        Assert.Equal("prod", (string?)run["tags"]!["stage"]);
        var metrics = run["metrics"]!.AsArray().ToDictionary(m => (string)m!["key"]!, m => m!["value"]!.ToJsonString());
        Assert.Equal("0.75", metrics["acc"]);
        Assert.Equal("\"-Infinity\"", metrics["loss"]);

        var history = (await Send(HttpMethod.Get, $"/api/v1/runs/{runId}/metrics/history?key=loss")).Body!;
        Assert.Equal(["\"NaN\"", "\"-Infinity\""], history["points"]!.AsArray().Select(p => p!["value"]!.ToJsonString()));

        var param = await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/params", """{"key":"lr","value":"0.2"}""");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", param);

        var ended = await Send(HttpMethod.Patch, $"/api/v1/runs/{runId}", """{"status":"FINISHED"}""");
        Assert.Equal("FINISHED", (string?)ended.Body!["status"]);
        Assert.NotNull(ended.Body!["endTime"]);
    }

    [Fact]
    public async Task bad_input_is_a_400_naming_the_field_and_never_a_500()
    {
        var runId = await NewRun();
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", await Send(HttpMethod.Post, "/api/v1/experiments", "{not json"), "body");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", await Send(HttpMethod.Post, "/api/v1/experiments", ""), "body");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", await Send(HttpMethod.Post, "/api/v1/experiments", "{}"), "name");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", await Send(HttpMethod.Post, "/api/v1/experiments", """{"name":5}"""), "name");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", await Send(HttpMethod.Post, "/api/v1/experiments", """{"name":"x","nmae":"typo"}"""));
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE",
            await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/batch", """{"metrics":[{"key":"a","value":1},{"key":"b","value":"high"}]}"""), "metrics[1].value");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE",
            await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/batch", """{"metrics":[{"key":"a"}]}"""), "metrics[0].value");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE",
            await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/params", $$"""{"key":"{{new string('k', 251)}}","value":"v"}"""), "key");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE",
            await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/tags", """{"key":"bad*key","value":"v"}"""), "key");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", await Send(HttpMethod.Get, "/api/v1/experiments/abc"), "id");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", await Send(HttpMethod.Get, "/api/v1/runs?limit=100000"), "limit");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", await Send(HttpMethod.Get, "/api/v1/runs?status=DONE"), "status");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", await Send(HttpMethod.Patch, $"/api/v1/runs/{runId}", """{"status":"DONE"}"""), "status");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", await Send(HttpMethod.Get, "/api/v1/runs/short"), "runId");
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", await Send(HttpMethod.Post, "/api/v1/runs", """{"experimentId":"0","parentRunId":"nope"}"""), "parentRunId");
    }

    [Fact]
    public async Task unknown_ids_and_routes_are_404_and_wrong_methods_405()
    {
        var missing = Guid.NewGuid().ToString("N");
        var run = await Send(HttpMethod.Get, $"/api/v1/runs/{missing}");
        AssertError(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", run);
        Assert.Contains(missing, (string)run.Body!["message"]!);
        AssertError(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", await Send(HttpMethod.Get, "/api/v1/experiments/424242"));
        AssertError(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", await Send(HttpMethod.Post, "/api/v1/runs", """{"experimentId":"424242"}"""));
        AssertError(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", await Send(HttpMethod.Post, $"/api/v1/runs/{missing}/batch", """{"metrics":[]}"""));
        AssertError(HttpStatusCode.NotFound, "ENDPOINT_NOT_FOUND", await Send(HttpMethod.Get, "/api/v1/nothing-here"));
        AssertError(HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED", await Send(HttpMethod.Put, "/api/v1/experiments"));
    }

    [Fact]
    public async Task an_oversize_batch_is_rejected_whole_and_writes_nothing()
    {
        var runId = await NewRun();
        var metrics = string.Join(',', Enumerable.Range(0, 10_001).Select(i => $$"""{"key":"m","value":{{i}},"step":{{i}}}"""));
        AssertError(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE",
            await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/batch", $$"""{"metrics":[{{metrics}}]}"""), "metrics");
        var history = await Send(HttpMethod.Get, $"/api/v1/runs/{runId}/metrics/history?key=m");
        Assert.Empty(history.Body!["points"]!.AsArray());

        var exactly = string.Join(',', Enumerable.Range(0, 10_000).Select(i => $$"""{"key":"m","value":{{i}},"step":{{i}}}"""));
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/batch", $$"""{"metrics":[{{exactly}}]}""")).Status);
    }

    [Fact]
    public async Task a_body_over_the_size_limit_is_413()
    {
        var runId = await NewRun();
        // Raw socket: the server answers as soon as it sees the declared length, before any body
        // arrives, and HttpClient would report the closed upload instead of the answer.
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(Server.Address.Host, Server.Address.Port);
        var stream = socket.GetStream();
        var head = $"POST /api/v1/runs/{runId}/tags HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {70L * 1024 * 1024}\r\n\r\n{{";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(stream);
        var response = await reader.ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 413", response);
        Assert.Contains("PAYLOAD_TOO_LARGE", response);
    }

    [Fact]
    public async Task a_retried_request_with_the_same_idempotency_key_returns_the_first_result_and_writes_once()
    {
        var experiment = (string)(await Send(HttpMethod.Post, "/api/v1/experiments", """{"name":"idem"}""")).Body!["id"]!;
        var body = $$"""{"experimentId":"{{experiment}}","name":"once"}""";
        using var first = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runs") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        first.Headers.Add("Idempotency-Key", "run-create-1");
        using var firstAnswer = await Http.SendAsync(first);
        using var retry = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runs") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        retry.Headers.Add("Idempotency-Key", "run-create-1");
        using var retryAnswer = await Http.SendAsync(retry);
        Assert.Equal(HttpStatusCode.Created, retryAnswer.StatusCode);
        Assert.Equal("true", retryAnswer.Headers.GetValues("Idempotent-Replayed").Single());
        var a = JsonNode.Parse(await firstAnswer.Content.ReadAsStringAsync())!;
        var b = JsonNode.Parse(await retryAnswer.Content.ReadAsStringAsync())!;
        Assert.Equal((string?)a["runId"], (string?)b["runId"]);
        var runs = await Send(HttpMethod.Get, $"/api/v1/runs?experimentId={experiment}");
        Assert.Single(runs.Body!["runs"]!.AsArray());

        AssertError(HttpStatusCode.Conflict, "CONFLICT",
            await Send(HttpMethod.Post, "/api/v1/runs", $$"""{"experimentId":"{{experiment}}","name":"different"}""", "run-create-1"));

        var runId = (string)a["runId"]!;
        const string batch = """{"metrics":[{"key":"m","value":1,"step":0,"timestamp":1}]}""";
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Post, $"/api/v1/runs/{runId}/batch", batch, "batch-1")).Status);
        var history = await Send(HttpMethod.Get, $"/api/v1/runs/{runId}/metrics/history?key=m");
        Assert.Single(history.Body!["points"]!.AsArray());
    }

    [Fact]
    public async Task run_listing_pages_and_filters_over_http()
    {
        var experiment = (string)(await Send(HttpMethod.Post, "/api/v1/experiments", """{"name":"listing"}""")).Body!["id"]!;
        for (var i = 0; i < 5; i++) await NewRun(experiment);
        var ids = new List<string>();
        string? token = null;
        do
        {
            var page = (await Send(HttpMethod.Get, $"/api/v1/runs?experimentId={experiment}&limit=2" + (token is null ? "" : $"&pageToken={token}"))).Body!;
            ids.AddRange(page["runs"]!.AsArray().Select(r => (string)r!["runId"]!));
            token = (string?)page["nextPageToken"];
        } while (token is not null);
        Assert.Equal(5, ids.Distinct().Count());
    }
}

/// <summary>The same API tests against PostgreSQL.</summary>
public sealed class NativeApiSqliteTests : NativeApiTests
{
    protected override bool Postgres => false;
}

public sealed class NativeApiPostgresTests : NativeApiTests
{
    protected override bool Postgres => true;
}
