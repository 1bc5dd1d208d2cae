using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Bench;

/// <summary>
/// Soak (issue 17, section 3): --clients connections for --minutes of mixed, valid traffic against a real server
/// process — metric batches, params and tags, run create/finish, small artifact uploads and downloads, lineage
/// graph and impact reads, native and MLflow run search, MLflow log-batch and get-history, OpenLineage
/// START/COMPLETE pairs, registry reads. Every request is timed per operation; any answer that is not 2xx, and any
/// exception, is an error of that operation (the mix sends only valid requests, so there are no expected 4xx).
/// Every 10 s the server's RSS (/proc/PID/status VmRSS, split into anonymous and file-backed pages), threads and open
/// file descriptors (/proc/PID/fd) are sampled, and its /metrics scraped for the managed heap (the runtime's
/// <c>System.Runtime</c> meter: GC heap size and committed memory after the last collection; on SQLite the bytes SQLite's
/// allocator holds), so growth of resident memory can be told apart from growth of the managed heap and of SQLite's caches.
/// Prints Markdown: per-operation count, errors, p50, p99; RSS and fds after warm-up, at the middle and at the end;
/// the verdict "memory/fd flat" by the rule in <see cref="FdLimit"/> and <see cref="RssLimit"/>; and the time series
/// (every <see cref="SeriesEvery"/>).
/// </summary>
public static class SoakBench
{
    /// <summary>Flat means: open fds at the end at most 10% above the after-warm-up sample…</summary>
    private const double FdLimit = 0.10;

    /// <summary>…and RSS at the end at most 25% above it (the GC's heap size moves with load, so RSS gets more room).</summary>
    private const double RssLimit = 0.25;

    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(10);

    /// <summary>Rows of the printed time series.</summary>
    private static readonly TimeSpan SeriesEvery = TimeSpan.FromSeconds(30);

    /// <summary>Operation weights: each client repeatedly draws one at random (its own seeded generator).</summary>
    private static readonly (string Op, int Weight)[] Mix =
    [
        ("metric batch", 20), ("log param", 5), ("set tag", 5), ("run create+finish", 5),
        ("artifact upload", 5), ("artifact download", 10), ("lineage graph", 5), ("lineage impact", 3),
        ("runs search (native)", 5), ("runs search (MLflow)", 5), ("MLflow log-batch", 10), ("MLflow get-history", 5),
        ("OpenLineage START+COMPLETE", 5), ("registry get model", 4), ("registry search versions", 4),
    ];

