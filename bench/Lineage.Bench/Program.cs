using System.Diagnostics;
using System.Globalization;
using Lineage.Bench;

// Ingestion benchmark: a real `lineage server` process and this client on one machine.
// Usage: dotnet run -c Release --project bench/Lineage.Bench -- [options]; --help lists them.
var options = BenchOptions.Parse(args);
if (options is null) return 2;
return options.Suite switch
{
    "artifacts" => await ArtifactBench.RunAsync(options),
    "archive" => await ArchiveBench.RunAsync(options),
    "authz" => await AuthzBench.RunAsync(options),
    "graph" => await GraphBench.RunAsync(options),
    "mlflow" => await MlflowBench.RunAsync(options),
    "mlflow-import" => await MlflowImportBench.RunAsync(options),
    "registry" => await RegistryBench.RunAsync(options),
    "soak" => await SoakBench.RunAsync(options),
    "webhooks" => await WebhookBench.RunAsync(options),
    "sse" => await SseBench.RunAsync(options),
    _ => await IngestionBench.RunAsync(options),
};

namespace Lineage.Bench
{
    public sealed record BenchOptions(string Suite, string Store, string? Postgres, long Points, int BatchSize, int Keys, int Concurrency, int Restarts,
        long FileBytes, int Rounds, int SmallVersions, long Nodes, int Window, int Queries, int Events, bool Auth = false, int? RateLimit = null,
        string? S3Endpoint = null, int Clients = 50, double Minutes = 10, IReadOnlyDictionary<string, string>? ServerEnv = null, int Runs = 2000,
        int Webhooks = 1, double OutageMinutes = 0, int OlBatch = 1, int OlWarmup = 10_000)
    {
        public static BenchOptions? Parse(string[] args)
        {
            var o = new BenchOptions("ingest", "sqlite", Environment.GetEnvironmentVariable("LINEAGE_BENCH_POSTGRES"), 10_000_000, 10_000, 10, 4, 5,
                2L * 1000 * 1000 * 1000, 3, 10_000, 1_000_000, 16, 500, 20_000);
            for (var i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--suite": o = o with { Suite = Next() }; break;
                    case "--nodes": o = o with { Nodes = long.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--window": o = o with { Window = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--queries": o = o with { Queries = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--events": o = o with { Events = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--store": o = o with { Store = Next() }; break;
                    case "--file-mb": o = o with { FileBytes = long.Parse(Next(), CultureInfo.InvariantCulture) * 1000 * 1000 }; break;
                    case "--rounds": o = o with { Rounds = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--small-versions": o = o with { SmallVersions = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--postgres": o = o with { Postgres = Next() }; break;
                    case "--points": o = o with { Points = long.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--batch": o = o with { BatchSize = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--keys": o = o with { Keys = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--ol-batch": o = o with { OlBatch = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--ol-warmup": o = o with { OlWarmup = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--concurrency" or "--connections": o = o with { Concurrency = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--auth": o = o with { Auth = true }; break;
                    case "--rate-limit": o = o with { RateLimit = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--clients": o = o with { Clients = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--runs": o = o with { Runs = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--webhooks": o = o with { Webhooks = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--outage-minutes": o = o with { OutageMinutes = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--minutes": o = o with { Minutes = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--restarts": o = o with { Restarts = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                    case "--s3": o = o with { S3Endpoint = Next() }; break;
                    case "--server-env":
                        var setting = Next();
                        var equals = setting.IndexOf('=');
                        if (equals <= 0) throw new ArgumentException($"--server-env takes NAME=VALUE, got '{setting}'");
                        o = o with { ServerEnv = new Dictionary<string, string>(o.ServerEnv ?? new Dictionary<string, string>()) { [setting[..equals]] = setting[(equals + 1)..] } };
                        break;
                    default:
                        Console.WriteLine("""
                            Lineage ingestion benchmark: starts a real `lineage server` process, sends metric
                            batches over HTTP from this process, then measures size on disk, restart time and
                            idle memory. Prints a Markdown table for docs/benchmarks.md.

                            Options:
                              --suite ingest|artifacts|archive|authz|graph|mlflow|mlflow-import|registry|soak|sse|webhooks  what to measure (default ingest: metric points;
                                                        mlflow: search/history/log-batch over N runs, N from $LINEAGE_BENCH_RUNS, default 100000;
                                                        mlflow-import: `lineage import mlflow` runs/s between two servers;
                                                        soak: mixed traffic, per-operation errors and p50/p99, server RSS and fd growth)
                              --store sqlite|postgres   store to measure (default sqlite)
                              --postgres CONNSTR        admin connection string for --store postgres
                                                        (default: $LINEAGE_BENCH_POSTGRES); a fresh database is created
                              --points N                metric points to ingest (default 10000000)
                              --batch N                 points per batch request (default 10000, the API maximum)
                              --keys N                  metric keys per run, interleaved in each batch (default 10)
                              --concurrency N           concurrent client connections (default 4); --connections N is the same
                              --ol-batch N              graph: OpenLineage events per request, posted to /api/v1/lineage/batch when
                                                        above 1 (default 1: one event per POST /api/v1/lineage)
                              --ol-warmup N             graph: OpenLineage events sent untimed first, so the figure is the warm server's,
                                                        not the JIT's tiering (default 10000; 0 = measure from cold as before)
                              --auth                    ingest: with authentication on (a user and a Bearer token) and every batch audited
                              --rate-limit N            ingest: the server's --rate-limit (0 = limiter off; default: the server's default)
                              --restarts N              server restarts for the start-up time median (default 5)
                              --file-mb N               artifacts: size of the large file in MB (default 2000)
                              --rounds N                artifacts: upload/download rounds for the median (default 3)
                              --s3 ENDPOINT             artifacts: content in a fresh bucket of this S3-compatible server (credentials from
                                                        AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), compared with a direct multipart upload
                              --small-versions N        artifacts: small versions to register (default 10000);
                                                        registry: model versions (default 100000)
                              --nodes N                 graph: nodes of the synthetic graph (default 1000000; edges = 3 x nodes)
                              --window N                graph: how far back (in artifacts) inputs are drawn (default 16: about 100 nodes upstream at depth 10)
                              --queries N               graph/registry/authz: queries to time (default 500)
                              --events N                graph: OpenLineage events to ingest (default 20000); webhooks: backlog events
                              --webhooks N              webhooks: webhooks subscribed (all to the one local receiver, default 1); every
                                                        event is delivered to each, so the backlog is N x events deliveries
                              --outage-minutes M        webhooks: the receiver fails for M minutes while the backlog is queued and
                                                        delivery resumes by the server's own retries (default 0: at once, by a manual
                                                        redelivery of each webhook's head)
                              --clients N               soak: concurrent clients (default 50); sse: stream subscribers
                                                        (sse: --events is the event rate per second, --minutes each phase's length)
                              --runs N                  mlflow-import: runs in the source (default 2000; --rounds, --concurrency apply)
                              --minutes M               soak: how long the mixed traffic runs (default 10; the first minute is the
                                                        warm-up before the memory/fd baseline, a fifth of the run when M < 3)
                              --server-env NAME=VALUE   soak: an environment variable for the server process (repeatable), to
                                                        compare runtime settings: DOTNET_GCConserveMemory=5, DOTNET_gcConcurrent=1,
                                                        DOTNET_GCgen0size=0x1000000, MALLOC_ARENA_MAX=2

                            Example:
                              dotnet run -c Release --project bench/Lineage.Bench -- --store sqlite --points 10000000
                              dotnet run -c Release --project bench/Lineage.Bench -- --suite artifacts --file-mb 2000
                              dotnet run -c Release --project bench/Lineage.Bench -- --suite graph --store sqlite
                              dotnet run -c Release --project bench/Lineage.Bench -- --suite registry --store sqlite
                              dotnet run -c Release --project bench/Lineage.Bench -- --suite authz --store sqlite
                              dotnet run -c Release --project bench/Lineage.Bench -- --suite soak --clients 50 --minutes 10
                              dotnet run -c Release --project bench/Lineage.Bench -- --suite soak --minutes 10 --server-env MALLOC_ARENA_MAX=2
                              dotnet run -c Release --project bench/Lineage.Bench -- --suite mlflow-import --runs 2000
                            """);
                        return args[i] is "--help" or "-h" ? null : throw new ArgumentException($"unknown option {args[i]}");
                }
            }
            return o;
        }
    }
}
