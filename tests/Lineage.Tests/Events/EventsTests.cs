using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Core.Events;
using Lineage.Core.Governance;
using Lineage.Server;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;

namespace Lineage.Tests.Events;

/// <summary>
/// Issue 14, parts 1 and 2: the outbox (an event exists if and only if its write committed), the event list and the
/// Server-Sent Events stream, both scoped to the projects the caller may read. Runs on SQLite and PostgreSQL.
/// </summary>
public class EventsTests : IAsyncLifetime
{
    protected virtual bool Postgres => false;
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(Postgres, o => o with { CredentialCache = TimeSpan.Zero });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, string Text)> Send(string method, string path, string? json = null, string? token = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonNode> Ok(string method, string path, string? json = null, HttpStatusCode expected = HttpStatusCode.OK, string? token = null)
    {
        var (status, text) = await Send(method, path, json, token);
        Assert.True(status == expected, $"{method} {path}: expected {(int)expected}, got {(int)status}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    /// <summary>Events after <paramref name="after"/>, waiting briefly for PostgreSQL's sequencer to number them.</summary>
    private async Task<List<JsonNode>> EventsAsync(string query = "", int atLeast = 0, string? token = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var page = await Ok("GET", $"/api/v1/events/?limit=1000{query}", token: token);
            var events = page["events"]!.AsArray().Select(e => e!).ToList();
            if (events.Count >= atLeast || DateTime.UtcNow > deadline) return events;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task every_committed_write_has_its_event_and_a_rejected_write_has_none()
    {
        var exp = (string)(await Ok("POST", "/api/v1/experiments/", """{"name":"ev-exp"}""", HttpStatusCode.Created))["id"]!;
        var run = (string)(await Ok("POST", "/api/v1/runs/", $$"""{"experimentId":"{{exp}}","name":"r1"}""", HttpStatusCode.Created))["runId"]!;
        await Ok("POST", $"/api/v1/runs/{run}/batch", """{"params":[{"key":"lr","value":"0.1"}],"metrics":[{"key":"loss","value":0.5,"step":0},{"key":"loss","value":0.25,"step":1}]}""");
        // Rejected: a param changed (400), an experiment name taken (409), a run that does not exist (404).
        await Ok("POST", $"/api/v1/runs/{run}/batch", """{"params":[{"key":"lr","value":"0.2"}],"metrics":[{"key":"loss","value":9,"step":2}]}""",
            HttpStatusCode.BadRequest);
        await Ok("POST", "/api/v1/experiments/", """{"name":"ev-exp"}""", HttpStatusCode.Conflict);
        await Ok("POST", "/api/v1/runs/0123456789abcdef0123456789abcdef/batch", """{"metrics":[{"key":"loss","value":1,"step":0}]}""", HttpStatusCode.NotFound);
        await Ok("PATCH", $"/api/v1/runs/{run}", """{"status":"FINISHED"}""");

        var events = await EventsAsync(atLeast: 4);
        Assert.Equal(["experiment.created", "run.created", "run.logged", "run.finished"], events.Select(e => (string)e["type"]!).ToArray());
        var ids = events.Select(e => (long)e["id"]!).ToList();
        Assert.Equal(ids.Order().ToList(), ids);
        var logged = events[2];
        Assert.Equal($"run:{run}", (string)logged["entity"]!);
        Assert.Equal("default", (string)logged["project"]!);
        Assert.Equal(2, (int)logged["payload"]!["metricPoints"]!);
        Assert.Equal(0.25, (double)logged["payload"]!["metrics"]!["loss"]!);

        // Filters: by type (exact and entity.*), by position.
        Assert.Single(await EventsAsync("&type=run.finished"));
        Assert.Equal(3, (await EventsAsync("&type=run.*")).Count);
        Assert.Equal(2, (await EventsAsync($"&after={ids[1]}")).Count);
        var bad = await Send("GET", "/api/v1/events/?type=run.exploded");
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Contains("run.exploded", bad.Text);
    }

    [Fact]
    public async Task registry_and_deployment_changes_are_events()
    {
        await Ok("POST", "/api/v1/artifacts/", $$$"""{"name":"m-bytes","type":"model","external":{"uri":"s3://b/m","digest":"{{{new string('a', 64)}}}","size":3}}""",
            HttpStatusCode.Created);
        await Ok("POST", "/api/v1/models/", """{"name":"churn"}""", HttpStatusCode.Created);
        await Ok("POST", "/api/v1/models/churn/versions", """{"artifact":{"name":"m-bytes"}}""", HttpStatusCode.Created);
        await Ok("PUT", "/api/v1/models/churn/aliases/champion", """{"version":1}""");
        var dep = (string)(await Ok("POST", "/api/v1/deployments/", """{"environment":"prod","model":"churn","version":1}""", HttpStatusCode.Created))["id"]!;
        await Ok("POST", $"/api/v1/deployments/{dep}/status", """{"status":"failed","reason":"crash loop"}""");
        var types = (await EventsAsync(atLeast: 6)).Select(e => (string)e["type"]!).ToList();
        Assert.Equal(["artifact_version.created", "registered_model.created", "model_version.created", "model_alias.moved", "deployment.created",
            "deployment.status_changed"], types);
        var failed = (await EventsAsync("&type=deployment.status_changed")).Single();
        Assert.Equal("failed", (string)failed["payload"]!["toStatus"]!);
    }

    [Fact]
    public async Task a_reader_sees_only_events_of_projects_it_may_read()
    {
        var (root, reader) = await AlphaAndBetaAsync();
        await Ok("POST", "/api/v1/experiments/", """{"name":"a-exp","project":"alpha"}""", HttpStatusCode.Created, root);
        await Ok("POST", "/api/v1/experiments/", """{"name":"b-secret-exp","project":"beta"}""", HttpStatusCode.Created, root);

        Assert.Equal(2, (await EventsAsync(atLeast: 2, token: root)).Count);
        var seen = await EventsAsync(token: reader);
        Assert.Equal(["alpha"], seen.Select(e => (string)e["project"]!).ToArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("GET", "/api/v1/events/?project=beta", token: reader)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send("GET", "/api/v1/events/")).Status);

        // The stream is scoped the same way: from the start, the reader gets alpha's event only.
        var streamed = await StreamAsync("?after=0", 1, reader, TimeSpan.FromSeconds(2));
        Assert.DoesNotContain("b-secret", string.Join("\n", streamed));
        Assert.Single(streamed, l => l.StartsWith("data: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task the_stream_delivers_new_events_live_and_resumes_after_last_event_id()
    {
        var exp = (string)(await Ok("POST", "/api/v1/experiments/", """{"name":"live"}""", HttpStatusCode.Created))["id"]!;
        var first = (long)(await EventsAsync(atLeast: 1))[0]["id"]!;

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events/stream?type=run.*");
        request.Headers.Add("Last-Event-ID", first.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await _server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var runs = new List<string>();
        for (var i = 0; i < 3; i++)
            runs.Add((string)(await Ok("POST", "/api/v1/runs/", $$"""{"experimentId":"{{exp}}"}""", HttpStatusCode.Created))["runId"]!);
        var got = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (got.Count < 3)
        {
            var line = await reader.ReadLineAsync(cts.Token);
            if (line is null) break;
            if (line.StartsWith("data: ", StringComparison.Ordinal)) got.Add((string)JsonNode.Parse(line[6..])!["payload"]!["runId"]!);
        }
        Assert.Equal(runs, got);
    }

    [Fact]
    public async Task the_runs_search_names_the_event_head_a_stream_resumes_after_so_a_live_page_misses_nothing()
    {
        var exp = (string)(await Ok("POST", "/api/v1/experiments/", """{"name":"head"}""", HttpStatusCode.Created))["id"]!;
        var run = (string)(await Ok("POST", "/api/v1/runs/", $$"""{"experimentId":"{{exp}}","name":"r"}""", HttpStatusCode.Created))["runId"]!;
        var before = await EventsAsync(atLeast: 2);

        using var search = await _server.Http.GetAsync($"/api/v1/search/runs?experimentId={exp}");
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        var head = long.Parse(Assert.Single(search.Headers.GetValues("Lineage-Events-Head")), System.Globalization.CultureInfo.InvariantCulture);
        // Every event numbered so far is at or below the head: the page read includes what they changed.
        Assert.Equal((long)before[^1]["id"]!, head);

        // Logged after the page was read and before the stream opened: the stream after the head delivers it.
        await Ok("POST", $"/api/v1/runs/{run}/batch", """{"metrics":[{"key":"loss","value":0.5,"step":0}]}""");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events/stream?type=run.*&after={head}");
        using var response = await _server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        JsonNode? first = null;
        while (first is null && await reader.ReadLineAsync(cts.Token) is { } line)
            if (line.StartsWith("data: ", StringComparison.Ordinal)) first = JsonNode.Parse(line[6..]);
        Assert.Equal(run, (string)first!["payload"]!["runId"]!);
        Assert.True((long)first["id"]! > head);
    }

    [Fact]
    public async Task streams_share_one_reader_of_the_log_yet_each_gets_its_own_scope_in_order_without_gaps()
    {
        var (root, reader) = await AlphaAndBetaAsync();
        for (var i = 0; i < 4; i++)
            await Ok("POST", "/api/v1/experiments/", $$"""{"name":"old-{{i}}","project":"{{(i % 2 == 0 ? "alpha" : "beta")}}"}""", HttpStatusCode.Created, root);
        await EventsAsync(atLeast: 4, token: root);

        // Two live streams (one per scope) open before the new writes; the shared feed serves both.
        using var admin = await OpenStreamAsync("", root);
        using var scoped = await OpenStreamAsync("", reader);
        for (var i = 0; i < 6; i++)
            await Ok("POST", "/api/v1/experiments/", $$"""{"name":"new-{{i}}","project":"{{(i % 2 == 0 ? "alpha" : "beta")}}"}""", HttpStatusCode.Created, root);
        // A third stream resumes from the start while the feed's window already exists: old events come from the store, new ones
        // from the window, each once and in order.
        using var resumed = await OpenStreamAsync("?after=0", root);

        var live = await admin.ReadAsync(6);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"new-{i}"), live.Select(e => (string)e.Data["payload"]!["name"]!));
        var mine = await scoped.ReadAsync(3);
        Assert.Equal(["new-0", "new-2", "new-4"], mine.Select(e => (string)e.Data["payload"]!["name"]!));
        Assert.All(mine, e => Assert.Equal("alpha", (string)e.Data["project"]!));
        var all = await resumed.ReadAsync(10);
        Assert.Equal(all.Select(e => e.Id).Order(), all.Select(e => e.Id));
        Assert.Equal(all.Count, all.Select(e => e.Id).Distinct().Count());
        Assert.Equal([.. Enumerable.Range(0, 4).Select(i => $"old-{i}"), .. Enumerable.Range(0, 6).Select(i => $"new-{i}")],
            all.Select(e => (string)e.Data["payload"]!["name"]!));
        // Nothing more is on its way to the scoped stream: beta's events were never sent to it.
        Assert.Empty(await scoped.ReadAsync(1, TimeSpan.FromMilliseconds(500), require: false));
    }

    private sealed record StreamedEvent(long Id, JsonNode Data);

    /// <summary>An open event stream, read a number of events at a time.</summary>
    private sealed class OpenStream(HttpResponseMessage response, StreamReader reader) : IDisposable
    {
        public async Task<List<StreamedEvent>> ReadAsync(int count, TimeSpan? wait = null, bool require = true)
        {
            var got = new List<StreamedEvent>();
            using var cts = new CancellationTokenSource(wait ?? TimeSpan.FromSeconds(15));
            long id = 0;
            try
            {
                while (got.Count < count)
                {
                    var line = await reader.ReadLineAsync(cts.Token);
                    if (line is null) break;
                    if (line.StartsWith("id: ", StringComparison.Ordinal)) id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
                    if (line.StartsWith("data: ", StringComparison.Ordinal)) got.Add(new StreamedEvent(id, JsonNode.Parse(line[6..])!));
                }
            }
            catch (OperationCanceledException) when (!require)
            {
                // Waited the whole time for events that should not come.
            }
            if (require) Assert.Equal(count, got.Count);
            return got;
        }

        public void Dispose()
        {
            reader.Dispose();
            response.Dispose();
        }
    }

    private async Task<OpenStream> OpenStreamAsync(string query, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events/stream" + query);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await _server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal(": lineage event stream", await reader.ReadLineAsync()); // the stream has started (its position is fixed)
        return new OpenStream(response, reader);
    }

    /// <summary>Projects alpha and beta, a server admin's token and the token of a reader of alpha only.</summary>
    private async Task<(string Root, string Reader)> AlphaAndBetaAsync()
    {
        var gov = new GovernanceStore(_server.Server.Database);
        await gov.CreatePrincipalAsync("root", PrincipalKind.User, null, true, "test");
        var root = (await gov.IssueTokenAsync("root", null, TimeSpan.FromHours(1), "test")).Secret;
        await Ok("POST", "/api/v1/projects/", """{"name":"alpha"}""", HttpStatusCode.Created, root);
        await Ok("POST", "/api/v1/projects/", """{"name":"beta"}""", HttpStatusCode.Created, root);
        await gov.CreatePrincipalAsync("readerA", PrincipalKind.User, null, false, "test");
        await gov.GrantAsync("readerA", "alpha", Role.Reader, "test");
        var reader = (await gov.IssueTokenAsync("readerA", null, TimeSpan.FromHours(1), "test")).Secret;
        return (root, reader);
    }

    /// <summary>Reads the stream for a while and returns its lines.</summary>
    private async Task<List<string>> StreamAsync(string query, int dataLines, string? token, TimeSpan wait)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events/stream" + query);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var lines = new List<string>();
        using var cts = new CancellationTokenSource(wait);
        try
        {
            while (true)
            {
                var line = await reader.ReadLineAsync(cts.Token);
                if (line is null) break;
                lines.Add(line);
            }
        }
        catch (OperationCanceledException)
        {
            // Read for the whole wait, so an event that should not come had its chance.
        }
        Assert.True(lines.Count(l => l.StartsWith("data: ", StringComparison.Ordinal)) >= dataLines);
        return lines;
    }
}

public sealed class EventsPostgresTests : EventsTests
{
    protected override bool Postgres => true;
}
