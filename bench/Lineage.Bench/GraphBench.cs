using System.Diagnostics;
using System.Text;
using Lineage.Storage.Engine;
using Lineage.Tests.Support;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Lineage.Bench;

/// <summary>
/// Lineage queries on a synthetic graph (default 1,000,000 nodes, 3,000,000 edges) and OpenLineage
/// ingestion, against a real server process. The graph is written straight into the tables (bulk
/// insert / COPY) after the server's own migrations created them.
/// Shape: execution j produces artifacts 3j..3j+2 and consumes 9 artifacts drawn from the window of
/// the previous --window artifacts, so an upstream closure stays local (about 100 nodes at depth 10)
/// the way real pipelines are; plus one planted dataset consumed by 500 executions, each producing
/// one artifact (1,000 downstream nodes) for the impact query.
/// </summary>
public static class GraphBench
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        using var dir = new TempDir();
        var target = o.Store == "postgres" ? IngestionBench.CreatePostgresDatabase(o.Postgres) : dir.File("graph.db");
        await (await Database.OpenAsync(target)).DisposeAsync(); // schema via the real migrations

        var executions = o.Nodes / 4;
        var artifacts = executions * 3;
        Console.WriteLine($"graph: {o.Store}, {executions * 4 + 1001:N0} nodes, {executions * 12 + 1000:N0} edges, window {o.Window}");
        var build = Stopwatch.StartNew();
        var (planted, plantedFirstExecution) = o.Store == "postgres"
            ? await GeneratePostgresAsync(target, executions, artifacts, o.Window)
            : GenerateSqlite(target, executions, artifacts, o.Window);
        Console.WriteLine($"  generated in {build.Elapsed.TotalSeconds:N0} s");
        if (Environment.GetEnvironmentVariable("LINEAGE_BENCH_KEEP") is { Length: > 0 } keep && o.Store != "postgres") File.Copy(target, keep, true);

        await using var server = await ServerProcess.StartAsync(target, dir.File("artifacts"));
        using var http = new HttpClient { BaseAddress = server.Address };
        var random = new Random(7);

        // Warm up the connection and caches a little, then measure.
        for (var i = 0; i < 20; i++) await http.GetStringAsync($"/api/v1/lineage/graph?node=artifact:{random.NextInt64(artifacts / 2, artifacts) + 1}&direction=upstream&depth=10");
        var upstream = new List<double>();
        var sizes = new List<int>();
        for (var i = 0; i < o.Queries; i++)
        {
            var id = random.NextInt64(artifacts / 2, artifacts) + 1;
            var watch = Stopwatch.StartNew();
            var body = await http.GetStringAsync($"/api/v1/lineage/graph?node=artifact:{id}&direction=upstream&depth=10");
            upstream.Add(watch.Elapsed.TotalMilliseconds);
            sizes.Add(System.Text.Json.Nodes.JsonNode.Parse(body)!["nodes"]!.AsArray().Count);
        }
        var impact = new List<double>();
        var impactSize = 0;
        for (var i = 0; i < Math.Max(20, o.Queries / 10); i++)
        {
            var watch = Stopwatch.StartNew();
            var body = await http.GetStringAsync($"/api/v1/lineage/impact?artifact={planted}");
            impact.Add(watch.Elapsed.TotalMilliseconds);
            var json = System.Text.Json.Nodes.JsonNode.Parse(body)!;
            impactSize = json["artifacts"]!.AsArray().Count + json["executions"]!.AsArray().Count;
        }

        // The ingestion path's code is still being re-compiled by the JIT's tiers for its first ~10,000 events (measured:
        // server CPU per event falls from ~2,200 to ~850 µs on SQLite over the first 16,000); measure the warm server.
        if (o.OlWarmup > 0) await OpenLineageRateAsync(http, o.OlWarmup, o.Concurrency, o.OlBatch);

        // Server CPU per event is reported too: unlike events/s it hardly depends on what else shares the cores.
        // The load generator's own CPU too: on a small machine it shares the cores with the server.
        server.Process.Refresh();
        var cpuBefore = server.Process.TotalProcessorTime;
        var clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var olRate = await OpenLineageRateAsync(http, o.Events, o.Concurrency, o.OlBatch);
        server.Process.Refresh();
        var olCpu = (server.Process.TotalProcessorTime - cpuBefore).TotalMicroseconds / o.Events;
        var clientCpu = (Process.GetCurrentProcess().TotalProcessorTime - clientBefore).TotalMicroseconds / o.Events;

        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| upstream closure, depth 10, over HTTP, p50 of {o.Queries} random roots | {Percentile(upstream, 50):N1} ms (p90 {Percentile(upstream, 90):N1} ms), median {Percentile(sizes.Select(x => (double)x).ToList(), 50):N0} nodes returned |");
        Console.WriteLine($"| impact of a dataset with {impactSize:N0} downstream nodes, over HTTP, p50 | {Percentile(impact, 50):N1} ms |");
        Console.WriteLine($"| OpenLineage ingestion ({o.Events:N0} events, {o.Concurrency} connections{(o.OlBatch > 1 ? $", {o.OlBatch} events per batch request" : "")}{(o.OlWarmup > 0 ? $", after {o.OlWarmup:N0} untimed" : ", cold server")}) | {olRate:N0} events/s, server CPU {olCpu:N0} µs per event (load generator {clientCpu:N0} µs) |");
        return 0;
    }

    private static double Percentile(List<double> values, int p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1)];
    }

    /// <summary>Inputs of execution j: 9 distinct artifacts from the window before its own outputs (fewer at the start).</summary>
    private static IEnumerable<long> Inputs(Random random, long j, int window)
    {
        var end = 3 * j;
        if (end == 0) return [];
        var start = Math.Max(0, end - window);
        var picked = new HashSet<long>();
        while (picked.Count < Math.Min(9, end - start)) picked.Add(start + random.NextInt64(end - start));
        return picked;
    }

    private static (long Planted, long FirstExecution) GenerateSqlite(string path, long executions, long artifacts, int window)
    {
        using var c = new SqliteConnection($"Data Source={path}");
        c.Open();
        using (var pragma = c.CreateCommand()) { pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"; pragma.ExecuteNonQuery(); }
        using var tx = c.BeginTransaction();
        Exec(c, tx, "INSERT INTO artifact_names (id, project_id, name, latest_version, created_at) VALUES (1, 1, 'bench', 0, 0)");
        var art = Prepare(c, tx, "INSERT INTO artifact_versions (id, name_id, version, type, kind, digest, size, external_uri, metadata, lifecycle, created_at) VALUES ($id, 1, $id, 'dataset', 'external', 'd', 0, 'bench://a', '{}', 'active', 0)", "$id");
        var exe = Prepare(c, tx, "INSERT INTO executions (id, project_id, type, name, state, properties, created_at) VALUES ($id, 1, 'step', 'step', 'COMPLETE', '{}', 0)", "$id");
        var ev = Prepare(c, tx, "INSERT INTO lineage_events (execution_id, artifact_id, kind, role, time) VALUES ($e, $a, $k, 'r', 0)", "$e", "$a", "$k");
        var random = new Random(1);
        for (long a = 1; a <= artifacts + 1 + 500; a++) Run(art, a);
        for (long j = 0; j < executions + 500; j++) Run(exe, j + 1);
        for (long j = 0; j < executions; j++)
        {
            foreach (var input in Inputs(random, j, window)) Run(ev, j + 1, input + 1, "input");
            for (var k = 0; k < 3; k++) Run(ev, j + 1, 3 * j + k + 1, "output");
        }
        var planted = artifacts + 1;
        for (long k = 0; k < 500; k++)
        {
            Run(ev, executions + k + 1, planted, "input");
            Run(ev, executions + k + 1, planted + 1 + k, "output");
        }
        Exec(c, tx, $"UPDATE artifact_names SET latest_version = {artifacts + 501} WHERE id = 1");
        tx.Commit();
        using (var analyze = c.CreateCommand()) { analyze.CommandText = "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);"; analyze.ExecuteNonQuery(); }
        return (planted, executions + 1);
    }

    private static async Task<(long, long)> GeneratePostgresAsync(string cs, long executions, long artifacts, int window)
    {
        // Bulk loading 3M events into indexed tables takes minutes on a busy machine: no command timeout here.
        await using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { CommandTimeout = 0 }.ToString());
        await c.OpenAsync();
        await using (var cmd = new NpgsqlCommand("INSERT INTO artifact_names (id, project_id, name, latest_version, created_at) VALUES (1, 1, 'bench', 0, 0)", c))
            await cmd.ExecuteNonQueryAsync();
        await using (var w = await c.BeginBinaryImportAsync("COPY artifact_versions (id, name_id, version, type, kind, digest, size, external_uri, metadata, lifecycle, created_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (long a = 1; a <= artifacts + 1 + 500; a++)
                await w.WriteRowAsync(default, a, 1L, a, "dataset", "external", "d", 0L, "bench://a", "{}", "active", 0L);
            await w.CompleteAsync();
        }
        await using (var w = await c.BeginBinaryImportAsync("COPY executions (id, project_id, type, name, state, properties, created_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (long j = 0; j < executions + 500; j++) await w.WriteRowAsync(default, j + 1, 1L, "step", "step", "COMPLETE", "{}", 0L);
            await w.CompleteAsync();
        }
        var random = new Random(1);
        var planted = artifacts + 1;
        await using (var w = await c.BeginBinaryImportAsync("COPY lineage_events (execution_id, artifact_id, kind, role, time) FROM STDIN (FORMAT BINARY)"))
        {
            for (long j = 0; j < executions; j++)
            {
                foreach (var input in Inputs(random, j, window)) await w.WriteRowAsync(default, j + 1, input + 1, "input", "r", 0L);
                for (var k = 0; k < 3; k++) await w.WriteRowAsync(default, j + 1, 3 * j + k + 1, "output", "r", 0L);
            }
            for (long k = 0; k < 500; k++)
            {
                await w.WriteRowAsync(default, executions + k + 1, planted, "input", "r", 0L);
                await w.WriteRowAsync(default, executions + k + 1, planted + 1 + k, "output", "r", 0L);
            }
            await w.CompleteAsync();
        }
        await using (var cmd = new NpgsqlCommand($"""
            UPDATE artifact_names SET latest_version = {artifacts + 501} WHERE id = 1;
            SELECT setval(pg_get_serial_sequence('artifact_versions', 'id'), {artifacts + 501});
            SELECT setval(pg_get_serial_sequence('executions', 'id'), {executions + 500});
            SELECT setval(pg_get_serial_sequence('artifact_names', 'id'), 1);
            ANALYZE;
            """, c))
            await cmd.ExecuteNonQueryAsync();
        return (planted, executions + 1);
    }

    /// <summary>
    /// START + COMPLETE pairs: event 2k starts run k and event 2k+1 completes it, both naming the run's two input
    /// datasets and its output, as OpenLineage integrations send them. The two events of a run go out on whichever
    /// connections are free, so a COMPLETE may arrive before its START. With <paramref name="batch"/> above 1, each
    /// request posts that many consecutive events to <c>/api/v1/lineage/batch</c> (issue 15).
    /// </summary>
    private static async Task<double> OpenLineageRateAsync(HttpClient http, int events, int concurrency, int batch)
    {
        long next = -batch;
        var runs = Enumerable.Range(0, (events + 1) / 2).Select(_ => Guid.CreateVersion7().ToString("D")).ToArray();
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var first = Interlocked.Add(ref next, batch);
                if (first >= events) return;
                var bodies = new List<string>();
                for (var i = first; i < Math.Min(events, first + batch); i++)
                {
                    var k = i / 2;
                    bodies.Add($$"""
                        {"eventType":"{{(i % 2 == 0 ? "START" : "COMPLETE")}}","eventTime":"2026-11-24T10:{{k / 60 % 60:D2}}:{{k % 60:D2}}.{{i % 2 * 500:D3}}Z","producer":"https://example.com/bench",
                         "schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent","run":{"runId":"{{runs[k]}}"},
                         "job":{"namespace":"bench","name":"job-{{k % 50}}"},
                         "inputs":[{"namespace":"warehouse","name":"in-{{k % 200}}"},{"namespace":"warehouse","name":"ref-{{k % 7}}"}],
                         "outputs":[{"namespace":"warehouse","name":"out-{{k % 300}}"}]}
                        """);
                }
                using var r = batch == 1
                    ? await http.PostAsync("/api/v1/lineage", new StringContent(bodies[0], Encoding.UTF8, "application/json"))
                    : await http.PostAsync("/api/v1/lineage/batch", new StringContent($"[{string.Join(",", bodies)}]", Encoding.UTF8, "application/json"));
                r.EnsureSuccessStatusCode();
                if (batch > 1 && System.Text.Json.Nodes.JsonNode.Parse(await r.Content.ReadAsStringAsync())!["errors"]!.GetValue<int>() != 0)
                    throw new InvalidOperationException("a batch event was rejected");
            }
        })));
        return events / watch.Elapsed.TotalSeconds;
    }

    private static void Exec(SqliteConnection c, SqliteTransaction tx, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static SqliteCommand Prepare(SqliteConnection c, SqliteTransaction tx, string sql, params string[] names)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var n in names) cmd.Parameters.Add(new SqliteParameter { ParameterName = n });
        cmd.Prepare();
        return cmd;
    }

    private static void Run(SqliteCommand cmd, params object[] values)
    {
        for (var i = 0; i < values.Length; i++) cmd.Parameters[i].Value = values[i];
        cmd.ExecuteNonQuery();
    }
}
