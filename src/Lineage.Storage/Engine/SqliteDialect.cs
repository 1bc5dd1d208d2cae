using System.Data.Common;
using Lineage.Core.Errors;
using Microsoft.Data.Sqlite;

namespace Lineage.Storage.Engine;

/// <summary>SQLite's spelling of the dialect differences (see <see cref="SqlDialect"/>); reached as <see cref="SqlDialect.Sqlite"/>.</summary>
public sealed class SqliteDialect : SqlDialect
{
    /// <summary>SQLite primary result codes (the low byte of the extended code).</summary>
    private const int Busy = 5, Locked = 6, ReadOnly = 8, IoError = 10, Full = 13, CantOpen = 14;

    internal SqliteDialect() { }

    public override string Name => "sqlite";

    public override string ForUpdate => "";

    public override string LikeInsensitive => "LIKE";

    public override string InList(string column, string parameter) => $"{column} IN @{parameter}";

    public override string InSet(string column, string parameter) => $"{column} IN (SELECT value FROM json_each(@{parameter}))";

    public override object Set<T>(IEnumerable<T> values) => System.Text.Json.JsonSerializer.Serialize(values);

    public override string JsonField(string column, string keyParameter) =>
        $"(CASE json_type({column}, '$.\"' || @{keyParameter} || '\"') WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' " +
        $"ELSE CAST(json_extract({column}, '$.\"' || @{keyParameter} || '\"') AS TEXT) END)";

    public override string JsonNumber(string column, string keyParameter) =>
        $"(CASE WHEN json_type({column}, '$.\"' || @{keyParameter} || '\"') IN ('integer', 'real') THEN json_extract({column}, '$.\"' || @{keyParameter} || '\"') END)";

    public override string LikeCaseSensitive(string column, string likeParameter, string globParameter) =>
        $"({column} LIKE @{likeParameter} AND {column} GLOB @{globParameter})";

    public override string TablesQuery => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";

    /// <summary>Nothing to take: every write transaction runs on the one writer connection, which holds the file's write lock.</summary>
    public override Task TransactionLockAsync(DbConnection connection, DbTransaction? transaction, long lockId, bool durableCommit = true) =>
        Task.CompletedTask;

    private protected override LineageException? TranslateDriverError(Exception ex) => ex is not SqliteException sqlite ? null
        : (sqlite.SqliteErrorCode & 0xFF) switch
        {
            Busy or Locked => new LineageException(ErrorCode.Unavailable,
                "the database is busy (another process holds the write lock); retry", inner: ex),
            Full => new LineageException(ErrorCode.InsufficientStorage, "the database disk is full: nothing was written; free space and retry", inner: ex),
            CantOpen or ReadOnly or IoError => new LineageException(ErrorCode.Unavailable,
                $"the database cannot be written (read-only or failing disk?): {sqlite.Message}; nothing was written", inner: ex),
            _ => null,
        };
}
