using System.Diagnostics.Metrics;

namespace Lineage.Storage.Engine;

/// <summary>
/// What the engine measures about itself, as standard .NET instruments on a <see cref="Meter"/> owned by one
/// <see cref="Database"/> (so two stores in one process — tests, benchmarks — never mix their figures; an exporter
/// picks this store's instruments by the meter instance). The server exports them on <c>/metrics</c>
/// (<c>Hosting/ServerMetrics</c>); any other <c>MeterListener</c> (OpenTelemetry) can read them too.
/// Thread-safe: counters are interlocked, instruments are thread-safe.
/// </summary>
public sealed class DatabaseMetrics : IDisposable
{
    /// <summary>The name of every store's meter; instances differ, the name does not.</summary>
    public const string MeterName = "Lineage.Storage";

    private readonly Histogram<double> _commitSeconds;
    private readonly Histogram<int> _groupSize;
    private readonly Counter<long> _ingested;
    private readonly Counter<long> _readRetries;
    private readonly KeyValuePair<string, object?> _dialect;
    private long _queued;
    private long _writing;
    private long _reading;

    public DatabaseMetrics(SqlDialect dialect)
    {
        _dialect = new("dialect", dialect.Name);
        Meter = new Meter(MeterName);
        Meter.CreateObservableGauge("lineage.db.writer.queue", () => new Measurement<long>(Interlocked.Read(ref _queued), _dialect), "{request}",
            "Write operations waiting for a writer (SQLite: the single writer; PostgreSQL: the group-commit writers)");
        Meter.CreateObservableGauge("lineage.db.writes.active", () => new Measurement<long>(Interlocked.Read(ref _writing), _dialect), "{transaction}",
            "Write operations running now (those of the groups being committed, and PostgreSQL writes running alone)");
        Meter.CreateObservableGauge("lineage.db.reads.active", () => new Measurement<long>(Interlocked.Read(ref _reading), _dialect), "{connection}",
            "Read transactions holding a connection now");
        _commitSeconds = Meter.CreateHistogram<double>("lineage.db.commit.duration", "s",
            "Time from BEGIN to the end of COMMIT of a write transaction (one group commit, or one lone PostgreSQL write)");
        _groupSize = Meter.CreateHistogram<int>("lineage.db.commit.requests", "{request}", "Write operations made durable by one commit");
        _ingested = Meter.CreateCounter<long>("lineage.ingested", "{item}",
            "Committed items by kind: metric_points, params, tags, openlineage_events, artifact_versions");
        _readRetries = Meter.CreateCounter<long>("lineage.db.read.retries", "{read}",
            "Reads run again on a fresh connection because the driver found theirs broken (PostgreSQL)");
    }

    public Meter Meter { get; }

    /// <summary>A write joined the writer's queue.</summary>
    public void Enqueued() => Interlocked.Increment(ref _queued);

    /// <summary>The writer took <paramref name="count"/> writes off its queue and is running them.</summary>
    public void Dequeued(int count)
    {
        Interlocked.Add(ref _queued, -count);
        Interlocked.Add(ref _writing, count);
    }

    /// <summary>A write transaction of <paramref name="requests"/> operations ended (committed or not) after <paramref name="seconds"/>.</summary>
    public void WriteEnded(double seconds, int requests, bool committed)
    {
        Interlocked.Add(ref _writing, -requests);
        if (!committed) return;
        _commitSeconds.Record(seconds, _dialect);
        _groupSize.Record(requests, _dialect);
    }

    /// <summary>A PostgreSQL write started in a transaction of its own (groups count through <see cref="Dequeued"/>).</summary>
    public void WriteStarted() => Interlocked.Increment(ref _writing);

    /// <summary>Counts a read for its duration: <c>using (metrics.Reading()) …</c>.</summary>
    public ActiveRead Reading()
    {
        Interlocked.Increment(ref _reading);
        return new ActiveRead(this);
    }

    /// <summary>Publishes the SQLite writer's count of compiled statements (its statement cache's misses).</summary>
    public void ObserveStatementsCompiled(Func<long> compiled) =>
        Meter.CreateObservableCounter("lineage.db.statements.compiled", () => new Measurement<long>(compiled(), _dialect), "{statement}",
            "SQL texts the SQLite writer compiled: its statement cache's misses, flat once every statement has been seen");

    /// <summary>A read is run again because its connection broke under it.</summary>
    public void ReadRetried() => _readRetries.Add(1, _dialect);

    /// <summary>Items a committed write stored; call from <see cref="DbSession.OnCommitted"/> so rolled-back work is not counted.</summary>
    public void Ingested(string kind, long count)
    {
        if (count > 0) _ingested.Add(count, new KeyValuePair<string, object?>("kind", kind), _dialect);
    }

    public void Dispose() => Meter.Dispose();

    public readonly struct ActiveRead(DatabaseMetrics metrics) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref metrics._reading);
    }
}
