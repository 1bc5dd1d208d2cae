using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Server;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Tests.Events;

/// <summary>
/// Two servers on one PostgreSQL database, both running the alert evaluator (issue 14, part 5): each reads every event and
/// evaluates every rule, yet a crossing fires exactly one alert (one <c>alert.fired</c> event) and its clearing resolves it
/// once, whichever server committed the data; the time-based pass of both servers (every 100 ms here) fires a failed
/// deployment once too.
/// </summary>
public sealed class SharedPostgresAlertTests : IAsyncLifetime
{
    private TestServer _a = null!, _b = null!;

    public async Task InitializeAsync()
    {
        _a = await TestServer.StartAsync(postgres: true, o => o with { AlertInterval = TimeSpan.FromMilliseconds(100) });
        var database = _a.Server.App.Services.GetRequiredService<ServerOptions>().Database;
        _b = await TestServer.StartAsync(postgres: true, o => o with { Database = database, AlertInterval = TimeSpan.FromMilliseconds(100) });
    }

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
    }

    private static async Task<JsonNode> Send(TestServer s, string method, string path, string json, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await s.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private static Task<JsonNode> Log(TestServer s, string run, double value) =>
        Send(s, "POST", $"/api/v1/runs/{run}/batch",
            $$"""{"metrics":[{"key":"val_loss","value":{{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}},"timestamp":{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}},"step":0}]}""",
            HttpStatusCode.OK);

    /// <summary>The <c>alert.*</c> events as "type subject", in id order, read from <paramref name="s"/>.</summary>
    private static async Task<List<string>> AlertEvents(TestServer s) =>
        JsonNode.Parse(await s.Http.GetStringAsync("/api/v1/events/?type=alert.*&limit=1000"))!["events"]!.AsArray()
            .Select(e => $"{(string)e!["type"]!} {(string)e["payload"]!["subject"]!}").ToList();

    private static async Task<List<JsonNode>> Alerts(TestServer s) =>
        JsonNode.Parse(await s.Http.GetStringAsync("/api/v1/alerts/?limit=1000"))!["alerts"]!.AsArray().Select(a => a!).ToList();

    /// <summary>Waits until the alert events seen from both servers are <paramref name="expected"/>, then a while longer: a late duplicate would show.</summary>
    private async Task ExpectEvents(List<string> expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<string> seen;
        while ((seen = await AlertEvents(_a)).Count < expected.Count && DateTime.UtcNow < deadline) await Task.Delay(50);
        // Both evaluators have had many rounds (each wakes at least every 500 ms) to fire a second time.
        await Task.Delay(1500);
        Assert.Equal(expected, await AlertEvents(_a));
        Assert.Equal(expected, await AlertEvents(_b));
    }

    [Fact]
    public async Task a_metric_crossing_fires_one_alert_and_its_clearing_resolves_it_once_though_both_servers_evaluate()
    {
        await Send(_a, "POST", "/api/v1/alerts/rules/", """{"name":"loss-high","kind":"metric_threshold","condition":{"query":"metrics.val_loss > 0.5"}}""",
            HttpStatusCode.Created);
        var exp = (string)(await Send(_a, "POST", "/api/v1/experiments/", """{"name":"shared-alerts"}""", HttpStatusCode.Created))["id"]!;
        var run = (string)(await Send(_b, "POST", "/api/v1/runs/", $$"""{"experimentId":"{{exp}}","name":"train"}""", HttpStatusCode.Created))["runId"]!;
        var subject = $"run:{run}";

        // Crossing up, committed on B; more batches above the threshold on both servers change nothing.
        await Log(_b, run, 0.9);
        await Log(_a, run, 0.8);
        await Log(_b, run, 0.7);
        var expected = new List<string> { $"alert.fired {subject}" };
        await ExpectEvents(expected);
        var fired = Assert.Single(await Alerts(_b));
        Assert.Equal("firing", (string)fired["state"]!);

        // Crossing down, committed on A, then more batches below on both: one resolution of that alert.
        await Log(_a, run, 0.1);
        await Log(_b, run, 0.2);
        expected.Add($"alert.resolved {subject}");
        await ExpectEvents(expected);
        var resolved = Assert.Single(await Alerts(_a));
        Assert.Equal((long)fired["id"]!, (long)resolved["id"]!);
        Assert.Equal("resolved", (string)resolved["state"]!);

        // The next crossing up is committed on both servers at once, five times over: still one new firing, one open alert.
        for (var round = 0; round < 5; round++)
            await Task.WhenAll(Log(_a, run, 0.95), Log(_b, run, 0.96));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await Alerts(_a)).Count(a => (string)a["state"]! == "firing") == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        await Task.Delay(1500);
        var events = await AlertEvents(_a);
        Assert.Equal(events, await AlertEvents(_b));
        Assert.Equal(3, events.Count);
        Assert.Equal($"alert.fired {subject}", events[^1]);
        Assert.Single(await Alerts(_a), a => (string)a["state"]! == "firing");
    }

    [Fact]
    public async Task a_failed_deployment_fires_once_though_both_servers_run_the_timed_pass()
    {
        await Send(_a, "POST", "/api/v1/alerts/rules/", """{"name":"prod-failed","kind":"deployment_failed","condition":{"environment":"prod"}}""",
            HttpStatusCode.Created);
        var exp = (string)(await Send(_a, "POST", "/api/v1/experiments/", """{"name":"shared-deploy"}""", HttpStatusCode.Created))["id"]!;
        var run = (string)(await Send(_a, "POST", "/api/v1/runs/", $$"""{"experimentId":"{{exp}}","name":"train"}""", HttpStatusCode.Created))["runId"]!;
        var artifact = (string)(await Send(_a, "POST", "/api/v1/artifacts/",
            $$$"""{"name":"churn-bytes","type":"model","runId":"{{{run}}}","external":{"uri":"s3://b/churn/1","digest":"{{{new string('a', 64)}}}","size":3}}""",
            HttpStatusCode.Created))["id"]!;
        await Send(_a, "POST", "/api/v1/models/", """{"name":"churn"}""", HttpStatusCode.Created);
        await Send(_a, "POST", "/api/v1/models/churn/versions", $$"""{"artifact":{"id":"{{artifact}}"},"runId":"{{run}}"}""", HttpStatusCode.Created);
        var deployment = (string)(await Send(_b, "POST", "/api/v1/deployments/", """{"environment":"prod","model":"churn","version":1}""", HttpStatusCode.Created))["id"]!;

        await Send(_b, "POST", $"/api/v1/deployments/{deployment}/status", """{"status":"failed","reason":"crash loop"}""", HttpStatusCode.OK);
        var expected = new List<string> { $"alert.fired deployment:{deployment}" };
        await ExpectEvents(expected); // the 1.5 s it waits on: about 15 timed passes on each server
        await Send(_a, "POST", $"/api/v1/deployments/{deployment}/status", """{"status":"pending"}""", HttpStatusCode.OK);
        expected.Add($"alert.resolved deployment:{deployment}");
        await ExpectEvents(expected);
        Assert.Single(await Alerts(_b));
    }
}
