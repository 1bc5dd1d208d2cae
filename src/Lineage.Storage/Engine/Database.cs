using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;

namespace Lineage.Storage.Engine;

/// <summary>
/// A connection to the store in one of two dialects. Every public store operation is
/// exactly one <see cref="ReadAsync{T}"/> or <see cref="WriteAsync{T}"/> call: one
/// transaction, committed when the operation's body returns, rolled back when it throws.
/// Thread-safe.
/// </summary>
public abstract class Database : IAsyncDisposable
{
    private static readonly JsonSerializerOptions ResultJson = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    static Database()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    public abstract SqlDialect Dialect { get; }

    /// <summary>Writer queue, commit latency, active connections and ingestion counts of this store (exported on <c>/metrics</c>).</summary>
    public DatabaseMetrics Metrics => _metrics ?? CreateMetrics();

    private DatabaseMetrics? _metrics;

    /// <summary>First use may come from a caller and the SQLite writer loop at once: one instance wins, the other is dropped.</summary>
    private DatabaseMetrics CreateMetrics()
    {
        var created = new DatabaseMetrics(Dialect);
        if (Interlocked.CompareExchange(ref _metrics, created, null) is not { } earlier) return created;
        created.Dispose();
        return earlier;
    }

    protected void DisposeMetrics() => _metrics?.Dispose();

    /// <summary>
    /// What every new database seals and redacts sensitive values with until told otherwise. The engine knows only the
    /// <see cref="IValueProtection"/> seam; governance plugs its default in when the assembly loads (Governance/GovernanceHooks.cs).
    /// </summary>
    internal static IValueProtection DefaultFields { get; set; } = null!;

    /// <summary>Field encryption and redaction; set once by the server at start-up, before any request.</summary>
    public IValueProtection Fields { get; set; } = DefaultFields;

    protected DbSession Session(DbConnection connection, DbTransaction? transaction, OperationContext operation) =>
        new(connection, transaction, Dialect, Fields, operation);

    /// <summary>Where the data lives, with any password removed: for logs and /ready.</summary>
    public abstract string Description { get; }

