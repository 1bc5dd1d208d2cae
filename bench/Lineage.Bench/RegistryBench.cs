using System.Diagnostics;
using System.Text.Json.Nodes;
using Lineage.Core.Artifacts;
using Lineage.Core.Lineage;
using Lineage.Core.Registry;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Lineage.Storage.Lineage;
using Lineage.Storage.Registry;
using Lineage.Storage.Tracking;
using Lineage.Tests.Support;

namespace Lineage.Bench;

/// <summary>
/// Registry targets of issue 5, against a real server process:
/// (1) search over --versions model versions (default 100,000: 1,000 models × 100 versions) with three tag
///     filters, p50 over HTTP; each version carries team (10 values), framework (5), region (4) and a unique run tag;
/// (2) the reproducibility manifest of a model version with 50 upstream steps (a chain of 49 preprocessing
///     executions and the training run), p50 over HTTP.
/// The store is filled through the real store operations (one transaction per version, concurrent writers),
/// before the server starts on it.
/// </summary>
public static class RegistryBench
{
    private static readonly string[] Teams = ["search", "ads", "growth", "risk", "pricing", "fraud", "ranking", "vision", "speech", "infra"];
    private static readonly string[] Frameworks = ["sklearn", "torch", "xgboost", "lightgbm", "tensorflow"];
    private static readonly string[] Regions = ["eu", "us", "apac", "latam"];

