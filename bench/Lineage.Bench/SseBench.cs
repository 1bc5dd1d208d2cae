using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Bench;

/// <summary>
/// Server-Sent Events fan-out (issue 14): the server's CPU time per 1,000 events with no stream subscriber and with
/// <c>--clients</c> subscribers on <c>GET /api/v1/events/stream</c>, at a steady event rate (<c>--events</c> per second, one
/// <c>run.logged</c> event per small log-batch, a ceiling the machine may not reach), each phase <c>--minutes</c> long. CPU time is the server process's user + system
/// time from /proc, which a busy machine slows but does not inflate. Every subscriber must receive every event.
/// </summary>
public static class SseBench
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        using var dir = new TempDir();
        var target = o.Store == "postgres" ? IngestionBench.CreatePostgresDatabase(o.Postgres) : dir.File("sse.db");
        await using var server = await ServerProcess.StartAsync(target, dir.File("artifacts"));
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = Timeout.InfiniteTimeSpan };
        var experiment = (string)(await PostAsync(http, "/api/v1/experiments/", """{"name":"sse"}"""))["id"]!;
        var run = (string)(await PostAsync(http, "/api/v1/runs/", $$"""{"experimentId":"{{experiment}}"}"""))["runId"]!;
        var phase = TimeSpan.FromMinutes(o.Minutes);
        Console.WriteLine($"sse: {o.Store}; {o.Events:N0} events/s for {phase.TotalSeconds:0} s without subscribers, then with {o.Clients}");

        // Warm-up (JIT, caches), not measured.
        await ProduceAsync(http, run, o.Events, TimeSpan.FromSeconds(5));
        var (alone, aloneEvents) = await MeasureAsync(server, () => ProduceAsync(http, run, o.Events, phase));

        using var stop = new CancellationTokenSource();
        var received = new long[o.Clients];
        var after = await LastEventIdAsync(http);
        var subscribers = Enumerable.Range(0, o.Clients).Select(i => Task.Run(() => SubscribeAsync(server.Address, after, i, received, stop.Token))).ToList();
        await Task.Delay(TimeSpan.FromSeconds(2));
        if (subscribers.FirstOrDefault(t => t.IsFaulted) is { } failed) throw new InvalidOperationException("a subscriber failed to connect", failed.Exception);
        var (shared, sharedEvents) = await MeasureAsync(server, () => ProduceAsync(http, run, o.Events, phase));
        var last = await LastEventIdAsync(http);
        var deadline = Stopwatch.StartNew();
        bool Behind() => Enumerable.Range(0, o.Clients).Any(i => Interlocked.Read(ref received[i]) < last - after);
        while (Behind() && deadline.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(100);
        var complete = !Behind();
        stop.Cancel();
        foreach (var s in subscribers) await s.ContinueWith(_ => { }, TaskScheduler.Default);

        var perThousandAlone = alone / aloneEvents * 1000;
        var perThousandShared = shared / sharedEvents * 1000;
        // Extra CPU at 1,000 events/s: the extra seconds per 1,000 events are the extra share of one core at that rate.
        var extraCore = (perThousandShared - perThousandAlone) * 100;
        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| server CPU per 1,000 events, no subscriber ({aloneEvents:N0} events, {aloneEvents / phase.TotalSeconds:N0}/s) | {perThousandAlone * 1000:N0} ms |");
        Console.WriteLine($"| server CPU per 1,000 events, {o.Clients} subscribers ({sharedEvents:N0} events, {sharedEvents / phase.TotalSeconds:N0}/s) | {perThousandShared * 1000:N0} ms |");
        Console.WriteLine($"| extra CPU of {o.Clients} subscribers at 1,000 events/s | {extraCore:0.0}% of one core |");
        Console.WriteLine($"| every subscriber got every event | {(complete ? "yes" : "NO: " + string.Join(",", received.Select(r => r.ToString(CultureInfo.InvariantCulture))))} |");
        return complete ? 0 : 1;
    }

    /// <summary>Runs <paramref name="produce"/> and returns the server's CPU seconds spent meanwhile and the events produced.</summary>
    private static async Task<(double CpuSeconds, long Events)> MeasureAsync(ServerProcess server, Func<Task<long>> produce)
    {
        var before = CpuSeconds(server.Pid);
        var events = await produce();
        return (CpuSeconds(server.Pid) - before, events);
    }

    /// <summary>User + system time of a process (/proc/PID/stat fields 14 and 15, in clock ticks of 1/100 s).</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>One tiny log-batch (one event) every 1/rate seconds from 4 connections, for <paramref name="length"/>.</summary>
    private static async Task<long> ProduceAsync(HttpClient http, string run, int rate, TimeSpan length)
    {
        long sent = 0;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, 4), async (lane, _) =>
        {
            for (long i = lane; ; i += 4)
            {
                var due = TimeSpan.FromSeconds((double)i / rate);
                if (due > length || clock.Elapsed > length) return; // the rate is a ceiling: a slow machine sends fewer
                if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
                await PostAsync(http, $"/api/v1/runs/{run}/batch", $$"""{"metrics":[{"key":"m","value":{{i}},"step":{{i}}}]}""");
                Interlocked.Increment(ref sent);
            }
        });
        return sent;
    }

    private static async Task<long> LastEventIdAsync(HttpClient http)
    {
        long last = 0;
        while (true)
        {
            var page = JsonNode.Parse(await http.GetStringAsync($"/api/v1/events?after={last}&limit=1000"))!;
            var events = page["events"]!.AsArray();
            if (events.Count == 0) return last;
            last = (long)events[^1]!["id"]!;
        }
    }

    private static async Task SubscribeAsync(Uri server, long after, int index, long[] received, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events/stream?after={after}");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (!ct.IsCancellationRequested && await reader.ReadLineAsync(ct) is { } line)
            if (line.StartsWith("id:", StringComparison.Ordinal)) Interlocked.Increment(ref received[index]);
    }

    private static async Task<JsonNode> PostAsync(HttpClient http, string path, string json)
    {
        using var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }
}
