using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Core.Events;
using Lineage.Server;
using Lineage.Tests.Support;

namespace Lineage.Tests.Events;

/// <summary>
/// Issue 14, part 3: webhooks delivered to real receivers on loopback (the server runs with WebhookAllowPrivate, as a test
/// needs): signatures that verify, retries after failures and timeouts in order, dead letter and manual redelivery, the
/// test event, the SSRF refusals. Runs on SQLite and PostgreSQL.
/// </summary>
public class WebhookTests : IAsyncLifetime
{
    protected virtual bool Postgres => false;
    private TestServer _server = null!;
    private readonly List<WebhookReceiver> _receivers = [];

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(Postgres, o => o with
    {
        WebhookAllowPrivate = true,
        WebhookRetryBase = TimeSpan.FromMilliseconds(100),
        WebhookRetryMax = TimeSpan.FromMilliseconds(400),
        WebhookMaxAttempts = 3,
        WebhookTimeout = TimeSpan.FromSeconds(1),
    });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        foreach (var r in _receivers) await r.DisposeAsync();
    }

    private WebhookReceiver Receiver()
    {
        var r = new WebhookReceiver();
        _receivers.Add(r);
        return r;
    }

    private async Task<(HttpStatusCode Status, string Text)> Send(string method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonNode> Ok(string method, string path, string? json = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var (status, text) = await Send(method, path, json);
        Assert.True(status == expected, $"{method} {path}: expected {(int)expected}, got {(int)status}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    private async Task<(long Id, string Secret)> Hook(string url, string types = "[\"experiment.created\"]", string extra = "")
    {
        var hook = await Ok("POST", "/api/v1/webhooks/", $$"""{"name":"h{{Guid.NewGuid():N}}","url":"{{url}}","eventTypes":{{types}}{{extra}}}""", HttpStatusCode.Created);
        return ((long)hook["id"]!, (string)hook["secret"]!);
    }

    private Task Experiments(int n, string prefix = "e") =>
        Task.WhenAll(Enumerable.Range(0, n).Select(i => Ok("POST", "/api/v1/experiments/", $$"""{"name":"{{prefix}}{{i}}"}""", HttpStatusCode.Created)));

    private static string Name(WebhookReceiver.Received r) => (string)JsonNode.Parse(r.Body)!["payload"]!["name"]!;

    [Fact]
    public async Task deliveries_carry_standard_webhooks_signatures_that_verify()
    {
        var receiver = Receiver();
        var (_, secret) = await Hook(receiver.Url);
        Assert.StartsWith("whsec_", secret);
        await Ok("POST", "/api/v1/experiments/", """{"name":"signed"}""", HttpStatusCode.Created);
        await WebhookReceiver.Until(() => !receiver.Accepted.IsEmpty, what: "a delivery");
        var got = receiver.Accepted.Single();
        var id = got.Headers["webhook-id"];
        var timestamp = long.Parse(got.Headers["webhook-timestamp"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(timestamp, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.True(WebhookSignature.Verify(WebhookSignature.StandardKey(secret), id, timestamp, got.Body, got.Headers["webhook-signature"]));
        Assert.False(WebhookSignature.Verify(WebhookSignature.StandardKey(secret), id, timestamp, got.Body.Replace("signed", "forged"), got.Headers["webhook-signature"]));
        var body = JsonNode.Parse(got.Body)!;
        Assert.Equal("experiment.created", (string)body["type"]!);
        Assert.Equal($"evt_{(long)body["id"]!}", id);
        Assert.Equal("signed", (string)body["payload"]!["name"]!);
    }

    [Fact]
    public async Task a_failing_receiver_gets_retries_and_every_event_arrives_once_in_order()
    {
        var receiver = Receiver();
        // The first two requests fail (500, then a stall past the 1 s timeout), then everything is accepted.
        receiver.Answer = async r => r.Number switch
        {
            1 => 500,
            2 => await Task.Delay(1500).ContinueWith(_ => 500),
            _ => 200,
        };
        var (id, _) = await Hook(receiver.Url);
        for (var i = 0; i < 5; i++) await Ok("POST", "/api/v1/experiments/", $$"""{"name":"o{{i}}"}""", HttpStatusCode.Created);
        await WebhookReceiver.Until(() => receiver.Accepted.Count >= 5, 30, "five accepted deliveries");
        await Task.Delay(300);
        Assert.Equal(["o0", "o1", "o2", "o3", "o4"], receiver.Accepted.Select(Name).ToArray());
        Assert.Equal(["o0", "o0", "o0"], receiver.Requests.Take(3).Select(Name).ToArray());

        var log = (await Ok("GET", $"/api/v1/webhooks/{id}/deliveries"))["deliveries"]!.AsArray();
        Assert.Equal(5, log.Count);
        Assert.All(log, d => Assert.Equal("succeeded", (string)d!["status"]!));
        var first = log.Last()!;
        Assert.Equal(3, (int)first["attempts"]!);
        Assert.Equal(200, (int)first["responseCode"]!);
    }

    [Fact]
    public async Task a_delivery_failing_every_attempt_is_dead_lettered_and_can_be_redelivered()
    {
        var receiver = Receiver();
        var healthy = false;
        receiver.Answer = _ => Task.FromResult(healthy ? 204 : 503);
        var (id, _) = await Hook(receiver.Url);
        await Ok("POST", "/api/v1/experiments/", """{"name":"doomed"}""", HttpStatusCode.Created);
        await Ok("POST", "/api/v1/experiments/", """{"name":"after"}""", HttpStatusCode.Created);
        JsonArray log = [];
        await WebhookReceiver.Until(() =>
        {
            log = Ok("GET", $"/api/v1/webhooks/{id}/deliveries?status=dead").Result["deliveries"]!.AsArray();
            return log.Count == 2;
        }, 30, "two dead deliveries");
        Assert.All(log, d => Assert.Equal(3, (int)d!["attempts"]!));
        Assert.Equal(503, (int)log[0]!["responseCode"]!);
        Assert.Contains("503", (string)log[0]!["lastError"]!);
        Assert.Empty(receiver.Accepted);

        healthy = true;
        var doomed = log.Single(d => (string)d!["eventType"]! == "experiment.created" && (long)d["eventId"]! == log.Min(x => (long)x!["eventId"]!))!;
        var redelivered = await Ok("POST", $"/api/v1/webhooks/{id}/deliveries/{(long)doomed["id"]!}/redeliver", expected: HttpStatusCode.Accepted);
        Assert.Equal("pending", (string)redelivered["status"]!);
        await WebhookReceiver.Until(() => receiver.Accepted.Count == 1, what: "the redelivery");
        Assert.Equal("doomed", Name(receiver.Accepted.Single()));
    }

    [Fact]
    public async Task a_test_event_reaches_only_its_own_webhook()
    {
        var a = Receiver();
        var b = Receiver();
        var (idA, _) = await Hook(a.Url, "[\"*\"]");
        await Hook(b.Url, "[\"*\"]");
        await Ok("POST", $"/api/v1/webhooks/{idA}/test", expected: HttpStatusCode.Accepted);
        await WebhookReceiver.Until(() => a.Accepted.Count == 1, what: "the test event");
        await Task.Delay(500);
        Assert.Empty(b.Requests);
        Assert.Equal("webhook.test", (string)JsonNode.Parse(a.Accepted.Single().Body)!["type"]!);
    }

    [Fact]
    public async Task type_filters_and_projects_decide_what_a_webhook_receives()
    {
        var receiver = Receiver();
        await Hook(receiver.Url, "[\"run.*\"]");
        await Ok("POST", "/api/v1/projects/", """{"name":"other"}""", HttpStatusCode.Created);
        var exp = (string)(await Ok("POST", "/api/v1/experiments/", """{"name":"f"}""", HttpStatusCode.Created))["id"]!;
        var otherExp = (string)(await Ok("POST", "/api/v1/experiments/", """{"name":"f","project":"other"}""", HttpStatusCode.Created))["id"]!;
        await Ok("POST", "/api/v1/runs/", $$"""{"experimentId":"{{otherExp}}"}""", HttpStatusCode.Created);
        var run = (string)(await Ok("POST", "/api/v1/runs/", $$"""{"experimentId":"{{exp}}"}""", HttpStatusCode.Created))["runId"]!;
        await WebhookReceiver.Until(() => receiver.Accepted.Count == 1, what: "the run event");
        await Task.Delay(500);
        var only = JsonNode.Parse(receiver.Accepted.Single().Body)!;
        Assert.Equal("run.created", (string)only["type"]!);
        Assert.Equal(run, (string)only["payload"]!["runId"]!);
    }

    [Fact]
    public async Task bad_webhooks_are_refused_with_the_field_named()
    {
        var (status, text) = await Send("POST", "/api/v1/webhooks/", """{"name":"x","url":"ftp://example.com/"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("\"field\":\"url\"", text);
        (status, text) = await Send("POST", "/api/v1/webhooks/", """{"name":"x","url":"http://127.0.0.1:9/","eventTypes":["run.exploded"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("run.exploded", text);
        // The server itself is refused even with private addresses allowed.
        (status, text) = await Send("POST", "/api/v1/webhooks/", $$"""{"name":"x","url":"{{_server.Address}}api/v1/projects/"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("this Lineage server", text);
        Assert.Empty((await Ok("GET", "/api/v1/webhooks/?project=default"))["webhooks"]!.AsArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await Send("GET", "/api/v1/webhooks/")).Status);
    }

    [Fact]
    public async Task mlflow_webhooks_get_mlflow_event_names_payloads_and_signatures()
    {
        var receiver = Receiver();
        var hook = await Ok("POST", "/api/v1/webhooks/", $$"""
            {"name":"ml","url":"{{receiver.Url}}","format":"mlflow","secret":"my-mlflow-secret","eventTypes":["model_version.created","model_version_alias.created","model_version_tag.set"]}
            """, HttpStatusCode.Created);
        await Ok("POST", "/api/v1/artifacts/", $$$"""{"name":"mb","type":"model","external":{"uri":"s3://b/m","digest":"{{{new string('b', 64)}}}","size":3}}""",
            HttpStatusCode.Created);
        await Ok("POST", "/api/v1/models/", """{"name":"fraud"}""", HttpStatusCode.Created);
        await Ok("POST", "/api/v1/models/fraud/versions", """{"artifact":{"name":"mb"},"tags":{"k":"v"}}""", HttpStatusCode.Created);
        await Ok("PUT", "/api/v1/models/fraud/aliases/champion", """{"version":1}""");
        await WebhookReceiver.Until(() => receiver.Accepted.Count == 2, what: "two MLflow deliveries");
        var created = receiver.Accepted.First();
        var body = JsonNode.Parse(created.Body)!;
        Assert.Equal("model_version", (string)body["entity"]!);
        Assert.Equal("created", (string)body["action"]!);
        Assert.Equal("fraud", (string)body["data"]!["name"]!);
        Assert.Equal("1", (string)body["data"]!["version"]!);
        Assert.Equal("v", (string)body["data"]!["tags"]!["k"]!);
        var ts = long.Parse(created.Headers["x-mlflow-timestamp"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(WebhookSignature.Verify(Encoding.UTF8.GetBytes("my-mlflow-secret"), created.Headers["x-mlflow-delivery-id"], ts, created.Body,
            created.Headers["x-mlflow-signature"]));
        var alias = JsonNode.Parse(receiver.Accepted.Last().Body)!;
        Assert.Equal("model_version_alias", (string)alias["entity"]!);
        Assert.Equal("champion", (string)alias["data"]!["alias"]!);
        Assert.Equal("1", (string)alias["data"]!["version"]!);
        Assert.Equal("my-mlflow-secret", (string)hook["secret"]!);
    }
}

public sealed class WebhookPostgresTests : WebhookTests
{
    protected override bool Postgres => true;
}

/// <summary>SSRF: without WebhookAllowPrivate, loopback and private targets are refused before any connection is made.</summary>
public sealed class WebhookSsrfTests
{
    [Fact]
    public async Task private_and_loopback_urls_are_refused_without_the_server_option_and_nothing_connects()
    {
        await using var receiver = new WebhookReceiver();
        await using var server = await TestServer.StartAsync();
        foreach (var url in new[] { receiver.Url, "http://10.1.2.3/x", "http://[::1]:8080/", "http://169.254.169.254/latest/meta-data/", "http://localhost:9/" })
        {
            using var response = await server.Http.PostAsync("/api/v1/webhooks/",
                new StringContent($$"""{"name":"n","url":"{{url}}"}""", Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode} {text}");
            Assert.Contains("--webhook-allow-private", text);
        }
        await Task.Delay(200);
        Assert.Empty(receiver.Requests);
    }
}
