using System.Data.Common;
using System.Text.RegularExpressions;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Migrations;

/// <summary>
/// Numbered migrations per dialect (embedded <c>migrations/{dialect}/NNNN_name.sql</c>),
/// kept in lockstep so version N means the same schema on both databases. A new database
/// is created; an older one is upgraded only when asked; a newer one is refused, so an old
/// binary never writes to a schema it does not understand.
/// </summary>
public static partial class Migrator
{
    public sealed record Migration(long Version, string Name, string Sql);

    public static IReadOnlyList<Migration> For(SqlDialect dialect)
    {
        var assembly = typeof(Migrator).Assembly;
        var prefix = $"migrations/{dialect.Name}/";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Select(n =>
            {
                var match = FileName().Match(n[prefix.Length..]);
                if (!match.Success) throw new InvalidOperationException($"migration resource '{n}' is not named NNNN_name.sql");
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return new Migration(long.Parse(match.Groups[1].Value), match.Groups[2].Value, reader.ReadToEnd());
            })
            .OrderBy(m => m.Version)
            .ToList();
    }

    /// <summary>Latest schema version this build knows.</summary>
    public static long LatestVersion(SqlDialect dialect) => For(dialect)[^1].Version;

    /// <summary>
    /// Brings the schema up to date inside the caller's transaction (which must already hold
    /// the database's migration lock). Returns the migrations applied.
    /// </summary>
    public static Task<IReadOnlyList<Migration>> ApplyAsync(DbSession s, bool upgrade) =>
        ApplyAsync(s.Connection, s.Transaction, s.Dialect, upgrade);

    /// <summary>
    /// As <see cref="ApplyAsync(DbSession, bool)"/> on a bare connection; <paramref name="upTo"/> stops at that
    /// version (a restore recreates the schema its backup was taken at before loading the rows).
    /// </summary>
    public static async Task<IReadOnlyList<Migration>> ApplyAsync(DbConnection connection, DbTransaction? transaction, SqlDialect dialect, bool upgrade,
        long? upTo = null)
    {
        await connection.ExecuteAsync(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            transaction: transaction);
        var applied = (await connection.QueryAsync<long>("SELECT version FROM schema_migrations", transaction: transaction)).ToHashSet();
        var known = For(dialect).Where(m => upTo is null || m.Version <= upTo).ToList();
        var latest = known[^1].Version;
        if (applied.Count > 0 && applied.Max() > latest)
            throw new LineageException(ErrorCode.Unavailable,
                $"the database schema is at version {applied.Max()} but this Lineage build knows only up to {latest}; upgrade Lineage before using this database");

        var pending = known.Where(m => !applied.Contains(m.Version)).ToList();
        if (pending.Count > 0 && applied.Count > 0 && !upgrade)
            throw new LineageException(ErrorCode.Unavailable,
                $"the database schema is at version {applied.Max()} and this build needs {latest}; back the database up, then run 'lineage db upgrade --db <target>' or start the server with --migrate");

        foreach (var migration in pending)
        {
            await connection.ExecuteAsync(migration.Sql, transaction: transaction);
            await connection.ExecuteAsync(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @Now)",
                new { migration.Version, migration.Name, Now = Clock.NowMs() }, transaction);
        }
        return pending;
    }

    /// <summary>What <c>lineage db upgrade</c> would do, read without changing anything.</summary>
    public sealed record Plan(IReadOnlyList<long> Applied, IReadOnlyList<Migration> Pending, long Latest)
    {
        /// <summary>No schema yet: the first start creates it.</summary>
        public bool NewDatabase => Applied.Count == 0;

        /// <summary>Newer than this build: refused.</summary>
        public bool TooNew => Applied.Count > 0 && Applied.Max() > Latest;
    }

    /// <summary>Reads the applied versions (none when <c>schema_migrations</c> does not exist) and lists what is pending. Writes nothing.</summary>
    public static async Task<Plan> PlanAsync(DbConnection connection, SqlDialect dialect)
    {
        var exists = await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM ({dialect.TablesQuery}) t WHERE t.name = 'schema_migrations'");
        var applied = exists == 0 ? [] : (await connection.QueryAsync<long>("SELECT version FROM schema_migrations ORDER BY version")).ToList();
        var known = For(dialect);
        return new Plan(applied, known.Where(m => !applied.Contains(m.Version)).ToList(), known[^1].Version);
    }

    /// <summary>The first line of each statement of a migration (comments dropped): what a dry run shows.</summary>
    public static IEnumerable<string> StatementHeads(Migration migration) =>
        string.Join('\n', migration.Sql.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)))
            .Split(';')
            .Select(statement => statement.Trim())
            .Where(statement => statement.Length > 0)
            .Select(statement => statement.Split('\n')[0].Trim().TrimEnd('(').Trim());

    [GeneratedRegex(@"^(\d{4})_([a-z0-9_]+)\.sql$")]
    private static partial Regex FileName();
}
