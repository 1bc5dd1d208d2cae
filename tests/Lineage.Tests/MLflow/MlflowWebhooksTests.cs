using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Core.Events;
using Lineage.Tests.Events;
using Lineage.Tests.Support;

namespace Lineage.Tests.MLflow;

/// <summary>
/// Issue 14, part 4: MLflow 3's webhook REST API (<c>/api/2.0/mlflow/webhooks</c>) as an MLflow client calls it, delivering to a real
/// receiver on loopback: create/get/list/update/delete, the synchronous test endpoint, signatures under a rotated secret, and MLflow's
/// errors for bad input. Runs on SQLite and PostgreSQL.
/// </summary>
public class MlflowWebhooksTests : IAsyncLifetime
{
    protected virtual bool Postgres => false;
    private TestServer _server = null!;
    private readonly WebhookReceiver _receiver = new();

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(Postgres, o => o with
    {
        WebhookAllowPrivate = true, WebhookRetryBase = TimeSpan.FromMilliseconds(100), WebhookTimeout = TimeSpan.FromSeconds(2),
    });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonNode Body)> Call(string method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!);
    }

    private async Task<JsonNode> Ok(string method, string path, string? json = null)
    {
        var (status, body) = await Call(method, path, json);
        Assert.True(status == HttpStatusCode.OK, $"{method} {path}: {(int)status} {body.ToJsonString()}");
        return body;
    }

    private async Task<JsonNode> Create(string name, string events, string extra = "") =>
        (await Ok("POST", "/api/2.0/mlflow/webhooks", $$"""{"name":"{{name}}","url":"{{_receiver.Url}}","events":{{events}}{{extra}}}"""))["webhook"]!;

    private static bool Signed(WebhookReceiver.Received r, string secret) =>
        WebhookSignature.Verify(Encoding.UTF8.GetBytes(secret), r.Headers["x-mlflow-delivery-id"],
            long.Parse(r.Headers["x-mlflow-timestamp"], System.Globalization.CultureInfo.InvariantCulture), r.Body, r.Headers["x-mlflow-signature"]);

    [Fact]
    public async Task a_webhook_created_through_the_mlflow_api_is_delivered_in_mlflow_format_and_signed()
    {
        var hook = await Create("registry-hook", """[{"entity":"MODEL_VERSION","action":"CREATED"},{"entity":"model_version_alias","action":"created"}]""",
            ""","secret":"first-secret","description":"to CI" """);
        var id = (string)hook["webhook_id"]!;
        Assert.Equal("registry-hook", (string)hook["name"]!);
        Assert.Equal("ACTIVE", (string)hook["status"]!);
        Assert.Equal("to CI", (string)hook["description"]!);
        Assert.Equal("""[{"entity":"MODEL_VERSION","action":"CREATED"},{"entity":"MODEL_VERSION_ALIAS","action":"CREATED"}]""", hook["events"]!.ToJsonString());
        Assert.Null(hook["secret"]);
        Assert.True((long)hook["creation_timestamp"]! > 0);

        // The same webhook, seen by Lineage's own API, in its delivery queue.
        var native = JsonNode.Parse(await _server.Http.GetStringAsync($"/api/v1/webhooks/{id}"))!;
        Assert.Equal("mlflow", (string)native["format"]!);

        await Ok("POST", "/api/2.0/mlflow/registered-models/create", """{"name":"churn"}""");
        Assert.Equal(HttpStatusCode.Created,
            (await Call("POST", "/api/v1/artifacts/", $$$"""{"name":"m","type":"model","external":{"uri":"s3://b/m","digest":"{{{new string('c', 64)}}}","size":3}}""")).Status);
        using (var version = await _server.Http.PostAsync("/api/v1/models/churn/versions",
                   new StringContent("""{"artifact":{"name":"m"}}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, version.StatusCode);
        await WebhookReceiver.Until(() => !_receiver.Accepted.IsEmpty, what: "the model_version.created delivery");
        var got = _receiver.Accepted.Single();
        var body = JsonNode.Parse(got.Body)!;
        Assert.Equal("model_version", (string)body["entity"]!);
        Assert.Equal("created", (string)body["action"]!);
        Assert.Equal("churn", (string)body["data"]!["name"]!);
        Assert.True(Signed(got, "first-secret"));

        // Rotate the secret and rename: the next delivery verifies with the new secret only.
        var changed = (await Ok("PATCH", $"/api/2.0/mlflow/webhooks/{id}", """{"name":"registry-hook-2","secret":"second-secret"}"""))["webhook"]!;
        Assert.Equal("registry-hook-2", (string)changed["name"]!);
        using (var version = await _server.Http.PostAsync("/api/v1/models/churn/versions",
                   new StringContent("""{"artifact":{"name":"m"}}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, version.StatusCode);
        await WebhookReceiver.Until(() => _receiver.Accepted.Count == 2, what: "the second delivery");
        var second = _receiver.Accepted.Last();
        Assert.True(Signed(second, "second-secret"));
        Assert.False(Signed(second, "first-secret"));

        // Disabled: nothing more is sent.
        Assert.Equal("DISABLED", (string)(await Ok("PATCH", $"/api/2.0/mlflow/webhooks/{id}", """{"status":"DISABLED"}"""))["webhook"]!["status"]!);

        Assert.Equal("{}", (await Ok("DELETE", $"/api/2.0/mlflow/webhooks/{id}", "{}")).ToJsonString());
        var (status, error) = await Call("GET", $"/api/2.0/mlflow/webhooks/{id}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", (string)error["error_code"]!);
    }

    [Fact]
    public async Task the_test_endpoint_sends_now_and_reports_the_receivers_answer()
    {
        var hook = await Create("tested", """[{"entity":"REGISTERED_MODEL","action":"CREATED"},{"entity":"MODEL_VERSION_TAG","action":"SET"}]""",
            ""","secret":"test-secret" """);
        var id = (string)hook["webhook_id"]!;

        var result = (await Ok("POST", $"/api/2.0/mlflow/webhooks/{id}/test", "{}"))["result"]!;
        Assert.True((bool)result["success"]!);
        Assert.Equal(200, (int)result["response_status"]!);
        var first = _receiver.Accepted.Single();
        Assert.Equal("registered_model", (string)JsonNode.Parse(first.Body)!["entity"]!); // the webhook's first event by default
        Assert.True(Signed(first, "test-secret"));

        await Ok("POST", $"/api/2.0/mlflow/webhooks/{id}/test", """{"event":{"entity":"MODEL_VERSION_TAG","action":"SET"}}""");
        var tag = JsonNode.Parse(_receiver.Accepted.Last().Body)!;
        Assert.Equal("model_version_tag", (string)tag["entity"]!);
        Assert.Equal("set", (string)tag["action"]!);
        Assert.Equal("example_key", (string)tag["data"]!["key"]!);

        _receiver.Answer = _ => Task.FromResult(500);
        var failed = (await Ok("POST", $"/api/2.0/mlflow/webhooks/{id}/test", "{}"))["result"]!;
        Assert.False((bool)failed["success"]!);
        Assert.Equal(500, (int)failed["response_status"]!);
        Assert.Contains("HTTP 500", (string)failed["error_message"]!);
        // A test is not an event: the delivery log stays empty.
        var log = JsonNode.Parse(await _server.Http.GetStringAsync($"/api/v1/webhooks/{id}/deliveries"))!;
        Assert.Empty(log["deliveries"]!.AsArray());
    }

    [Fact]
    public async Task list_pages_and_shows_only_mlflow_webhooks_of_the_project()
    {
        for (var i = 0; i < 3; i++) await Create($"h{i}", """[{"entity":"MODEL_VERSION","action":"CREATED"}]""");
        using (var native = await _server.Http.PostAsync("/api/v1/webhooks/",
                   new StringContent($$"""{"name":"native","url":"{{_receiver.Url}}"}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, native.StatusCode);

        var page1 = await Ok("GET", "/api/2.0/mlflow/webhooks?max_results=2");
        Assert.Equal(["h0", "h1"], page1["webhooks"]!.AsArray().Select(w => (string)w!["name"]!));
        var token = (string)page1["next_page_token"]!;
        var page2 = await Ok("GET", $"/api/2.0/mlflow/webhooks?max_results=2&page_token={token}");
        Assert.Equal(["h2"], page2["webhooks"]!.AsArray().Select(w => (string)w!["name"]!));
        Assert.Null(page2["next_page_token"]);

        var nativeId = (long)JsonNode.Parse(await _server.Http.GetStringAsync("/api/v1/webhooks/?project=default"))!["webhooks"]!.AsArray()
            .Single(w => (string)w!["name"]! == "native")!["id"]!;
        Assert.Equal(HttpStatusCode.NotFound, (await Call("GET", $"/api/2.0/mlflow/webhooks/{nativeId}")).Status);
    }

    [Theory]
    [InlineData("""{"name":"x","url":"URL","events":[{"entity":"MODEL_VERSION","action":"DELETED"}]}""", "model_version.deleted")]
    [InlineData("""{"name":"x","url":"URL","events":[{"entity":"PROMPT","action":"CREATED"}]}""", "no prompt registry")]
    [InlineData("""{"name":"x","url":"URL","events":[{"entity":"MODEL","action":"CREATED"}]}""", "events[0].entity")]
    [InlineData("""{"name":"x","url":"URL","events":[]}""", "events")]
    [InlineData("""{"name":"x","url":"URL","events":[{"entity":"MODEL_VERSION","action":"CREATED"}],"status":"PAUSED"}""", "status")]
    [InlineData("""{"url":"URL","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}""", "name")]
    [InlineData("""{"name":"x","url":"ftp://host/x","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}""", "http")]
    public async Task bad_webhooks_are_refused_with_mlflow_errors_and_nothing_is_stored(string json, string mention)
    {
        var (status, error) = await Call("POST", "/api/2.0/mlflow/webhooks", json.Replace("URL", _receiver.Url));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string)error["error_code"]!);
        Assert.Contains(mention, (string)error["message"]!);
        Assert.Empty((await Ok("GET", "/api/2.0/mlflow/webhooks"))["webhooks"]!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await Call("PATCH", "/api/2.0/mlflow/webhooks/not-an-id", "{}")).Status);
    }
}

public sealed class MlflowWebhooksPostgresTests : MlflowWebhooksTests
{
    protected override bool Postgres => true;
}
