using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Lineage.Server.Hosting;

/// <summary>
/// The server's <c>/metrics</c>, in the Prometheus text exposition format (prometheus-net). One registry per server
/// (tests run several servers in one process; a process-wide registry would add their figures up):
/// <list type="bullet">
/// <item>HTTP requests per method, route template (never the raw path: bounded label values) and status: a counter and
/// a latency histogram (<see cref="RequestTelemetry"/>), and the requests in flight;</item>
/// <item>the store's own instruments (<see cref="DatabaseMetrics"/>: writer queue, active reads and writes, commit latency,
/// requests per commit, committed items by kind) and Npgsql's connection-pool instruments, through
/// <see cref="MeterBridge"/>, filtered to this server's store meter instance;</item>
/// <item>blob store bytes and blobs, counted from a listing refreshed at most once a minute (a listing walks the folder);</item>
/// <item>the audit writer's backlog; on SQLite, the bytes SQLite's allocator holds;</item>
/// <item>the .NET runtime's own instruments (meter <c>System.Runtime</c>: working set, GC heap by generation, committed
/// memory, collections, thread pool).</item>
/// </list>
/// Thread-safe; disposed with the server.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    private static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private static readonly TimeSpan BlobListingAge = TimeSpan.FromMinutes(1);

    private readonly IDisposable _meters;
    private readonly IBlobStore _blobs;
    private readonly Gauge _blobBytes;
    private readonly Gauge _blobCount;
    private readonly object _blobLock = new();
    private Task? _blobRefresh;
    private DateTime _blobListedAt = DateTime.MinValue;

    public ServerMetrics(Database db, IBlobStore blobs, AuditWriter audit)
    {
        _blobs = blobs;
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        Requests = factory.CreateCounter("lineage_http_requests_total", "HTTP requests answered, by method, route template and status code",
            ["method", "route", "status"]);
        Latency = factory.CreateHistogram("lineage_http_request_duration_seconds", "Time from receiving a request to the end of its answer",
            new HistogramConfiguration { LabelNames = ["method", "route", "status"], Buckets = LatencyBuckets });
        InFlight = factory.CreateGauge("lineage_http_requests_in_flight", "HTTP requests being answered now");
        _blobBytes = factory.CreateGauge("lineage_blob_store_bytes", "Bytes of content in the blob store (listing at most a minute old)");
        _blobCount = factory.CreateGauge("lineage_blob_store_blobs", "Blobs in the blob store (listing at most a minute old)");
        var auditBacklog = factory.CreateGauge("lineage_audit_backlog", "Audit entries waiting for the audit writer to chain them");
        // SQLite allocates its page caches and statements outside the managed heap: without this series resident memory
        // minus the GC heap is a guess (issue 17's soak). Process-wide, so it counts every SQLite store of the process.
        var sqliteMemory = db.Dialect == SqlDialect.Sqlite
            ? factory.CreateGauge("lineage_sqlite_memory_bytes", "Bytes held by SQLite's allocator in this process: page caches of the writer and the pooled readers, prepared statements")
            : null;
        Registry.AddBeforeCollectCallback(async ct =>
        {
            auditBacklog.Set(audit.Backlog);
            sqliteMemory?.Set(SQLitePCL.raw.sqlite3_memory_used());
            await RefreshBlobsAsync();
        });
        var storeMeter = db.Metrics.Meter;
        _meters = new MeterBridge(Registry,
            // Npgsql: the pool's instruments only; its per-operation ones carry server address and database name.
            // System.Runtime: the process's memory, GC heap and thread pool, so resident memory can be told apart from
            // the managed heap (issue 17's soak) without installing dotnet-counters next to a server.
            instrument => ReferenceEquals(instrument.Meter, storeMeter)
                          || (instrument.Meter.Name == "Npgsql" && instrument.Name.StartsWith("db.client.connection.", StringComparison.Ordinal))
                          || instrument.Meter.Name == "System.Runtime",
            instrument => instrument.Unit == "s" ? LatencyBuckets : [1, 2, 4, 8, 16, 32, 64, 128, 256]);
    }

    public CollectorRegistry Registry { get; }

    public Counter Requests { get; }

    public Histogram Latency { get; }

    public Gauge InFlight { get; }

    /// <summary>Content type of the text exposition format, version 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The first scrape waits for a listing; later ones use the last and start a new one when it is a minute old.</summary>
    private Task RefreshBlobsAsync()
    {
        lock (_blobLock)
        {
            if (_blobRefresh is { IsCompleted: false } running) return _blobListedAt == DateTime.MinValue ? running : Task.CompletedTask;
            if (DateTime.UtcNow - _blobListedAt < BlobListingAge) return Task.CompletedTask;
            var first = _blobListedAt == DateTime.MinValue;
            _blobRefresh = Task.Run(async () =>
            {
                long bytes = 0, count = 0;
                await foreach (var blob in _blobs.ListAsync())
                {
                    bytes += blob.Size;
                    count++;
                }
                _blobBytes.Set(bytes);
                _blobCount.Set(count);
                lock (_blobLock) _blobListedAt = DateTime.UtcNow;
            });
            return first ? _blobRefresh : Task.CompletedTask;
        }
    }

    public void Dispose() => _meters.Dispose();
}

public static class MetricsEndpoint
{
    /// <summary><c>GET /metrics</c>: the Prometheus scrape (access: any principal with a role somewhere, when authentication is on).</summary>
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", async (HttpContext ctx, ServerMetrics metrics) =>
            {
                ctx.Response.ContentType = ServerMetrics.ContentType;
                ctx.Response.Headers.CacheControl = "no-store";
                await metrics.Registry.CollectAndExportAsTextAsync(ctx.Response.Body, ctx.RequestAborted);
            })
            .WithTags("Health").ExcludeFromDescription();
        return app;
    }
}