    public static async Task<int> RunAsync(BenchOptions o)
    {
        using var dir = new TempDir();
        var target = o.Store == "postgres" ? IngestionBench.CreatePostgresDatabase(o.Postgres) : dir.File("registry.db");
        var versions = o.SmallVersions == 10_000 ? 100_000 : o.SmallVersions; // --small-versions overrides the count
        const int perModel = 100;
        var models = Math.Max(1, versions / perModel);
        Console.WriteLine($"registry: {o.Store}, {models:N0} models × {perModel} versions = {models * perModel:N0} model versions");

        var seed = Stopwatch.StartNew();
        // LINEAGE_BENCH_REGISTRY_DB: a SQLite file seeded by an earlier run (kept with LINEAGE_BENCH_KEEP) to time queries again.
        var reuse = Environment.GetEnvironmentVariable("LINEAGE_BENCH_REGISTRY_DB");
        if (reuse is { Length: > 0 } && o.Store != "postgres" && File.Exists(reuse))
        {
            File.Copy(reuse, target, true);
            Console.WriteLine($"  reusing the store seeded earlier: {reuse}");
        }
        else
        await using (var db = await Database.OpenAsync(target))
        {
            var artifacts = new ArtifactStore(db, new LocalFolderBlobStore(dir.File("blobs")));
            var registry = new RegistryStore(db);
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, o.Concurrency * 16).Select(_ => Task.Run(async () =>
            {
                int m;
                while ((m = Interlocked.Increment(ref next)) < models)
                {
                    var name = $"model-{m:D4}";
                    var artifact = await artifacts.RegisterAsync(new ArtifactRegistration(null, name + "-weights", "model", null,
                        new ArtifactContent.External($"s3://models/{name}", new string((char)('a' + m % 6), 64), 1000)));
                    await WithActor("bench", () => registry.CreateModelAsync(null, name, null, null, null));
                    var pointer = new ArtifactPointer(artifact.Id, null, null, default, "artifact");
                    for (var v = 0; v < perModel; v++)
                    {
                        var i = m * perModel + v;
                        await WithActor("bench", () => registry.CreateVersionAsync(new ModelVersionRegistration(null, name, pointer, null, Tags: new Dictionary<string, string>
                        {
                            ["team"] = Teams[i % Teams.Length], ["framework"] = Frameworks[i / 10 % Frameworks.Length],
                            ["region"] = Regions[i / 50 % Regions.Length], ["build"] = i.ToString(),
                        })));
                    }
                }
            })));
            Console.WriteLine($"  seeded {models * perModel:N0} versions in {seed.Elapsed.TotalSeconds:N0} s ({models * perModel / seed.Elapsed.TotalSeconds:N0} versions/s through the store)");
            await ChainAsync(db, dir);
        }
        if (Environment.GetEnvironmentVariable("LINEAGE_BENCH_KEEP") is { Length: > 0 } keep && o.Store != "postgres" && reuse is not { Length: > 0 })
            File.Copy(target, keep, true);

        // The store operation alone, in this process (no HTTP, no JSON): where the time goes.
        var inProcess = new List<double>();
        var idsOnly = new List<double>();
        await using (var db = await Database.OpenAsync(target))
        {
            var registry = new RegistryStore(db);
            var r = new Random(3);
            for (var i = 0; i < 220; i++)
            {
                var tags = new Dictionary<string, string>
                    { ["team"] = Teams[r.Next(Teams.Length)], ["framework"] = Frameworks[r.Next(Frameworks.Length)], ["region"] = Regions[r.Next(Regions.Length)] };
                var watch = Stopwatch.StartNew();
                await registry.SearchVersionsAsync(new ModelVersionQuery(Tags: tags));
                if (i >= 20) inProcess.Add(watch.Elapsed.TotalMilliseconds);
                watch.Restart();
                await registry.SearchVersionsAsync(new ModelVersionQuery(Tags: tags, Limit: 1));
                if (i >= 20) idsOnly.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        await using var server = await ServerProcess.StartAsync(target, dir.File("blobs"));
        using var http = new HttpClient { BaseAddress = server.Address };
        var random = new Random(7);
        string Query() =>
            $"/api/v1/model-versions?tag.team={Teams[random.Next(Teams.Length)]}&tag.framework={Frameworks[random.Next(Frameworks.Length)]}&tag.region={Regions[random.Next(Regions.Length)]}";
        for (var i = 0; i < 20; i++) await http.GetStringAsync(Query());
        var search = new List<double>();
        var hits = new List<double>();
        for (var i = 0; i < o.Queries; i++)
        {
            var url = Query();
            var watch = Stopwatch.StartNew();
            var body = await http.GetStringAsync(url);
            search.Add(watch.Elapsed.TotalMilliseconds);
            hits.Add(JsonNode.Parse(body)!["versions"]!.AsArray().Count);
        }
        // Worst case for the plan: three filters that match nothing (the first filter's whole range is probed).
        var empty = new List<double>();
        for (var i = 0; i < Math.Max(20, o.Queries / 5); i++)
        {
            var watch = Stopwatch.StartNew();
            await http.GetStringAsync($"/api/v1/model-versions?tag.team={Teams[i % Teams.Length]}&tag.framework=none&tag.region=eu");
            empty.Add(watch.Elapsed.TotalMilliseconds);
        }
        for (var i = 0; i < 10; i++) await http.GetStringAsync("/api/v1/models/chained/versions/1/manifest");
        var manifest = new List<double>();
        var steps = 0;
        for (var i = 0; i < Math.Max(50, o.Queries / 5); i++)
        {
            var watch = Stopwatch.StartNew();
            var body = await http.GetStringAsync("/api/v1/models/chained/versions/1/manifest");
            manifest.Add(watch.Elapsed.TotalMilliseconds);
            steps = JsonNode.Parse(body)!["steps"]!.AsArray().Count;
        }

        Console.WriteLine();
        Console.WriteLine("| measure | value | target |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| search over {models * perModel:N0} model versions, three tag filters, page of up to 100, over HTTP, p50 of {o.Queries} | {Statistics.Median(search):N1} ms (p90 {Percentile(search, 90):N1} ms), median {Statistics.Median(hits):N0} versions returned | p50 ≤ 10 ms |");
        Console.WriteLine($"| same, three filters matching nothing, p50 | {Statistics.Median(empty):N1} ms | |");
        Console.WriteLine($"| same search as a store call in-process (no HTTP/JSON), page of 100 / page of 1, p50 of 200 | {Statistics.Median(inProcess):N1} ms / {Statistics.Median(idsOnly):N1} ms | |");
        Console.WriteLine($"| manifest of a model version with {steps} upstream steps, over HTTP, p50 | {Statistics.Median(manifest):N1} ms (p90 {Percentile(manifest, 90):N1} ms) | ≤ 50 ms |");
        return 0;
    }

    /// <summary>raw → 49 preprocessing steps → training run → model "chained" v1: 50 upstream steps.</summary>
    private static async Task ChainAsync(Database db, TempDir dir)
    {
        var blobs = new LocalFolderBlobStore(dir.File("blobs"));
        var artifacts = new ArtifactStore(db, blobs);
        var lineage = new LineageStore(db);
        var tracking = new TrackingStore(db);
        var registry = new RegistryStore(db);
        async Task<ArtifactVersion> Dataset(string name, int i)
        {
            var blob = await blobs.PutAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"{name} {i}")));
            return await artifacts.RegisterAsync(new ArtifactRegistration(null, name, "dataset", null, new ArtifactContent.File(blob.Digest, blob.Size)));
        }
        var current = await Dataset("chain-raw", 0);
        for (var i = 1; i < 50; i++)
        {
            var next = await Dataset($"chain-step-{i:D2}", i);
            await lineage.CreateExecutionAsync(null, "preprocessing", $"step {i}", ExecutionState.Complete, $$"""{"step":{{i}},"scaling":[{"column":"c{{i}}"}]}""",
                [new EventInput(current.Id, "input")], [new EventInput(next.Id, "output")]);
            current = next;
        }
        var run = await tracking.CreateRunAsync(0, "train-chained");
        await tracking.LogBatchAsync(run.Info.RunId, new RunBatch([new MetricPoint("rmse", 1.5, 0, 1)], [new KeyValue("n_estimators", "100"), new KeyValue("seed", "1")], []));
        await lineage.LogRunInputAsync(run.Info.RunId, current.Id, "training_data");
        var blob = await blobs.PutAsync(new MemoryStream("chained weights"u8.ToArray()));
        var weights = await artifacts.RegisterAsync(new ArtifactRegistration(null, "chained-weights", "model", null, new ArtifactContent.File(blob.Digest, blob.Size),
            RunId: run.Info.RunId));
        await WithActor("bench", () => registry.CreateModelAsync(null, "chained", null, null, null));
        await registry.CreateVersionAsync(new ModelVersionRegistration(null, "chained", new ArtifactPointer(weights.Id, null, null, default, "artifact"), null));
    }

    private static double Percentile(List<double> values, int p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1)];
    }

    /// <summary>Runs a store call as <paramref name="actor"/>, as the server runs a request's operations.</summary>
    private static async Task<T> WithActor<T>(string actor, Func<Task<T>> call)
    {
        using var entered = OperationContext.Enter(new OperationContext { Actor = actor });
        return await call();
    }
}