    /// <summary>
    /// Opens the store named by <paramref name="target"/>: a <c>postgres://</c> URI or a
    /// <c>Host=…</c> connection string means PostgreSQL, anything else is a SQLite file path.
    /// Applies migrations to a new database; an older one is upgraded only when
    /// <paramref name="upgrade"/> is set; a newer one is refused.
    /// </summary>
    public static async Task<Database> OpenAsync(string target, bool upgrade = false, CancellationToken ct = default)
    {
        Database db = IsPostgres(target)
            ? new PostgresDatabase(PostgresDatabase.ToConnectionString(target))
            : new SqliteDatabase(target);
        try
        {
            await db.MigrateAsync(upgrade, ct);
            return db;
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    public static bool IsPostgres(string target) =>
        target.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || target.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
        || target.TrimStart().StartsWith("Host=", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Runs a read-only operation on a pooled connection, in the current <see cref="OperationContext"/>; without
    /// <paramref name="ct"/>, cancelled when the operation's request is.
    /// </summary>
    public Task<T> ReadAsync<T>(Func<DbSession, Task<T>> body, CancellationToken ct = default)
    {
        var operation = OperationContext.Current;
        return ExecuteReadAsync(operation, body, ct.CanBeCanceled ? ct : operation.Cancellation);
    }

    protected abstract Task<T> ExecuteReadAsync<T>(OperationContext operation, Func<DbSession, Task<T>> body, CancellationToken ct);

    /// <summary>
    /// Runs a write operation in its own transaction, in the current <see cref="OperationContext"/> (captured here,
    /// on the caller's flow). A <paramref name="keyed"/> operation is the one that answers the request: under the
    /// request's Idempotency-Key a request seen before returns the stored result and the body does not run. The first
    /// keyed operation of a request claims the key, so a second one can never be answered with the first one's result.
    /// The context's <see cref="OperationContext.BeforeCommit"/> hook runs after the body, in the same transaction.
    /// A write that is not <paramref name="durable"/> commits without waiting for the disk to sync: a crash of the process never
    /// loses it, a power loss may — only for bookkeeping whose loss repeats work and loses nothing else (webhook delivery records:
    /// at worst a delivery is sent again).
    /// </summary>
    public Task<T> WriteAsync<T>(Func<DbSession, Task<T>> body, bool keyed = false, CancellationToken ct = default, bool durable = true)
    {
        var operation = OperationContext.Current;
        var key = keyed ? operation.Idempotency?.Claim() : null;
        var hook = operation.BeforeCommit;
        var hooked = hook is null ? body : async s =>
        {
            var result = await body(s);
            await hook.BeforeCommitAsync(s);
            return result;
        };
        return key is null ? ExecuteWriteAsync(operation, hooked, durable, ct) : ExecuteWriteAsync(operation, s => IdempotentAsync(s, hooked, key), durable, ct);
    }

    protected abstract Task<T> ExecuteWriteAsync<T>(OperationContext operation, Func<DbSession, Task<T>> body, bool durable, CancellationToken ct);

    protected abstract Task MigrateAsync(bool upgrade, CancellationToken ct);

    /// <summary>True when the database answers a trivial query.</summary>
    public async Task<bool> PingAsync(CancellationToken ct = default)
    {
        try
        {
            return await ReadAsync(async s => await s.Connection.ExecuteScalarAsync<long>("SELECT 1") == 1, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Bytes the metadata database occupies (files, or the PostgreSQL database).</summary>
    public abstract Task<long> SizeOnDiskAsync(CancellationToken ct = default);

    /// <summary>Applied schema versions, oldest first.</summary>
    public Task<IReadOnlyList<long>> SchemaVersionsAsync(CancellationToken ct = default) =>
        ReadAsync<IReadOnlyList<long>>(async s =>
            (await s.Connection.QueryAsync<long>("SELECT version FROM schema_migrations ORDER BY version")).ToList(), ct);

    /// <summary>Forgets idempotency keys older than <paramref name="maxAge"/>.</summary>
    public Task<int> PurgeIdempotencyKeysAsync(TimeSpan maxAge, CancellationToken ct = default) =>
        WriteAsync(s => s.Connection.ExecuteAsync(
            "DELETE FROM idempotency_keys WHERE created_at < @cutoff",
            new { cutoff = Clock.NowMs() - (long)maxAge.TotalMilliseconds }, s.Transaction), ct: ct);

    private static async Task<T> IdempotentAsync<T>(DbSession s, Func<DbSession, Task<T>> body, IdempotencyKey key)
    {
        var earlier = await s.Connection.QueryFirstOrDefaultAsync<StoredResult>(
            "SELECT request_hash, result FROM idempotency_keys WHERE key = @Key", new { key.Key }, s.Transaction);
        if (earlier is not null)
        {
            if (earlier.RequestHash != key.RequestHash)
                throw LineageException.Conflict(
                    $"Idempotency-Key '{Validate.Shorten(key.Key)}' was already used for a different request; use a new key for a new request");
            key.Replayed = true;
            return JsonSerializer.Deserialize<T>(earlier.Result, ResultJson)!;
        }

        s.KeepsResult = true;
        var result = await body(s);
        var inserted = await s.Connection.ExecuteAsync(
            "INSERT INTO idempotency_keys (key, request_hash, result, created_at) VALUES (@Key, @RequestHash, @Result, @Now) ON CONFLICT (key) DO NOTHING",
            new { key.Key, key.RequestHash, Result = JsonSerializer.Serialize(result, ResultJson), Now = Clock.NowMs() },
            s.Transaction);
        if (inserted == 0)
            throw new RetryTransactionException($"idempotency key '{key.Key}' was claimed concurrently");
        return result;
    }

    public abstract ValueTask DisposeAsync();

    private sealed class StoredResult
    {
        public string RequestHash { get; set; } = "";
        public string Result { get; set; } = "";
    }
}
