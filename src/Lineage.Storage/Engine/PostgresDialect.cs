using System.Data.Common;
using Dapper;
using Lineage.Core.Errors;
using Npgsql;

namespace Lineage.Storage.Engine;

/// <summary>PostgreSQL's spelling of the dialect differences (see <see cref="SqlDialect"/>); reached as <see cref="SqlDialect.Postgres"/>.</summary>
public sealed class PostgresDialect : SqlDialect
{
    internal PostgresDialect() { }

    public override string Name => "postgres";

    public override string ForUpdate => " FOR UPDATE";

    public override string LikeInsensitive => "ILIKE";

    public override string InList(string column, string parameter) => $"{column} = ANY(@{parameter})";

    public override string InSet(string column, string parameter) => $"{column} = ANY(@{parameter})";

    public override object Set<T>(IEnumerable<T> values) => values.ToArray();

    public override string JsonField(string column, string keyParameter) => $"({column}::jsonb ->> @{keyParameter})";

    public override string JsonNumber(string column, string keyParameter) =>
        $"(CASE WHEN jsonb_typeof({column}::jsonb -> @{keyParameter}) = 'number' THEN ({column}::jsonb ->> @{keyParameter})::double precision END)";

    public override string LikeCaseSensitive(string column, string likeParameter, string globParameter) => $"{column} LIKE @{likeParameter}";

    public override string TablesQuery =>
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'";

    public override Task TransactionLockAsync(DbConnection connection, DbTransaction? transaction, long lockId, bool durableCommit = true) =>
        connection.ExecuteAsync(durableCommit
            ? "SELECT pg_advisory_xact_lock(@lockId)"
            : "SELECT pg_advisory_xact_lock(@lockId), set_config('synchronous_commit', 'off', true)", new { lockId }, transaction);

    /// <summary>Serialization failures (40001) and deadlocks (40P01) besides Lineage's own retry signal.</summary>
    public override bool IsRetryable(Exception ex) => base.IsRetryable(ex) || ex is PostgresException { SqlState: "40001" or "40P01" };

    private protected override LineageException? TranslateDriverError(Exception ex) => ex switch
    {
        PostgresException pg when IsRetryable(pg) => null, // rerun by the database's retry loop; out of attempts, it is a 500
        // PostgreSQL text cannot hold NUL (SQLite's can): a value that reached SQL with one is the client's mistake.
        PostgresException { SqlState: "22021" or "22P05" } => new LineageException(ErrorCode.InvalidParameterValue,
            "text values may not contain NUL (\\u0000) characters", "body", ex),
        PostgresException { SqlState: "53300" } => new LineageException(ErrorCode.Unavailable,
            "the database has too many connections; retry", inner: ex),
        NpgsqlException { IsTransient: true } => new LineageException(ErrorCode.Unavailable,
            "the database is unreachable; retry", inner: ex),
        _ => null,
    };
}
