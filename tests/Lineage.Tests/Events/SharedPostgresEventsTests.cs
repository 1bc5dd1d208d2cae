using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Server;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Tests.Events;

/// <summary>
/// Two servers on one PostgreSQL database (issue 14): a reader paging the event log with <c>after=</c> while both write
/// never skips an event that commits late with a smaller id, and a webhook's events are delivered once each, in order,
/// whichever server committed them and whichever server sends.
/// </summary>
public sealed class SharedPostgresEventsTests : IAsyncLifetime
{
    private TestServer _a = null!, _b = null!;

    public async Task InitializeAsync()
    {
        _a = await TestServer.StartAsync(postgres: true, o => o with { WebhookAllowPrivate = true });
        var database = _a.Server.App.Services.GetRequiredService<ServerOptions>().Database;
        _b = await TestServer.StartAsync(postgres: true, o => o with { Database = database, WebhookAllowPrivate = true });
    }

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
    }

    private static async Task<JsonNode> Post(TestServer s, string path, string json)
    {
        using var response = await s.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task a_reader_paging_after_the_last_id_misses_nothing_while_two_servers_write()
    {
        const int perServer = 150;
        var writing = Task.WhenAll(new[] { _a, _b }.Select((s, n) => Task.Run(async () =>
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, perServer), new ParallelOptions { MaxDegreeOfParallelism = 4 },
                async (i, _) => await Post(s, "/api/v1/experiments/", $$"""{"name":"s{{n}}-{{i}}"}"""));
        })));
        var seen = new List<long>();
        long after = 0;
        while (true)
        {
            var done = writing.IsCompleted;
            var page = JsonNode.Parse(await _b.Http.GetStringAsync($"/api/v1/events/?after={after}&limit=1000"))!["events"]!.AsArray();
            foreach (var e in page) seen.Add((long)e!["id"]!);
            if (page.Count > 0) after = seen[^1];
            if (done && page.Count == 0 && seen.Count >= 2 * perServer) break;
            if (done && page.Count == 0) await Task.Delay(100);
        }
        await writing;
        var all = JsonNode.Parse(await _a.Http.GetStringAsync("/api/v1/events/?limit=1000"))!["events"]!.AsArray().Select(e => (long)e!["id"]!).ToList();
        Assert.Equal(2 * perServer, all.Count);
        Assert.Equal(all, seen);
        Assert.Equal(Enumerable.Range(1, 2 * perServer).Select(i => (long)i), all);
    }

    [Fact]
    public async Task each_event_is_delivered_once_in_order_whichever_server_commits_or_sends()
    {
        await using var receiver = new WebhookReceiver();
        await Post(_a, "/api/v1/webhooks/", $$"""{"name":"shared","url":"{{receiver.Url}}","eventTypes":["experiment.created"]}""");
        const int count = 120;
        for (var i = 0; i < count; i++) await Post(i % 2 == 0 ? _a : _b, "/api/v1/experiments/", $$"""{"name":"d{{i}}"}""");
        await WebhookReceiver.Until(() => receiver.Accepted.Count >= count, 60, "every delivery");
        await Task.Delay(1000);
        var ids = receiver.Requests.Select(r => r.Headers["webhook-id"]).ToList();
        Assert.Equal(count, ids.Count);
        Assert.Equal(count, ids.Distinct().Count());
        var names = receiver.Accepted.Select(r => (string)JsonNode.Parse(r.Body)!["payload"]!["name"]!).ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"d{i}"), names);
    }
}
