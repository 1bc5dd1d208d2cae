using Dapper;
using Lineage.Core.Errors;
using Lineage.Storage.Migrations;
using Npgsql;

namespace Lineage.Storage.Engine;

/// <summary>
/// The team store: PostgreSQL through a pooled Npgsql data source. Every operation is one
/// READ COMMITTED transaction; uniqueness is enforced by the database, so any number of
/// server processes may share it. An operation that loses a race (serialization failure,
/// deadlock, a key taken concurrently) is rolled back and run again from the start.
/// Writes that arrive together share a transaction (group commit, PostgresDatabase.GroupCommit.cs).
/// </summary>
public sealed partial class PostgresDatabase : Database
{
    private const int MaxAttempts = 8;

    /// <summary>Arbitrary constant naming Lineage's migration lock among the server's advisory locks.</summary>
    internal const long MigrationLockId = 0x4c696e65616765;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _description;

    /// <param name="groupWriters">
    /// Connections that commit queued writes in groups (default: <c>LINEAGE_PG_GROUP_WRITERS</c>, else <see cref="DefaultGroupWriters"/>);
    /// 0 runs every write in its own transaction, as before issue 15.
    /// </param>
    public PostgresDatabase(string connectionString, int? groupWriters = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxPoolSize == 100) builder.MaxPoolSize = 50;
        // Statements run again and again (the same few dozen texts) are prepared once per connection,
        // sparing PostgreSQL the parse and much of the planning on every call; unless the caller chose.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 100;
            builder.AutoPrepareMinUsages = 2;
        }
        // A pooled connection is reset (DISCARD ALL and friends) on its next use, about 0.1 ms of the server's time
        // per operation. Lineage keeps no session state — locks and settings are transaction-scoped — so skip it.
        if (!connectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase)) builder.NoResetOnClose = true;
        _description = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
        // Npgsql names the pool in its metrics (exported on /metrics) by the connection string unless told otherwise:
        // a fixed name keeps the host, user and database out of them (issue 17: /ready showed them to anyone).
        _dataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString) { Name = "lineage" }.Build();
        _writers = StartGroupWriters(groupWriters ?? GroupWritersFromEnvironment());
    }

    public override SqlDialect Dialect => SqlDialect.Postgres;

    public override string Description => _description;

    /// <summary>Accepts a <c>postgres://user:pass@host:port/db?opt=v</c> URI or a key=value string.</summary>
    public static string ToConnectionString(string target)
    {
        if (!target.Contains("://", StringComparison.Ordinal)) return target;
        var uri = new Uri(target);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : "postgres",
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            builder[Uri.UnescapeDataString(kv[0])] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "true";
        }
        return builder.ConnectionString;
    }

    /// <summary>
    /// A read whose pooled connection the driver finds broken — a network error, or, rarely under load in the fuzz suite
    /// (issue 17), Npgsql's "unexpected backend message" protocol state, likeliest after a cancelled streamed query (no longer
    /// done: docs/architecture.md, "Snapshot reads") — is run once more on a fresh connection (Npgsql discards a broken
    /// one): a read changes nothing, so running it again is safe. Recognised by the connection's state, never by message
    /// text; every retry is counted (<see cref="DatabaseMetrics.ReadRetried"/>).
    /// </summary>
    protected override async Task<T> ExecuteReadAsync<T>(OperationContext operation, Func<DbSession, Task<T>> body, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var broken = false;
            try
            {
                using var reading = Metrics.Reading();
                await using var connection = await _dataSource.OpenConnectionAsync(ct);
                try
                {
                    // One snapshot for the whole read (REPEATABLE READ: every statement sees the database as of the first), so a
                    // run and its metrics are read as one commit left them. Npgsql sends BEGIN with the first statement.
                    await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
                    var result = await body(Session(connection, transaction, operation));
                    await transaction.CommitAsync(ct);
                    return result;
                }
                catch
                {
                    broken = connection.FullState.HasFlag(System.Data.ConnectionState.Broken); // before disposal closes it
                    throw;
                }
            }
            catch (Exception ex) when (broken && attempt == 1 && !ct.IsCancellationRequested && ex is not (LineageException or OperationCanceledException))
            {
                Metrics.ReadRetried();
            }
            catch (Exception ex)
            {
                throw Dialect.Translate(ex);
            }
        }
    }

    /// <summary>Runs one write in a transaction of its own, rerun from the start when it loses a race (the path of a write a group could not commit).</summary>
    private async Task<T> WriteAloneAsync<T>(OperationContext operation, Func<DbSession, Task<T>> body, bool durable, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var committed = false;
            Metrics.WriteStarted();
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(ct);
                await using var transaction = await connection.BeginTransactionAsync(ct);
                // Not durable: the commit does not wait for the WAL flush (a server crash loses nothing; an OS crash may lose it).
                if (!durable) await connection.ExecuteAsync("SET LOCAL synchronous_commit = off", transaction: transaction);
                var session = Session(connection, transaction, operation);
                var result = await body(session);
                await transaction.CommitAsync(ct);
                committed = true;
                session.Committed();
                return result;
            }
            catch (Exception ex) when (Dialect.IsRetryable(ex) && attempt < MaxAttempts)
            {
                // Lost a race to another writer: back off a little (with jitter) and redo.
                await Task.Delay(Random.Shared.Next(1, 5 << attempt), ct);
            }
            catch (Exception ex)
            {
                throw Dialect.Translate(ex);
            }
            finally
            {
                Metrics.WriteEnded(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, 1, committed);
            }
        }
    }

    protected override Task MigrateAsync(bool upgrade, CancellationToken ct) =>
        WriteAloneAsync(OperationContext.Background, async s =>
        {
            // Several servers may start at once on a new database: one migrates, the others wait.
            await s.Dialect.TransactionLockAsync(s, MigrationLockId);
            return (await Migrator.ApplyAsync(s, upgrade)).Count;
        }, durable: true, ct);

    public override Task<long> SizeOnDiskAsync(CancellationToken ct = default) =>
        ReadAsync(s => s.Connection.ExecuteScalarAsync<long>("SELECT pg_database_size(current_database())"), ct);

    public override async ValueTask DisposeAsync()
    {
        await StopGroupWritersAsync();
        await _dataSource.DisposeAsync();
        DisposeMetrics();
    }
}
