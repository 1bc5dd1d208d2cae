using Lineage.Core.Errors;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Lineage.Storage.Engine;

/// <summary>
/// The one place where driver errors become Lineage errors, by error code, never by
/// message text. Constraint races are avoided in SQL (ON CONFLICT … DO NOTHING and a check
/// of rows affected), so what reaches here is mostly "the database cannot serve now".
/// </summary>
public static class ErrorTranslator
{
    /// <summary>SQLite primary result codes (the low byte of the extended code).</summary>
    private const int SqliteBusy = 5, SqliteLocked = 6, SqliteFull = 13, SqliteCantOpen = 14, SqliteReadOnly = 8, SqliteIoError = 10;

    /// <summary>errno values of a full disk (ENOSPC, EDQUOT) and a read-only one (EROFS): .NET carries them as the IOException's HResult on Linux.</summary>
    private const int NoSpace = 28, QuotaExceeded = 122, ReadOnlyFileSystem = 30;

    public static Exception Translate(Exception ex) => ex switch
    {
        LineageException or RetryTransactionException or OperationCanceledException => ex,
        SqliteException sqlite => (sqlite.SqliteErrorCode & 0xFF) switch
        {
            SqliteBusy or SqliteLocked => new LineageException(ErrorCode.Unavailable,
                "the database is busy (another process holds the write lock); retry", inner: ex),
            SqliteFull => new LineageException(ErrorCode.InsufficientStorage, "the database disk is full: nothing was written; free space and retry", inner: ex),
            SqliteCantOpen or SqliteReadOnly or SqliteIoError => new LineageException(ErrorCode.Unavailable,
                $"the database cannot be written (read-only or failing disk?): {sqlite.Message}; nothing was written", inner: ex),
            _ => ex,
        },
        IOException io when io.HResult is NoSpace or QuotaExceeded => new LineageException(ErrorCode.InsufficientStorage,
            "the artifact disk is full: nothing was stored; free space and retry", inner: ex),
        IOException io when io.HResult is ReadOnlyFileSystem => new LineageException(ErrorCode.Unavailable,
            "the artifact disk is read-only: nothing was stored; retry when it is writable", inner: ex),
        PostgresException pg when IsRetryable(pg) => ex,
        // PostgreSQL text cannot hold NUL (SQLite's can): a value that reached SQL with one is the client's mistake.
        PostgresException { SqlState: "22021" or "22P05" } => new LineageException(ErrorCode.InvalidParameterValue,
            "text values may not contain NUL (\\u0000) characters", "body", ex),
        PostgresException { SqlState: "53300" } => new LineageException(ErrorCode.Unavailable,
            "the database has too many connections; retry", inner: ex),
        NpgsqlException { IsTransient: true } => new LineageException(ErrorCode.Unavailable,
            "the database is unreachable; retry", inner: ex),
        _ => ex,
    };

    /// <summary>Serialization failures and deadlocks: the transaction is safe to run again.</summary>
    public static bool IsRetryable(Exception ex) =>
        ex is RetryTransactionException
        || ex is PostgresException { SqlState: "40001" or "40P01" };
}
