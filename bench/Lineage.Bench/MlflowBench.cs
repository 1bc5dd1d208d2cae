using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Bench;

/// <summary>
/// The MLflow surface against a real server process, everything over HTTP through
/// <c>/api/2.0/mlflow</c>: fills a store with N runs (default 100,000; LINEAGE_BENCH_RUNS) of 10 params,
/// 10 metrics and 5 tags each, then times (1) runs/search with one metric filter, one param filter
/// and ordering by a metric, 100 results, and runs/search of 400 runs with all their data (no filter); (2) metrics/get-history of a 100,000-step series,
/// the same series through the native API, and the runs chart panel's one request for 1,000 runs x 1,000 steps
/// (<c>POST /api/v1/runs/metrics/history</c>, downsampled and whole, in both forms); (3) runs/log-batch of 1,000 metrics.
/// Medians (p50) of --queries repetitions, with the server's CPU time per request.
/// </summary>
public static class MlflowBench
{
    private static readonly string[] Optimizers = ["adam", "sgd", "rmsprop", "adagrad"];

    public static async Task<int> RunAsync(BenchOptions o)
    {
        var runs = int.Parse(Environment.GetEnvironmentVariable("LINEAGE_BENCH_RUNS") ?? "100000", CultureInfo.InvariantCulture);
        var queries = Math.Min(o.Queries, 200);
        using var dir = new TempDir();
        // LINEAGE_BENCH_REUSE: measure again without refilling — a SQLite file kept by an earlier run
        // (LINEAGE_BENCH_KEEP), or on PostgreSQL the database an earlier run printed (databases are kept).
        var reuse = Environment.GetEnvironmentVariable("LINEAGE_BENCH_REUSE") is { Length: > 0 } r ? r : null;
        string target;
        if (o.Store == "postgres")
        {
            target = reuse is null ? IngestionBench.CreatePostgresDatabase(o.Postgres)
                : new Npgsql.NpgsqlConnectionStringBuilder(o.Postgres) { Database = reuse }.ConnectionString;
            Console.WriteLine($"database: {new Npgsql.NpgsqlConnectionStringBuilder(target).Database}");
        }
        else
        {
            target = dir.File("mlflow.db");
            if (reuse is not null) File.Copy(reuse, target);
        }
        await using var server = await ServerProcess.StartAsync(target, dir.File("artifacts"));
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        Console.WriteLine($"mlflow: {o.Store}, {runs:N0} runs x (10 params, 10 metrics, 5 tags), {Math.Max(o.Concurrency, 32)} connections to fill");

        if (reuse is not null)
        {
            var existing = JsonNode.Parse(await http.GetStringAsync("/api/2.0/mlflow/experiments/get-by-name?experiment_name=bench"))!;
            return await MeasureAsync(http, o, (string)existing["experiment"]!["experiment_id"]!, runs, queries, server, target);
        }
        var experiment = (string)(await Post(http, "experiments/create", """{"name": "bench"}"""))["experiment_id"]!;
        var fill = Stopwatch.StartNew();
        var next = -1;
        // Many connections while filling: SQLite's group commit shares one fsync among them.
        var fillers = Math.Max(o.Concurrency, 32);
        await Task.WhenAll(Enumerable.Range(0, fillers).Select(async worker =>
        {
            var random = new Random(worker);
            int i;
            while ((i = Interlocked.Increment(ref next)) < runs)
            {
                var created = await Post(http, "runs/create",
                    $$"""{"experiment_id": "{{experiment}}", "run_name": "run-{{i}}", "start_time": {{1_700_000_000_000L + i}}, "user_id": "bench"}""");
                var runId = (string)created["run"]!["info"]!["run_id"]!;
                var body = new StringBuilder($$"""{"run_id": "{{runId}}", "metrics": [""");
                for (var m = 0; m < 10; m++)
                    body.Append(m == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                        $$"""{"key": "m{{m}}", "value": {{random.NextDouble().ToString("R", CultureInfo.InvariantCulture)}}, "timestamp": 1700000000000, "step": 0}""");
                body.Append("], \"params\": [");
                for (var p = 0; p < 10; p++)
                    body.Append(p == 0 ? "" : ",").Append(p == 0
                        ? $$"""{"key": "p0", "value": "{{Optimizers[random.Next(Optimizers.Length)]}}"}"""
                        : $$"""{"key": "p{{p}}", "value": "v{{random.Next(1000)}}"}""");
                body.Append("], \"tags\": [");
                for (var t = 0; t < 5; t++)
                    body.Append(t == 0 ? "" : ",").Append($$"""{"key": "t{{t}}", "value": "tag-{{random.Next(50)}}"}""");
                body.Append("]}");
                await Post(http, "runs/log-batch", body.ToString());
                if (i % 10_000 == 0 && i > 0) Console.WriteLine($"  {i:N0} runs after {fill.Elapsed.TotalSeconds:N0} s");
            }
        }));
        Console.WriteLine($"  filled in {fill.Elapsed.TotalSeconds:N0} s ({runs / fill.Elapsed.TotalSeconds:N0} runs/s, each one create + one log-batch)");
        return await MeasureAsync(http, o, experiment, runs, queries, server, target);
    }

