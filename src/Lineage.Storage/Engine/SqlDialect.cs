using System.Data.Common;
using Lineage.Core.Errors;

namespace Lineage.Storage.Engine;

/// <summary>
/// What differs between the databases Lineage runs on, one subclass per database (<see cref="SqliteDialect"/>,
/// <see cref="PostgresDialect"/>), after Weasel's per-database syntax strategies: SQL fragments the DML needs,
/// the transaction-scoped lock, the catalog queries, and the translation of driver errors. Everything else
/// (upserts with ON CONFLICT, RETURNING, row-value comparisons) is written once. Store code reaches it as
/// <c>s.Dialect</c> and never asks which database it is on.
/// </summary>
/// <remarks>Stateless and thread-safe: the two instances are shared by every database of their kind.</remarks>
public abstract class SqlDialect
{
    public static readonly SqlDialect Sqlite = new SqliteDialect();
    public static readonly SqlDialect Postgres = new PostgresDialect();

    private protected SqlDialect() { }

    /// <summary>"sqlite" or "postgres": also the folder of the dialect's migrations and the dialect label of metrics.</summary>
    public abstract string Name { get; }

    /// <summary>Row lock suffix for a SELECT. Empty on SQLite, whose writer holds the whole database.</summary>
    public abstract string ForUpdate { get; }

    /// <summary>ASCII case-insensitive LIKE operator.</summary>
    public abstract string LikeInsensitive { get; }

    /// <summary>
    /// "column is one of the list in parameter @name". Dapper expands a list into
    /// (@name1, @name2, …) for SQLite but hands Npgsql a single array parameter.
    /// </summary>
    /// <remarks>For short lists from a request (filters, a search's experiments). Large id sets use <see cref="InSet"/>.</remarks>
    public abstract string InList(string column, string parameter);

    /// <summary>
    /// "column is one of the set in parameter @name", whose value comes from <see cref="Set{T}"/>: one parameter
    /// however many values. On SQLite a JSON array read by json_each: an expanded list of n parameters costs O(n²)
    /// in binding (each is looked up by name), which was a quarter of a 1,000-node impact query.
    /// </summary>
    public abstract string InSet(string column, string parameter);

    /// <summary>The value of an <see cref="InSet"/> parameter: an array for PostgreSQL, a JSON array text for SQLite.</summary>
    public abstract object Set<T>(IEnumerable<T> values);

    /// <summary>
    /// The text of top-level key @<paramref name="keyParameter"/> of a JSON-object TEXT column,
    /// spelled the same on both databases (true/false as words, numbers as written).
    /// </summary>
    public abstract string JsonField(string column, string keyParameter);

    /// <summary>
    /// The number at top-level key @<paramref name="keyParameter"/> of a JSON-object TEXT column, or NULL when
    /// the value there is not a JSON number (so a comparison never fails on text).
    /// </summary>
    public abstract string JsonNumber(string column, string keyParameter);

    /// <summary>
    /// Case-sensitive LIKE (MLflow's LIKE). SQLite's LIKE ignores ASCII case, so there the match
    /// must also pass GLOB with the same pattern translated (<see cref="LikeToGlob"/>).
    /// </summary>
    public abstract string LikeCaseSensitive(string column, string likeParameter, string globParameter);

    /// <summary>A query of one column, <c>name</c>: the tables of Lineage's schema (the database's own catalog tables left out).</summary>
    public abstract string TablesQuery { get; }

    /// <summary>
    /// Takes the advisory lock <paramref name="lockId"/> until the end of <paramref name="transaction"/>: the one way
    /// Lineage serializes writers that touch no common row (the lineage graph's cycle check, the audit chain,
    /// migrations). A no-op on SQLite, whose single writer already holds the whole database.
    /// </summary>
    /// <param name="durableCommit">
    /// False lets this transaction commit without waiting for its log flush (PostgreSQL's transaction-local
    /// <c>synchronous_commit = off</c>, set in the same round trip). Only for writes that are safe to lose in a
    /// crash because they are redone (the audit outbox); SQLite commits are always durable.
    /// </param>
    public abstract Task TransactionLockAsync(DbConnection connection, DbTransaction? transaction, long lockId, bool durableCommit = true);

    /// <inheritdoc cref="TransactionLockAsync(DbConnection, DbTransaction?, long, bool)"/>
    public Task TransactionLockAsync(DbSession s, long lockId, bool durableCommit = true)
    {
        // A group commit that holds durable writes too must undo the setting before it commits (PostgresDatabase.GroupCommit.cs).
        if (!durableCommit) s.LazyCommitSet = true;
        return TransactionLockAsync(s.Connection, s.Transaction, lockId, durableCommit);
    }

    /// <summary>
    /// The one place a failure of an operation on this database becomes a Lineage error, by error code, never by
    /// message text: Lineage's own errors and cancellations pass through, driver errors are translated by
    /// <see cref="TranslateDriverError"/>, file-system errors by <see cref="FileSystemErrors"/>. Constraint races
    /// are avoided in SQL (ON CONFLICT … DO NOTHING and a check of rows affected), so what reaches here is mostly
    /// "the database cannot serve now". Anything unknown is returned unchanged (a 500: a bug).
    /// </summary>
    public Exception Translate(Exception ex) => ex switch
    {
        LineageException or RetryTransactionException or OperationCanceledException => ex,
        _ => TranslateDriverError(ex) ?? FileSystemErrors.Translate(ex),
    };

    /// <summary>The Lineage error for this database's driver exception, or null when it is none this dialect knows.</summary>
    private protected abstract LineageException? TranslateDriverError(Exception ex);

    /// <summary>The transaction lost a race and is safe to run again from the start (serialization failure, deadlock, …).</summary>
    public virtual bool IsRetryable(Exception ex) => ex is RetryTransactionException;

    /// <summary>A LIKE pattern as a GLOB pattern: % → *, _ → ?, GLOB's own metacharacters bracketed.</summary>
    public static string LikeToGlob(string like)
    {
        var sb = new System.Text.StringBuilder(like.Length + 4);
        foreach (var c in like)
            sb.Append(c switch
            {
                '%' => "*",
                '_' => "?",
                '*' => "[*]",
                '?' => "[?]",
                '[' => "[[]",
                _ => c.ToString(),
            });
        return sb.ToString();
    }

    public override string ToString() => Name;
}
