using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Events;
using Lineage.Tests.Support;

namespace Lineage.Bench;

/// <summary>
/// Webhook delivery (issue 14): commit-to-delivery latency at a steady 100 events/s to a loopback receiver, then delivery
/// throughput of a backlog of <c>--events</c> events queued while the receiver was failing (in order per webhook, each once),
/// to <c>--webhooks</c> webhooks at once. With <c>--outage-minutes</c> the receiver stays down that long and delivery resumes
/// by the server's own retry schedule; otherwise each webhook's failed head is redelivered by hand as soon as it is back.
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
        // One path per webhook under the receiver, so each delivery says whose it is.
        var hooks = new List<long>();
        for (var k = 0; k < o.Webhooks; k++)
            hooks.Add((long)(await PostAsync(http, "/api/v1/webhooks/",
                $$"""{"name":"bench-{{k}}","url":"{{receiver.Url}}w{{k}}","eventTypes":["experiment.created"]}"""))["id"]!);

        // 1. Latency: one event every 10 ms for 20 s; event time (stamped in the committing transaction) → arrival at the receiver.
        const int steady = 2000;
        Console.WriteLine($"webhooks: {o.Store}; {o.Webhooks} webhook(s); latency at 100 events/s ({steady} events), then a backlog of {o.Events:N0} events" +
            (o.OutageMinutes > 0 ? $" behind a {o.OutageMinutes:0.#}-minute outage" : ""));
        var start = Stopwatch.StartNew();
        for (var i = 0; i < steady; i++)
        {
            var due = TimeSpan.FromMilliseconds(i * 10);
            if (start.Elapsed < due) await Task.Delay(due - start.Elapsed);
            await PostAsync(http, "/api/v1/experiments/", $$"""{"name":"steady-{{i}}"}""");
        }
        await WebhookReceiver.Until(() => receiver.Accepted.Count >= steady * o.Webhooks, 300, "the steady deliveries");
        var latencies = receiver.Accepted.Select(r => (r.At - DateTimeOffset.FromUnixTimeMilliseconds((long)JsonNode.Parse(r.Body)!["time"]!).UtcDateTime)
            .TotalMilliseconds).Order().ToArray();

        // 2. Backlog: the receiver fails, events pile up behind each webhook's blocked head, the receiver comes back.
        receiver.Answer = _ => Task.FromResult(503);
        var outage = Stopwatch.StartNew();
        await PostAsync(http, "/api/v1/experiments/", """{"name":"backlog-head"}""");
        await WebhookReceiver.Until(() => receiver.Requests.Count >= (steady + 1) * o.Webhooks, 60, "the failing heads");
        var queued = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, o.Events), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency },
            async (i, _) => await PostAsync(http, "/api/v1/experiments/", $$"""{"name":"backlog-{{i:D6}}"}"""));
        var queueSeconds = queued.Elapsed.TotalSeconds;
        var before = receiver.Accepted.Count;
        var expected = before + (o.Events + 1) * o.Webhooks;
        if (o.OutageMinutes > 0)
        {
            var down = TimeSpan.FromMinutes(o.OutageMinutes) - outage.Elapsed;
            if (down > TimeSpan.Zero) await Task.Delay(down);
        }
        receiver.Answer = _ => Task.FromResult(204);
        var drain = Stopwatch.StartNew();
        if (o.OutageMinutes <= 0)
            foreach (var hookId in hooks)
            {
                var head = (await GetAsync(http, $"/api/v1/webhooks/{hookId}/deliveries?status=pending&limit=1000"))["deliveries"]!.AsArray()
                    .OrderBy(d => (long)d!["eventId"]!).First()!;
                await PostAsync(http, $"/api/v1/webhooks/{hookId}/deliveries/{(long)head["id"]!}/redeliver", null);
            }
        // The first delivery after the outage: with retries, the next attempt may be minutes away (up to half the last backoff).
        await WebhookReceiver.Until(() => receiver.Accepted.Count > before, 3600, "the first delivery after the outage");
        var resumedSeconds = drain.Elapsed.TotalSeconds;
        var flowing = Stopwatch.StartNew();
        await WebhookReceiver.Until(() => receiver.Accepted.Count >= expected, 3600, "the backlog");
        var drainSeconds = drain.Elapsed.TotalSeconds;
        var flowSeconds = flowing.Elapsed.TotalSeconds;
        var backlog = receiver.Accepted.Skip(before).ToList();
        var perHook = backlog.GroupBy(r => r.Path).Select(g => g.Select(r => (long)JsonNode.Parse(r.Body)!["id"]!).ToList()).ToList();
        var inOrder = perHook.All(ids => ids.Zip(ids.Skip(1)).All(p => p.First < p.Second));
        var eachOnce = perHook.Count == o.Webhooks && perHook.All(ids => ids.Distinct().Count() == ids.Count && ids.Count == o.Events + 1);
        var rss = server.ResidentBytes();

        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| commit-to-delivery p50 (100 events/s, {steady} events, {o.Webhooks} webhook(s)) | {Percentile(latencies, 0.50):0.0} ms |");
        Console.WriteLine($"| commit-to-delivery p99 | {Percentile(latencies, 0.99):0.0} ms |");
        Console.WriteLine($"| backlog queued ({o.Events:N0} events, {o.Concurrency} clients) | {queueSeconds:0.0} s |");
        if (o.OutageMinutes > 0)
            Console.WriteLine($"| receiver down | {o.OutageMinutes:0.#} min; first delivery {resumedSeconds:0.0} s after it came back (the retry schedule) |");
        Console.WriteLine($"| backlog delivered ({backlog.Count:N0} deliveries to {o.Webhooks} webhook(s)) | {drainSeconds:0.0} s after the receiver came back; " +
            $"{backlog.Count / flowSeconds:N0} deliveries/s once flowing |");
        Console.WriteLine($"| backlog in event order per webhook, each once | {(inOrder && eachOnce ? "yes" : "NO")} |");
        Console.WriteLine($"| server resident memory after the backlog | {rss / 1048576.0:N0} MiB |");
        return inOrder && eachOnce ? 0 : 1;
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
