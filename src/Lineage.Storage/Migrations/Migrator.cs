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
    public static async Task<IReadOnlyList<Migration>> ApplyAsync(DbSession s, bool upgrade)
    {
        await s.Connection.ExecuteAsync(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            transaction: s.Transaction);
        var applied = (await s.Connection.QueryAsync<long>("SELECT version FROM schema_migrations", transaction: s.Transaction)).ToHashSet();
        var known = For(s.Dialect);
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
            await s.Connection.ExecuteAsync(migration.Sql, transaction: s.Transaction);
            await s.Connection.ExecuteAsync(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @Now)",
                new { migration.Version, migration.Name, Now = Clock.NowMs() }, s.Transaction);
        }
        return pending;
    }

    [GeneratedRegex(@"^(\d{4})_([a-z0-9_]+)\.sql$")]
    private static partial Regex FileName();
}
