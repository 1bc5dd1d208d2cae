using System.Threading.Channels;
using Dapper;
using Lineage.Storage.Migrations;
using Microsoft.Data.Sqlite;

namespace Lineage.Storage.Engine;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. Reads run concurrently on pooled
/// connections. Writes go through a single writer connection that drains a queue and
/// commits everything queued in one transaction (group commit): one fsync covers many
/// requests, and each request runs in its own SAVEPOINT so a rejected one rolls back
/// alone. A caller's task completes only after the COMMIT that made its write durable
/// (synchronous=FULL), so an acknowledged write survives a crash.
/// </summary>
public sealed class SqliteDatabase : Database
{
    /// <summary>Upper bound on requests per group commit, to keep latency bounded under load.</summary>
    private const int MaxGroup = 256;

    private readonly string _readConnectionString;
    private readonly StatementCachingConnection _writer;
    private readonly Channel<QueuedWrite> _queue = Channel.CreateUnbounded<QueuedWrite>(new() { SingleReader = true });
    private readonly Task _writerLoop;
    private readonly string _path;

    public SqliteDatabase(string path)
    {
        _path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var builder = new SqliteConnectionStringBuilder { DataSource = _path, Pooling = true, DefaultTimeout = 30 };
        _readConnectionString = builder.ToString();
        _writer = new StatementCachingConnection(new SqliteConnection(new SqliteConnectionStringBuilder(_readConnectionString) { Pooling = false }.ToString()));
        _writer.Open();
        // WAL lets readers run beside the writer; FULL syncs the WAL on every commit, so
        // an acknowledged write survives power loss too (group commit pays for the fsync).
        // Checkpoints run every 10,000 WAL pages (~40 MB) instead of SQLite's 1,000: a page rewritten by many
        // commits is copied back once, and the writer stops for a checkpoint a tenth as often (+14% OpenLineage
        // events/s, docs/benchmarks.md). A clean close still checkpoints everything.
        // The writer is the file's only writer, so its page cache stays valid from one transaction to the next:
        // 64 MB (SQLite's default is 2 MB) keeps the hot index pages of a large database in memory instead of
        // re-reading them with a system call per page.
        _writer.Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000; PRAGMA wal_autocheckpoint=10000; PRAGMA cache_size=-65536;");
        Metrics.ObserveStatementsCompiled(() => _writer.Compiled);
        _writerLoop = Task.Factory.StartNew(WriterLoopAsync, CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public override SqlDialect Dialect => SqlDialect.Sqlite;

    /// <summary>Statements the writer has compiled (see <see cref="StatementCachingConnection.Compiled"/>).</summary>
    public long StatementsCompiled => _writer.Compiled;

    public override string Description => $"sqlite:{_path}";

    /// <summary>The database file (a backup reads it through SQLite's online backup API).</summary>
    public string FilePath => _path;

    public override Task<long> SizeOnDiskAsync(CancellationToken ct = default) =>
        Task.FromResult(new[] { _path, _path + "-wal" }.Where(File.Exists).Sum(p => new FileInfo(p).Length));

    protected override async Task<T> ExecuteReadAsync<T>(OperationContext operation, Func<DbSession, Task<T>> body, CancellationToken ct)
    {
        using var reading = Metrics.Reading();
        await using var connection = new SqliteConnection(_readConnectionString);
        await connection.OpenAsync(ct);
        try
        {
            // One snapshot for the whole read (a deferred transaction takes it at the first SELECT): a run and its
            // metrics are read as one commit left them, never half before and half after a concurrent write.
            await connection.ExecuteAsync("BEGIN DEFERRED");
            var result = await body(Session(connection, null, operation));
            await connection.ExecuteAsync("COMMIT TRANSACTION");
            return result;
        }
        catch (Exception ex)
        {
            // The connection goes back to the pool: never with a transaction open.
            try { await connection.ExecuteAsync("ROLLBACK TRANSACTION"); } catch (SqliteException) { /* none open */ }
            throw Dialect.Translate(ex);
        }
    }

    protected override Task<T> ExecuteWriteAsync<T>(OperationContext operation, Func<DbSession, Task<T>> body, bool durable, CancellationToken ct) =>
        QueuedWrite.RunAsync(_queue.Writer, Metrics, nameof(SqliteDatabase), operation, body, durable, ct);

    protected override Task MigrateAsync(bool upgrade, CancellationToken ct) =>
        // Through the writer queue: BEGIN IMMEDIATE takes the file's write lock, so two
        // processes opening one new file do not both create the schema.
        ExecuteWriteAsync(OperationContext.Background, async s => (await Migrator.ApplyAsync(s, upgrade)).Count, durable: true, ct);

    private async Task WriterLoopAsync()
    {
        var group = new List<(QueuedWrite Item, DbSession Session)>(MaxGroup);
        while (await _queue.Reader.WaitToReadAsync())
        {
            group.Clear();
            var cancelled = 0;
            while (group.Count < MaxGroup && _queue.Reader.TryRead(out var item))
            {
                // A write cancelled while it waited does not start; once started it finishes with its group.
                if (item.Cancellation.IsCancellationRequested)
                {
                    item.Completion.TrySetCanceled(item.Cancellation);
                    cancelled++;
                    continue;
                }
                group.Add((item, Session(_writer, null, item.Operation)));
            }
            Metrics.Dequeued(group.Count + cancelled);
            if (cancelled > 0) Metrics.WriteEnded(0, cancelled, committed: false);
            if (group.Count == 0) continue;
            var size = group.Count;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            // A group of only non-durable writes commits without syncing the WAL (kept in the OS's cache, so a process crash loses
            // nothing); the next durable commit syncs it along with its own.
            var lazy = group.TrueForAll(g => !g.Item.Durable);
            try
            {
                if (lazy) _writer.Execute("PRAGMA synchronous=NORMAL");
                await RunGroupAsync(group);
                Metrics.WriteEnded(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, size, committed: true);
            }
            catch (Exception ex)
            {
                Metrics.WriteEnded(0, size, committed: false);
                // BEGIN or COMMIT failed: nothing of this group is durable.
                try { _writer.Execute("ROLLBACK"); } catch (SqliteException) { /* no transaction open */ }
                var error = Dialect.Translate(ex);
                foreach (var (item, _) in group) item.Completion.TrySetException(error);
            }
            finally
            {
                if (lazy) _writer.Execute("PRAGMA synchronous=FULL");
            }
        }
    }

    /// <summary>
    /// Runs a group in one transaction. Optimistic first: no per-request SAVEPOINT, which costs two
    /// statements a request. If a request fails, the whole transaction rolls back (nothing of it is
    /// visible or acknowledged), that request gets its error, and the rest of the group runs again,
    /// each in its own SAVEPOINT. Bodies are re-runnable: PostgreSQL retries rerun them the same way.
    /// </summary>
    private async Task RunGroupAsync(List<(QueuedWrite Item, DbSession Session)> group, bool savepoints = false)
    {
        var results = new object?[group.Count];
        var errors = new Exception?[group.Count];
        _writer.Execute("BEGIN IMMEDIATE");
        for (var i = 0; i < group.Count; i++)
        {
            if (savepoints) _writer.Execute("SAVEPOINT request");
            try
            {
                results[i] = await group[i].Item.Body(group[i].Session);
                if (savepoints) _writer.Execute("RELEASE request");
            }
            catch (Exception ex) when (savepoints)
            {
                _writer.Execute("ROLLBACK TO request; RELEASE request");
                errors[i] = Dialect.Translate(ex);
            }
            catch (Exception ex)
            {
                _writer.Execute("ROLLBACK");
                group[i].Item.Completion.TrySetException(Dialect.Translate(ex));
                group.RemoveAt(i);
                await RunGroupAsync(group.Select(g => (g.Item, Session(_writer, null, g.Item.Operation))).ToList(), savepoints: true);
                return;
            }
        }
        _writer.Execute("COMMIT");
        for (var i = 0; i < group.Count; i++)
        {
            if (errors[i] is { } error)
            {
                group[i].Item.Completion.TrySetException(error);
                continue;
            }
            group[i].Session.Committed();
            group[i].Item.Completion.TrySetResult(results[i]);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writerLoop;
        // A clean close checkpoints the WAL into the main file.
        _writer.Execute("PRAGMA wal_checkpoint(TRUNCATE)");
        await _writer.DisposeAsync();
        SqliteConnection.ClearPool(new SqliteConnection(_readConnectionString));
        DisposeMetrics();
    }
}