    private static async Task<int> MeasureAsync(HttpClient http, BenchOptions o, string experiment, int runs, int queries, ServerProcess server, string target)
    {

        // (1) search: metric filter + param filter + order by a metric, 100 results.
        var search = $$"""
            {"experiment_ids": ["{{experiment}}"], "filter": "metrics.m0 > 0.5 AND params.p0 = 'adam'",
             "order_by": ["metrics.m1 DESC"], "max_results": 100}
            """;
        var first = await Post(http, "runs/search", search);
        var returned = first["runs"]!.AsArray().Count;
        var cpu = new ServerCpu(server);
        var searchTimes = await TimeAsync(queries, () => Post(http, "runs/search", search));
        var searchCpu = cpu.PerOp(queries + WarmUp(queries));

        // (1b) a large page: 400 runs with all their data (10 params, 10 metrics, 5 tags each; ~600 KB of JSON), no filter.
        var wide = $$"""{"experiment_ids": ["{{experiment}}"], "max_results": 400}""";
        var wideRuns = (await Post(http, "runs/search", wide))["runs"]!.AsArray().Count;
        var wideBytes = 0;
        cpu = new ServerCpu(server);
        var wideTimes = await TimeAsync(queries, async () =>
        {
            using var response = await http.PostAsync("/api/2.0/mlflow/runs/search", new StringContent(wide, Encoding.UTF8, "application/json"));
            var bytes = await response.Content.ReadAsByteArrayAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException(Encoding.UTF8.GetString(bytes));
            wideBytes = bytes.Length;
            return (JsonNode)null!;
        });
        var wideCpu = cpu.PerOp(queries + WarmUp(queries));

        // (2) history of 100,000 steps: one run, 100 batches of 1,000 points of one key.
        var historyRun = (string)(await Post(http, "runs/create", $$"""{"experiment_id": "{{experiment}}", "run_name": "history"}"""))["run"]!["info"]!["run_id"]!;
        for (var b = 0; b < 100; b++)
        {
            var body = new StringBuilder($$"""{"run_id": "{{historyRun}}", "metrics": [""");
            for (var k = 0; k < 1000; k++)
            {
                var step = b * 1000 + k;
                body.Append(k == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                    $$"""{"key": "loss", "value": {{(1.0 / (1 + step)).ToString("R", CultureInfo.InvariantCulture)}}, "timestamp": {{1_700_000_000_000L + step}}, "step": {{step}}}""");
            }
            await Post(http, "runs/log-batch", body.Append("]}").ToString());
        }
        var historyUrl = $"/api/2.0/mlflow/metrics/get-history?run_id={historyRun}&metric_key=loss";
        var points = JsonNode.Parse(await http.GetStringAsync(historyUrl))!["metrics"]!.AsArray().Count;
        var historyBytes = 0;
        cpu = new ServerCpu(server);
        var historyTimes = await TimeAsync(Math.Max(10, queries / 4), async () =>
        {
            // Timed: request to the last byte of the body; the client's own JSON parsing is not server time.
            using var response = await http.GetAsync(historyUrl);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException(Encoding.UTF8.GetString(bytes));
            historyBytes = bytes.Length;
            return (JsonNode)null!;
        });
        var historyCpu = cpu.PerOp(historyTimes.Count + WarmUp(historyTimes.Count));

        // (2b) the same series through the native API, one page of 100,000 points.
        var nativeUrl = $"/api/v1/runs/{historyRun}/metrics/history?key=loss&limit=100000";
        var nativeBytes = 0;
        cpu = new ServerCpu(server);
        var nativeTimes = await TimeAsync(Math.Max(10, queries / 4), async () =>
        {
            nativeBytes = (await GetBytes(http, nativeUrl)).Length;
            return (JsonNode)null!;
        });
        var nativeCpu = cpu.PerOp(nativeTimes.Count + WarmUp(nativeTimes.Count));

        // (2c) the runs chart panel: one metric of 1,000 runs x 1,000 steps in one POST /api/v1/runs/metrics/history,
        // at the 250 points a run the web UI asks for 1,000 curves, in the default and the compact form, and at full fidelity.
        // In an experiment of their own, so that a reused store's 400-run search still finds the bench's runs.
        var chartExperiment = (string)(await Post(http, "experiments/create", $$"""{"name": "chart-{{Guid.NewGuid():N}}"}"""))["experiment_id"]!;
        var chartRuns = new string[1000];
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async worker =>
        {
            for (var r = worker; r < chartRuns.Length; r += 16)
            {
                var id = (string)(await Post(http, "runs/create", $$"""{"experiment_id": "{{chartExperiment}}", "run_name": "curve-{{r}}"}"""))["run"]!["info"]!["run_id"]!;
                var body = new StringBuilder($$"""{"run_id": "{{id}}", "metrics": [""");
                for (var step = 0; step < 1000; step++)
                    body.Append(step == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                        $$"""{"key": "curve", "value": {{(Math.Exp(-step / 300.0) + r * 1e-4).ToString("R", CultureInfo.InvariantCulture)}}, "timestamp": {{1_700_000_000_000L + step}}, "step": {{step}}}""");
                await Post(http, "runs/log-batch", body.Append("]}").ToString());
                chartRuns[r] = id;
            }
        }));
        var ids = string.Join(",", chartRuns.Select(id => $"\"{id}\""));
        var chart = new List<(string Label, List<double> Times, double Cpu, int Bytes)>();
        foreach (var (label, json) in new[]
                 {
                     ("250 points a run, `points` form", $$"""{"key": "curve", "runIds": [{{ids}}], "maxPoints": 250}"""),
                     ("250 points a run, `columns` form", $$"""{"key": "curve", "runIds": [{{ids}}], "maxPoints": 250, "format": "columns"}"""),
                     ("every point (1,000 a run), `points` form", $$"""{"key": "curve", "runIds": [{{ids}}], "maxPoints": 1000}"""),
                     ("every point (1,000 a run), `columns` form", $$"""{"key": "curve", "runIds": [{{ids}}], "maxPoints": 1000, "format": "columns"}"""),
                 })
        {
            using (var probe = await http.PostAsync("/api/v1/runs/metrics/history", new StringContent(json, Encoding.UTF8, "application/json")))
                if (probe.StatusCode == System.Net.HttpStatusCode.BadRequest) continue; // a server without the compact form
            var bytes = 0;
            cpu = new ServerCpu(server);
            var times = await TimeAsync(Math.Max(10, queries / 10), async () =>
            {
                using var response = await http.PostAsync("/api/v1/runs/metrics/history", new StringContent(json, Encoding.UTF8, "application/json"));
                var body = await response.Content.ReadAsByteArrayAsync();
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException(Encoding.UTF8.GetString(body));
                bytes = body.Length;
                return (JsonNode)null!;
            });
            chart.Add((label, times, cpu.PerOp(times.Count + WarmUp(times.Count)), bytes));
        }

        // (3) log-batch of 1,000 metrics (10 keys x 100 steps), one request after the other.
        var batchRun = (string)(await Post(http, "runs/create", $$"""{"experiment_id": "{{experiment}}", "run_name": "batches"}"""))["run"]!["info"]!["run_id"]!;
        var round = 0;
        cpu = new ServerCpu(server);
        var batchTimes = await TimeAsync(queries, () =>
        {
            var body = new StringBuilder($$"""{"run_id": "{{batchRun}}", "metrics": [""");
            for (var k = 0; k < 1000; k++)
            {
                var step = round * 100 + k / 10;
                body.Append(k == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                    $$"""{"key": "k{{k % 10}}", "value": {{(k * 0.001).ToString("R", CultureInfo.InvariantCulture)}}, "timestamp": 1700000000000, "step": {{step}}}""");
            }
            round++;
            return Post(http, "runs/log-batch", body.Append("]}").ToString());
        });
        var batchCpu = cpu.PerOp(queries + WarmUp(queries));

        if (Environment.GetEnvironmentVariable("LINEAGE_BENCH_KEEP") is { Length: > 0 } keep && o.Store != "postgres")
        {
            await server.StopAsync();
            File.Copy(target, keep, true);
        }

        Console.WriteLine();
        Console.WriteLine($"load average while measuring: {File.ReadAllText("/proc/loadavg").Split(' ')[0]} (machine has {Environment.ProcessorCount} CPUs)");
        Console.WriteLine("| measure | wall time, p50 | server CPU per request | target |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| runs/search, `metrics.m0 > 0.5 AND params.p0 = 'adam'` ordered by `metrics.m1 DESC`, {returned} results of {runs:N0} runs, p50 of {queries} | {P(searchTimes, 50):N1} ms (p90 {P(searchTimes, 90):N1} ms) | {searchCpu:N1} ms | ≤ 20 ms |");
        Console.WriteLine($"| runs/search, no filter, {wideRuns} runs with all their data ({wideBytes / 1e3:N0} KB of JSON), p50 of {queries} | {P(wideTimes, 50):N1} ms (p90 {P(wideTimes, 90):N1} ms) | {wideCpu:N1} ms | ≤ 5 ms SQLite, ≤ 8 ms PostgreSQL |");
        Console.WriteLine($"| metrics/get-history, {points:N0} steps ({historyBytes / 1e6:N1} MB of JSON), p50 of {historyTimes.Count} | {P(historyTimes, 50):N1} ms (p90 {P(historyTimes, 90):N1} ms) | {historyCpu:N1} ms | ≤ 50 ms |");
        Console.WriteLine($"| native history (`GET /api/v1/runs/…/metrics/history`), {points:N0} steps ({nativeBytes / 1e6:N1} MB of JSON), p50 of {nativeTimes.Count} | {P(nativeTimes, 50):N1} ms (p90 {P(nativeTimes, 90):N1} ms) | {nativeCpu:N1} ms | ≤ 20 ms SQLite, ≤ 25 ms PostgreSQL |");
        foreach (var (label, times, chartCpu, bytes) in chart)
            Console.WriteLine($"| runs chart, `POST /api/v1/runs/metrics/history`, 1,000 runs x 1,000 steps, {label} ({bytes / 1e6:N1} MB of JSON), p50 of {times.Count} | {P(times, 50):N1} ms (p90 {P(times, 90):N1} ms) | {chartCpu:N1} ms | |");
        Console.WriteLine($"| runs/log-batch of 1,000 metrics, p50 of {queries} | {P(batchTimes, 50):N2} ms (p90 {P(batchTimes, 90):N2} ms) | {batchCpu:N2} ms | ≤ 3 ms |");
        return 0;
    }

    /// <summary>
    /// CPU time the server process spent (user + system) across the timed requests, divided by their
    /// number (warm-up requests counted too): a figure that other load on a shared machine does not inflate.
    /// </summary>
    private sealed class ServerCpu(ServerProcess server)
    {
        private readonly TimeSpan _start = Now(server);

        private static TimeSpan Now(ServerProcess server)
        {
            server.Process.Refresh();
            return server.Process.TotalProcessorTime;
        }

        public double PerOp(int count) => (Now(server) - _start).TotalMilliseconds / count;
    }

    private static async Task<byte[]> GetBytes(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException(Encoding.UTF8.GetString(bytes));
        return bytes;
    }

    private static async Task<JsonNode> Post(HttpClient http, string path, string json)
    {
        using var response = await http.PostAsync("/api/2.0/mlflow/" + path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>
    /// As many untimed calls first: tiered compilation optimizes a method fully only after about 30 calls (and then in
    /// the background, with profile-guided tiers in between), and a server just
    /// started on a reused store (LINEAGE_BENCH_REUSE) has run none of the measured paths yet.
    /// </summary>
    private static int WarmUp(int count) => count;

    private static async Task<List<double>> TimeAsync(int count, Func<Task<JsonNode>> action)
    {
        for (var i = 0; i < WarmUp(count); i++) await action();
        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var watch = Stopwatch.StartNew();
            await action();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return times;
    }

    private static double P(List<double> values, int p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1)];
    }
}
