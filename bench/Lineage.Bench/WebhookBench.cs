using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Events;
using Lineage.Tests.Support;

namespace Lineage.Bench;

/// <summary>
/// Webhook delivery (issue 14): commit-to-delivery latency at a steady 100 events/s to a loopback receiver, then delivery
/// throughput of a backlog of <c>--events</c> events queued while the receiver was failing (in order, each once).
/// A real `lineage server` process; the receiver is an HttpListener in this process.
/// </summary>
public static class WebhookBench
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        using var dir = new TempDir();
        var target = o.Store == "postgres" ? IngestionBench.CreatePostgresDatabase(o.Postgres) : dir.File("webhooks.db");
        await using var server = await ServerProcess.StartAsync(target, dir.File("artifacts"), "--webhook-allow-private");
        using var http = new HttpClient { BaseAddress = server.Address };
        await using var receiver = new WebhookReceiver();
        var hook = await PostAsync(http, "/api/v1/webhooks/", $$"""{"name":"bench","url":"{{receiver.Url}}","eventTypes":["experiment.created"]}""");
        var hookId = (long)hook["id"]!;

        // 1. Latency: one event every 10 ms for 20 s; event time (stamped in the committing transaction) → arrival at the receiver.
        const int steady = 2000;
        Console.WriteLine($"webhooks: {o.Store}; latency at 100 events/s ({steady} events), then a backlog of {o.Events:N0}");
        var start = Stopwatch.StartNew();
        for (var i = 0; i < steady; i++)
        {
            var due = TimeSpan.FromMilliseconds(i * 10);
            if (start.Elapsed < due) await Task.Delay(due - start.Elapsed);
            await PostAsync(http, "/api/v1/experiments/", $$"""{"name":"steady-{{i}}"}""");
        }
        await WebhookReceiver.Until(() => receiver.Accepted.Count >= steady, 120, "the steady deliveries");
        var latencies = receiver.Accepted.Select(r => (r.At - DateTimeOffset.FromUnixTimeMilliseconds((long)JsonNode.Parse(r.Body)!["time"]!).UtcDateTime)
            .TotalMilliseconds).Order().ToArray();

        // 2. Backlog: the receiver fails, events pile up behind the blocked head, the receiver comes back, the head is redelivered.
        receiver.Answer = _ => Task.FromResult(503);
        await PostAsync(http, "/api/v1/experiments/", """{"name":"backlog-head"}""");
        await WebhookReceiver.Until(() => receiver.Requests.Count > steady, 30, "the failing head");
        var queued = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, o.Events), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency },
            async (i, _) => await PostAsync(http, "/api/v1/experiments/", $$"""{"name":"backlog-{{i:D6}}"}"""));
        var queueSeconds = queued.Elapsed.TotalSeconds;
        var head = (await GetAsync(http, $"/api/v1/webhooks/{hookId}/deliveries?status=pending&limit=1000"))["deliveries"]!.AsArray()
            .OrderBy(d => (long)d!["eventId"]!).First()!;
        var before = receiver.Accepted.Count;
        receiver.Answer = _ => Task.FromResult(204);
        var drain = Stopwatch.StartNew();
        await PostAsync(http, $"/api/v1/webhooks/{hookId}/deliveries/{(long)head["id"]!}/redeliver", null);
        await WebhookReceiver.Until(() => receiver.Accepted.Count >= before + o.Events + 1, 1800, "the backlog");
        var drainSeconds = drain.Elapsed.TotalSeconds;
        var backlog = receiver.Accepted.Skip(before).Select(r => (long)JsonNode.Parse(r.Body)!["id"]!).ToList();
        var inOrder = backlog.Zip(backlog.Skip(1)).All(p => p.First < p.Second);
        var distinct = backlog.Distinct().Count();

        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| commit-to-delivery p50 (100 events/s, {steady} events) | {Percentile(latencies, 0.50):0.0} ms |");
        Console.WriteLine($"| commit-to-delivery p99 | {Percentile(latencies, 0.99):0.0} ms |");
        Console.WriteLine($"| backlog queued ({o.Events:N0} events, {o.Concurrency} clients) | {queueSeconds:0.0} s |");
        Console.WriteLine($"| backlog delivered after the receiver came back | {drainSeconds:0.0} s = {(o.Events + 1) / drainSeconds:N0} deliveries/s |");
        Console.WriteLine($"| backlog in event order, each once | {(inOrder && distinct == backlog.Count ? "yes" : "NO")} ({backlog.Count:N0} accepted, {distinct:N0} distinct) |");
        return inOrder && distinct == backlog.Count ? 0 : 1;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static async Task<JsonNode> PostAsync(HttpClient http, string path, string? json)
    {
        using var response = await http.PostAsync(path, json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    private static async Task<JsonNode> GetAsync(HttpClient http, string path) => JsonNode.Parse(await http.GetStringAsync(path))!;
}
