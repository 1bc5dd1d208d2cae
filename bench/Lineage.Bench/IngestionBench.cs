using System.Diagnostics;
using Lineage.Client;
using Lineage.Core.Contracts.V1;
using Lineage.Tests.Support;
using Npgsql;

namespace Lineage.Bench;

public static class IngestionBench
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        using var dir = new TempDir();
        var target = o.Store == "postgres" ? CreatePostgresDatabase(o.Postgres) : dir.File("bench.db");
        var artifacts = dir.File("artifacts");
        Console.WriteLine($"store={o.Store} points={o.Points:N0} batch={o.BatchSize} keys={o.Keys} concurrency={o.Concurrency} auth={(o.Auth ? "on" : "off")}");
        string? token = null;
        if (o.Auth)
        {
            // Authentication on: a principal with a token; every batch is then authenticated and audited.
            await using var db = await Lineage.Storage.Engine.Database.OpenAsync(target);
            var gov = new Lineage.Storage.Governance.GovernanceStore(db);
            await gov.CreatePrincipalAsync("bench", Lineage.Core.Governance.PrincipalKind.Service, null, true, "bench");
            token = (await gov.IssueTokenAsync("bench", null, TimeSpan.FromDays(1), "bench")).Secret;
        }

        double[] windowRates;
        double overallRate;
        string[] serverArgs = o.RateLimit is { } limit ? ["--rate-limit", limit.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];
        await using (var server = await ServerProcess.StartAsync(target, artifacts, serverArgs))
        {
            using var client = new LineageClient(server.Address) { Token = token };
            var experiment = await client.CreateExperimentAsync("bench");
            (overallRate, windowRates) = await IngestAsync(client, experiment.Id, o);
            await server.StopAsync(); // graceful: checkpoints the SQLite WAL into the main file
        }

        var bytes = o.Store == "postgres" ? PostgresBytes(target) : SqliteBytes(target);

        var startups = new List<double>();
        long idleRss = 0;
        for (var i = 0; i < o.Restarts; i++)
        {
            await using var server = await ServerProcess.StartAsync(target, artifacts);
            startups.Add(server.StartupTime.TotalMilliseconds);
            if (i == o.Restarts - 1)
            {
                using var client = new LineageClient(server.Address) { Token = token };
                var runs = await client.ListRunsAsync(limit: 10);
                await client.GetMetricHistoryAsync(runs.Runs[0].RunId, "metric_0", 1000);
                await Task.Delay(TimeSpan.FromSeconds(5));
                idleRss = server.ResidentBytes();
            }
        }

        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| ingestion, median of 1M-point windows | {Statistics.Median(windowRates):N0} points/s |");
        Console.WriteLine($"| ingestion, overall ({o.Points:N0} points) | {overallRate:N0} points/s |");
        Console.WriteLine($"| slowest 1M-point window | {windowRates.Min():N0} points/s |");
        Console.WriteLine($"| size on disk / point | {(double)bytes / o.Points:F1} bytes ({bytes / 1048576.0:N0} MiB total) |");
        Console.WriteLine($"| start-up to /ready on the filled store, median of {o.Restarts} | {Statistics.Median(startups):N0} ms |");
        Console.WriteLine($"| server resident memory, idle after a read | {idleRss / 1048576.0:N0} MiB |");
        return 0;
    }

    /// <summary>
    /// Sends o.Points points over a few runs, each batch interleaving o.Keys keys at rising steps,
    /// from o.Concurrency connections. Returns the overall rate and the rate of each 1M-point window.
    /// </summary>
    private static async Task<(double Overall, double[] Windows)> IngestAsync(LineageClient client, string experimentId, BenchOptions o)
    {
        var batches = o.Points / o.BatchSize;
        var runs = new string[Math.Max(1, o.Concurrency)];
        for (var i = 0; i < runs.Length; i++)
            runs[i] = (await client.CreateRunAsync(new CreateRunRequest(experimentId, $"bench-{i}"))).RunId;

        long next = -1, done = 0;
        var windowSize = Math.Max(1, 1_000_000 / o.BatchSize);
        var windowTimes = new List<double>();
        var watch = Stopwatch.StartNew();
        var lastWindow = 0.0;
        var gate = new object();
        var random = new Random(42);

        async Task Worker(int w)
        {
            var run = runs[w];
            long batchOfRun = 0;
            while (true)
            {
                var b = Interlocked.Increment(ref next);
                if (b >= batches) return;
                var stepBase = batchOfRun++ * (o.BatchSize / o.Keys);
                var metrics = new List<LogMetricRequest>(o.BatchSize);
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                for (var i = 0; i < o.BatchSize; i++)
                {
                    var step = stepBase + i / o.Keys;
                    double value;
                    lock (random) value = Math.Exp(-step / 50_000.0) + random.NextDouble() * 0.01; // a noisy decaying loss
                    metrics.Add(new LogMetricRequest($"metric_{i % o.Keys}", value, step, now + i / o.Keys));
                }
                await client.LogBatchAsync(run, new BatchRequest(metrics));
                var d = Interlocked.Increment(ref done);
                if (d % windowSize == 0)
                {
                    lock (gate)
                    {
                        var t = watch.Elapsed.TotalSeconds;
                        windowTimes.Add(t - lastWindow);
                        lastWindow = t;
                    }
                    Console.Write($"\r  {d * o.BatchSize:N0} / {o.Points:N0} points, {d * o.BatchSize / watch.Elapsed.TotalSeconds:N0} points/s   ");
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, o.Concurrency).Select(w => Task.Run(() => Worker(w))));
        watch.Stop();
        Console.WriteLine();
        var overall = batches * o.BatchSize / watch.Elapsed.TotalSeconds;
        var windows = windowTimes.Select(t => windowSize * o.BatchSize / t).ToArray();
        return (overall, windows.Length == 0 ? [overall] : windows);
    }

    private static long SqliteBytes(string path) =>
        new[] { path, path + "-wal", path + "-shm" }.Where(File.Exists).Sum(p => new FileInfo(p).Length);

    public static string CreatePostgresDatabase(string? admin)
    {
        if (string.IsNullOrEmpty(admin))
            throw new ArgumentException("--store postgres needs --postgres CONNSTR or LINEAGE_BENCH_POSTGRES");
        var name = "lineage_bench_" + Guid.NewGuid().ToString("N")[..8];
        using var conn = new NpgsqlConnection(admin);
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"CREATE DATABASE {name}";
        cmd.ExecuteNonQuery();
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }

    private static long PostgresBytes(string target)
    {
        using var conn = new NpgsqlConnection(target);
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT pg_database_size(current_database())";
        return (long)cmd.ExecuteScalar()!;
    }
}