    public static async Task<int> RunAsync(BenchOptions o)
    {
        using var dir = new TempDir();
        var target = o.Store == "postgres" ? IngestionBench.CreatePostgresDatabase(o.Postgres) : dir.File("soak.db");
        var duration = TimeSpan.FromMinutes(o.Minutes);
        // The memory baseline is taken after a minute of traffic (JIT, caches and connection pools warm);
        // a shorter run (a smoke test) takes it after a fifth of the run.
        var warmUp = duration >= TimeSpan.FromMinutes(3) ? TimeSpan.FromMinutes(1) : duration / 5;
        Console.WriteLine($"soak: {o.Store}, {o.Clients} clients, {o.Minutes} min, warm-up {warmUp.TotalSeconds:N0} s, " +
                          $"{Environment.ProcessorCount} CPUs, load average {LoadAverage()}");

        if (o.ServerEnv is { Count: > 0 } env)
            Console.WriteLine("server environment: " + string.Join(" ", env.Select(kv => $"{kv.Key}={kv.Value}")));
        await using var server = await ServerProcess.StartWithAsync(null, o.ServerEnv, target, dir.File("artifacts"));
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = o.Clients + 4 })
        {
            BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(100),
        };
        var fixture = await SetUpAsync(http, o.Clients);

        var stats = Mix.ToDictionary(m => m.Op, _ => new OpStats());
        var samples = new List<Sample>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(duration);
        var clients = Enumerable.Range(0, o.Clients).Select(c => Task.Run(() => ClientAsync(http, fixture, c, stats, stop.Token))).ToArray();

        samples.Add(await Sample.OfAsync(server, http, clock.Elapsed, 0));
        var nextSample = SampleEvery;
        while (!stop.IsCancellationRequested)
        {
            var wait = nextSample - clock.Elapsed;
            try { if (wait > TimeSpan.Zero) await Task.Delay(wait, stop.Token); }
            catch (OperationCanceledException) { }
            if (server.Process.HasExited) throw new InvalidOperationException($"the server exited:\n{server.Output}");
            var requests = stats.Values.Sum(x => x.Count);
            var s = await Sample.OfAsync(server, http, clock.Elapsed, requests);
            samples.Add(s);
            nextSample += SampleEvery;
            var errors = stats.Values.Sum(x => x.Errors);
            Console.WriteLine($"  {s.At.TotalSeconds,5:N0} s  {requests,9:N0} requests ({requests / clock.Elapsed.TotalSeconds:N0}/s)  {errors:N0} errors  " +
                              $"RSS {Mib(s.Rss)} MiB (anon {Mib(s.RssAnon)}, file {Mib(s.RssFile)})  GC heap {Mib(s.GcHeap)} MiB, committed {Mib(s.GcCommitted)} MiB  SQLite {Mib(s.Sqlite)} MiB  " +
                              $"fds {s.Fds}  threads {s.Threads}  load {s.Load}");
        }
        await Task.WhenAll(clients);
        var elapsed = clock.Elapsed;
        samples.Add(await Sample.OfAsync(server, http, elapsed, stats.Values.Sum(x => x.Count)));

        var baseline = samples.First(s => s.At >= warmUp);
        var middle = samples.MinBy(s => Math.Abs((s.At - (baseline.At + elapsed) / 2).TotalSeconds))!;
        var end = samples[^1];
        var rssGrowth = (double)(end.Rss - baseline.Rss) / baseline.Rss;
        var fdGrowth = (double)(end.Fds - baseline.Fds) / baseline.Fds;
        var flat = rssGrowth <= RssLimit && fdGrowth <= FdLimit;

        Console.WriteLine();
        Console.WriteLine($"{o.Clients} clients, {elapsed.TotalMinutes:N1} min, {o.Store}; load average at the end {LoadAverage()} on {Environment.ProcessorCount} CPUs " +
                          "(client and server share the cores: latencies are pessimistic)");
        Console.WriteLine();
        Console.WriteLine("| operation | requests | errors | p50 | p99 |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (op, _) in Mix)
        {
            var s = stats[op];
            var times = s.Times();
            Console.WriteLine($"| {op} | {s.Count:N0} | {s.Errors:N0} | {Percentile(times, 50):N1} ms | {Percentile(times, 99):N1} ms |");
        }
        var total = stats.Values.Sum(x => x.Count);
        Console.WriteLine($"| **all** | {total:N0} ({total / elapsed.TotalSeconds:N0}/s) | {stats.Values.Sum(x => x.Errors):N0} | | |");
        Console.WriteLine();
        Console.WriteLine("| server process | after warm-up | middle | end | growth (end vs. after warm-up) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine($"| sampled at | {baseline.At.TotalSeconds:N0} s | {middle.At.TotalSeconds:N0} s | {end.At.TotalSeconds:N0} s | |");
        Console.WriteLine($"| resident memory (VmRSS) | {baseline.Rss / 1048576.0:N0} MiB | {middle.Rss / 1048576.0:N0} MiB | {end.Rss / 1048576.0:N0} MiB | {rssGrowth:+0.0%;-0.0%} |");
        Console.WriteLine($"| open file descriptors | {baseline.Fds} | {middle.Fds} | {end.Fds} | {fdGrowth:+0.0%;-0.0%} |");
        Console.WriteLine($"| GC heap after the last collection | {Mib(baseline.GcHeap)} MiB | {Mib(middle.GcHeap)} MiB | {Mib(end.GcHeap)} MiB | {Growth(baseline.GcHeap, end.GcHeap)} |");
        Console.WriteLine($"| GC committed memory | {Mib(baseline.GcCommitted)} MiB | {Mib(middle.GcCommitted)} MiB | {Mib(end.GcCommitted)} MiB | {Growth(baseline.GcCommitted, end.GcCommitted)} |");
        Console.WriteLine($"| SQLite allocator | {Mib(baseline.Sqlite)} MiB | {Mib(middle.Sqlite)} MiB | {Mib(end.Sqlite)} MiB | {Growth(baseline.Sqlite, end.Sqlite)} |");
        Console.WriteLine($"| RSS, anonymous pages | {Mib(baseline.RssAnon)} MiB | {Mib(middle.RssAnon)} MiB | {Mib(end.RssAnon)} MiB | {Growth(baseline.RssAnon, end.RssAnon)} |");
        Console.WriteLine($"| RSS, file-backed pages | {Mib(baseline.RssFile)} MiB | {Mib(middle.RssFile)} MiB | {Mib(end.RssFile)} MiB | {Growth(baseline.RssFile, end.RssFile)} |");
        Console.WriteLine($"| threads | {baseline.Threads} | {middle.Threads} | {end.Threads} | {Growth(baseline.Threads, end.Threads)} |");
        Console.WriteLine();
        Console.WriteLine($"memory/fd flat: {(flat ? "yes" : "no")} (rule: end vs. after warm-up, fds grow < {FdLimit:0%} and RSS < {RssLimit:0%})");
        Console.WriteLine($"second half (middle vs. end): RSS {Growth(middle.Rss, end.Rss)}, GC heap {Growth(middle.GcHeap, end.GcHeap)}, fds {Growth(middle.Fds, end.Fds)}");
        Console.WriteLine();
        Console.WriteLine($"Time series (every {SeriesEvery.TotalSeconds:N0} s; requests/s over the preceding interval):");
        Console.WriteLine();
        Console.WriteLine("| t | requests/s | RSS | anon | file | GC heap | GC committed | SQLite | fds | threads | load |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Sample? previous = null;
        var every = (int)(SeriesEvery / SampleEvery); // samples are taken every SampleEvery from 0 s on
        for (var i = 0; i < samples.Count; i++)
        {
            var row = samples[i];
            var last = i == samples.Count - 1;
            if (!(i % every == 0 || (last && row.At - previous!.At > SampleEvery / 2))) continue;
            var rate = previous is null ? 0 : (row.Requests - previous.Requests) / Math.Max(1e-9, (row.At - previous.At).TotalSeconds);
            Console.WriteLine($"| {row.At.TotalSeconds:N0} s | {rate:N0} | {Mib(row.Rss)} | {Mib(row.RssAnon)} | {Mib(row.RssFile)} | {Mib(row.GcHeap)} | {Mib(row.GcCommitted)} | {Mib(row.Sqlite)} | {row.Fds} | {row.Threads} | {row.Load} |");
            previous = row;
        }
        foreach (var (op, s) in stats.Where(kv => !kv.Value.FirstErrors.IsEmpty))
            foreach (var e in s.FirstErrors) Console.WriteLine($"  first errors of {op}: {e}");
        return 0;
    }

    /// <summary>What the clients share: experiments, one native and one MLflow run per client, a lineage chain, a model.</summary>
    private sealed record Fixture(string Experiment, string MlflowExperiment, string[] Runs, string[] MlflowRuns, long RawArtifact, long[] ClientArtifacts);

    /// <summary>
    /// Untimed set-up, all over HTTP: per client one native run and one MLflow run (with params, so searches
    /// have something to filter on) and one artifact "soak-c&lt;i&gt;" produced from the shared "soak-raw" by an
    /// execution (so graph and impact reads walk real edges); a registered model on soak-raw.
    /// </summary>
    private static async Task<Fixture> SetUpAsync(HttpClient http, int clients)
    {
        var experiment = (string)(await PostJson(http, "/api/v1/experiments", """{"name":"soak"}"""))["id"]!;
        var mlflowExperiment = (string)(await PostJson(http, "/api/2.0/mlflow/experiments/create", """{"name":"soak-mlflow"}"""))["experiment_id"]!;
        var raw = await UploadAsync(http, "soak-raw", "dataset", RandomNumberGenerator.GetBytes(4096), null);
        var runs = new string[clients];
        var mlflowRuns = new string[clients];
        var artifacts = new long[clients];
        for (var c = 0; c < clients; c++)
        {
            var optimizer = c % 2 == 0 ? "adam" : "sgd";
            runs[c] = (string)(await PostJson(http, "/api/v1/runs", $$"""{"experimentId":"{{experiment}}","name":"soak-{{c}}"}"""))["runId"]!;
            await Send(http, HttpMethod.Post, $"/api/v1/runs/{runs[c]}/params", $$"""{"key":"optimizer","value":"{{optimizer}}"}""");
            mlflowRuns[c] = (string)(await PostJson(http, "/api/2.0/mlflow/runs/create",
                $$"""{"experiment_id":"{{mlflowExperiment}}","run_name":"soak-{{c}}","start_time":{{Now()}}}"""))["run"]!["info"]!["run_id"]!;
            await Send(http, HttpMethod.Post, "/api/2.0/mlflow/runs/log-batch", $$"""{"run_id":"{{mlflowRuns[c]}}","params":[{"key":"optimizer","value":"{{optimizer}}"}]}""");
            var output = await UploadAsync(http, $"soak-c{c}", "dataset", RandomNumberGenerator.GetBytes(1024), runs[c]);
            await PostJson(http, "/api/v1/executions", $$"""
                {"type":"preprocessing","name":"soak-{{c}}","state":"COMPLETE",
                 "inputs":[{"artifact":{"id":"{{raw}}"},"role":"input"}],"outputs":[{"artifact":{"id":"{{output}}"},"role":"output"}]}
                """);
            artifacts[c] = output;
        }
        await PostJson(http, "/api/v1/models", """{"name":"soak-model","tags":{"team":"soak"}}""");
        await PostJson(http, "/api/v1/models/soak-model/versions", $$"""{"artifact":{"id":"{{raw}}"},"tags":{"team":"soak"} }""");
        return new Fixture(experiment, mlflowExperiment, runs, mlflowRuns, raw, artifacts);
    }

    private static async Task ClientAsync(HttpClient http, Fixture f, int c, Dictionary<string, OpStats> stats, CancellationToken stop)
    {
        var random = new Random(c);
        var totalWeight = Mix.Sum(m => m.Weight);
        long batch = 0, param = 0, mlflowStep = 0, tag = 0, upload = 0;
        string run = f.Runs[c], mlflowRun = f.MlflowRuns[c];
        while (!stop.IsCancellationRequested)
        {
            var pick = random.Next(totalWeight);
            var op = Mix.First(m => (pick -= m.Weight) < 0).Op;
            var watch = Stopwatch.StartNew();
            try
            {
                switch (op)
                {
                    case "metric batch": // 1,000 points: 10 keys x 100 steps
                        var sb = new StringBuilder("""{"metrics":[""");
                        for (var i = 0; i < 1000; i++)
                        {
                            var step = batch * 100 + i / 10;
                            sb.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                                $$"""{"key":"m{{i % 10}}","value":{{Math.Exp(-step / 5000.0).ToString("R", CultureInfo.InvariantCulture)}},"step":{{step}}}""");
                        }
                        batch++;
                        await Send(http, HttpMethod.Post, $"/api/v1/runs/{run}/batch", sb.Append("]}").ToString());
                        break;
                    case "log param": // params are write-once: a new key each time
                        await Send(http, HttpMethod.Post, $"/api/v1/runs/{run}/params", $$"""{"key":"p{{param++}}","value":"v{{random.Next(1000)}}"}""");
                        break;
                    case "set tag": // tags may be overwritten: 20 keys in turn
                        await Send(http, HttpMethod.Post, $"/api/v1/runs/{run}/tags", $$"""{"key":"t{{tag++ % 20}}","value":"x{{random.Next(1000)}}"}""");
                        break;
                    case "run create+finish":
                        var created = await PostJson(http, "/api/v1/runs", $$"""{"experimentId":"{{f.Experiment}}","name":"short-{{c}}"}""");
                        await Send(http, HttpMethod.Patch, $"/api/v1/runs/{created["runId"]}", """{"status":"FINISHED"}""");
                        break;
                    case "artifact upload": // a new version of this client's artifact, 1-8 KiB, produced by its run
                        await UploadAsync(http, $"soak-c{c}-files", "dataset", RandomNumberGenerator.GetBytes(1024 + random.Next(7 * 1024)), run);
                        upload++;
                        break;
                    case "artifact download":
                        await Send(http, HttpMethod.Get, upload == 0 ? $"/api/v1/artifacts/soak-c{c}/versions/1/content"
                            : $"/api/v1/artifacts/soak-c{c}-files/versions/latest/content", null);
                        break;
                    case "lineage graph":
                        await Send(http, HttpMethod.Get, $"/api/v1/lineage/graph?node=artifact:{f.ClientArtifacts[random.Next(f.ClientArtifacts.Length)]}&direction=both&depth=10", null);
                        break;
                    case "lineage impact":
                        await Send(http, HttpMethod.Get, $"/api/v1/lineage/impact?artifact={f.RawArtifact}", null);
                        break;
                    case "runs search (native)":
                        await Send(http, HttpMethod.Get, $"/api/v1/search/runs?experimentId={f.Experiment}" +
                            $"&filter={Uri.EscapeDataString("params.optimizer = 'adam' AND metrics.m0 < 0.9")}&orderBy={Uri.EscapeDataString("metrics.m1 DESC")}&limit=50", null);
                        break;
                    case "runs search (MLflow)":
                        await Send(http, HttpMethod.Post, "/api/2.0/mlflow/runs/search", $$"""
                            {"experiment_ids":["{{f.MlflowExperiment}}"],"filter":"params.optimizer = 'sgd' AND metrics.loss < 0.9",
                             "order_by":["metrics.loss ASC"],"max_results":50}
                            """);
                        break;
                    case "MLflow log-batch": // 20 points: 2 keys x 10 steps, and a tag
                        var mb = new StringBuilder($$"""{"run_id":"{{mlflowRun}}","metrics":[""");
                        for (var i = 0; i < 20; i++)
                        {
                            var step = mlflowStep * 10 + i / 2;
                            mb.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                                $$"""{"key":"{{(i % 2 == 0 ? "loss" : "acc")}}","value":{{(1.0 / (1 + step)).ToString("R", CultureInfo.InvariantCulture)}},"timestamp":{{Now()}},"step":{{step}}}""");
                        }
                        mlflowStep++;
                        await Send(http, HttpMethod.Post, "/api/2.0/mlflow/runs/log-batch",
                            mb.Append(CultureInfo.InvariantCulture, $$"""],"tags":[{"key":"phase","value":"e{{mlflowStep}}"}]}""").ToString());
                        break;
                    case "MLflow get-history":
                        await Send(http, HttpMethod.Get, $"/api/2.0/mlflow/metrics/get-history?run_id={mlflowRun}&metric_key=loss", null);
                        break;
                    case "OpenLineage START+COMPLETE":
                        var olRun = Guid.NewGuid();
                        var job = random.Next(20);
                        foreach (var (type, second) in new[] { ("START", 0), ("COMPLETE", 1) })
                            await Send(http, HttpMethod.Post, "/api/v1/lineage", $$"""
                                {"eventType":"{{type}}","eventTime":"{{DateTimeOffset.UtcNow.AddSeconds(second):O}}","run":{"runId":"{{olRun}}"},
                                 "job":{"namespace":"soak","name":"job-{{job}}"},
                                 "inputs":[{"namespace":"soak","name":"table-{{job}}"}],"outputs":[{"namespace":"soak","name":"table-{{job + 1}}"}],
                                 "producer":"https://example.com/soak","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}
                                """);
                        break;
                    case "registry get model":
                        await Send(http, HttpMethod.Get, "/api/v1/models/soak-model", null);
                        break;
                    case "registry search versions":
                        await Send(http, HttpMethod.Get, "/api/v1/model-versions?tag.team=soak", null);
                        break;
                }
                stats[op].Add(watch.Elapsed.TotalMilliseconds, null);
            }
            catch (Exception ex)
            {
                stats[op].Add(watch.Elapsed.TotalMilliseconds, ex.Message);
            }
        }
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static async Task<long> UploadAsync(HttpClient http, string name, string type, byte[] bytes, string? runId)
    {
        var content = new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } };
        using var response = await http.PostAsync($"/api/v1/artifacts/upload?name={name}&type={type}" + (runId is null ? "" : $"&runId={runId}"), content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"upload {name}: {(int)response.StatusCode} {text}");
        return long.Parse((string)JsonNode.Parse(text)!["id"]!, CultureInfo.InvariantCulture);
    }

    private static async Task<JsonNode> PostJson(HttpClient http, string path, string json) =>
        JsonNode.Parse(await Send(http, HttpMethod.Post, path, json))!;

    /// <summary>One request, its whole body read; anything but 2xx throws with the status and body.</summary>
    private static async Task<string> Send(HttpClient http, HttpMethod method, string path, string? json)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text[..Math.Min(text.Length, 300)]}");
        return text;
    }

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static double Percentile(List<double> sorted, int p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("N0", CultureInfo.InvariantCulture);

    private static string Growth(long from, long to) => from <= 0 ? "n/a" : ((double)(to - from) / from).ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture);

    /// <summary>One observation of the server process; memory in bytes, <see cref="Requests"/> answered by then.</summary>
    private sealed record Sample(TimeSpan At, long Rss, long RssAnon, long RssFile, int Fds, int Threads, long GcHeap, long GcCommitted, long Sqlite,
        long Requests, string Load)
    {
        public static async Task<Sample> OfAsync(ServerProcess server, HttpClient http, TimeSpan at, long requests)
        {
            var status = File.ReadLines($"/proc/{server.Pid}/status")
                .Select(line => line.Split(':', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1].Trim());
            long Kib(string field) => status.TryGetValue(field, out var v) ? long.Parse(v.Split(' ')[0], CultureInfo.InvariantCulture) * 1024 : 0;
            var metrics = await ScrapeAsync(http);
            return new Sample(at, Kib("VmRSS"), Kib("RssAnon"), Kib("RssFile") + Kib("RssShmem"),
                Directory.GetFileSystemEntries($"/proc/{server.Pid}/fd").Length, int.Parse(status["Threads"], CultureInfo.InvariantCulture),
                (long)metrics.GetValueOrDefault("dotnet_gc_last_collection_heap_size_bytes"),
                (long)metrics.GetValueOrDefault("dotnet_gc_last_collection_memory_committed_size_bytes"),
                (long)metrics.GetValueOrDefault("lineage_sqlite_memory_bytes"), requests, LoadAverage());
        }

        /// <summary>The server's /metrics, each series name summed over its label sets (the heap size is per generation).</summary>
        private static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http)
        {
            var sums = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var line in (await Send(http, HttpMethod.Get, "/metrics", null)).Split('\n'))
            {
                if (line.Length == 0 || line[0] == '#') continue;
                var nameEnd = line.IndexOfAny(['{', ' ']);
                if (nameEnd <= 0 || !double.TryParse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) continue;
                sums[line[..nameEnd]] = sums.GetValueOrDefault(line[..nameEnd]) + value;
            }
            return sums;
        }
    }

    /// <summary>Timings and errors of one operation; thread-safe.</summary>
    private sealed class OpStats
    {
        private readonly List<double> _times = [];
        public ConcurrentQueue<string> FirstErrors { get; } = new();
        public long Count { get; private set; }
        public long Errors { get; private set; }

        public void Add(double ms, string? error)
        {
            lock (_times)
            {
                _times.Add(ms);
                Count++;
                if (error is null) return;
                Errors++;
                if (FirstErrors.Count < 3) FirstErrors.Enqueue(error);
            }
        }

        public List<double> Times()
        {
            lock (_times) return _times.Order().ToList();
        }
    }
}
