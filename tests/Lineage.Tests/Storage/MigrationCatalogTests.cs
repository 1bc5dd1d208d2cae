using System.Text.RegularExpressions;
using Lineage.Storage.Engine;
using Lineage.Storage.Migrations;

namespace Lineage.Tests.Storage;

/// <summary>
/// The migration lists themselves, read from the built assembly and the source tree (no database needed): the two
/// dialects in lockstep, numbers that only grow, and every file embedded.
/// </summary>
public sealed partial class MigrationCatalogTests
{
    /// <summary>
    /// Withdrawn numbers: never released and never to be used. 0011 and 0012 were skipped when 0013 was added (no
    /// commit holds a migration with either number). The gap stays because stores record the versions they applied in
    /// <c>schema_migrations</c>: renumbering 0013–0015 would make upgraded stores apply them a second time, and a new
    /// migration numbered 11 would be applied to a store at 15 after the later ones it may depend on.
    /// </summary>
    private static readonly long[] Withdrawn = [11, 12];

    private static readonly SqlDialect[] Dialects = [SqlDialect.Sqlite, SqlDialect.Postgres];

    [Fact]
    public void both_dialects_have_the_same_migrations_by_number_and_name()
    {
        var sqlite = Migrator.For(SqlDialect.Sqlite).Select(m => $"{m.Version:D4}_{m.Name}").ToList();
        var postgres = Migrator.For(SqlDialect.Postgres).Select(m => $"{m.Version:D4}_{m.Name}").ToList();
        Assert.NotEmpty(sqlite);
        Assert.Equal(sqlite, postgres);
    }

    [Fact]
    public void migration_numbers_start_at_1_strictly_increase_and_skip_only_the_withdrawn_ones()
    {
        foreach (var dialect in Dialects)
        {
            var versions = Migrator.For(dialect).Select(m => m.Version).ToList();
            Assert.Equal(1, versions[0]);
            for (var i = 1; i < versions.Count; i++)
                Assert.True(versions[i] > versions[i - 1], $"{dialect}: migration {versions[i]} follows {versions[i - 1]}: two files share a number");
            var missing = Enumerable.Range(1, (int)versions[^1]).Select(v => (long)v).Except(versions).ToList();
            Assert.True(missing.SequenceEqual(Withdrawn),
                $"{dialect}: numbers missing between 1 and {versions[^1]} are [{string.Join(", ", missing)}]; only the withdrawn " +
                $"[{string.Join(", ", Withdrawn)}] may be (a new migration takes the next number after the latest)");
            Assert.DoesNotContain(versions, v => Withdrawn.Contains(v));
            Assert.True(versions.Contains(21), $"{dialect}: migration 0021_openlineage_events is missing");
        }
    }

    [Fact]
    public void every_migration_file_of_the_source_tree_is_embedded_and_nothing_else()
    {
        foreach (var dialect in Dialects)
        {
            var folder = Path.Combine(RepositoryRoot(), "src", "Lineage.Storage", "Migrations", dialect.Name);
            var files = Directory.GetFiles(folder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList();
            Assert.All(files, f => Assert.Matches(FileName(), f));
            var embedded = Migrator.For(dialect).Select(m => $"{m.Version:D4}_{m.Name}.sql").Order(StringComparer.Ordinal).ToList();
            Assert.Equal(files, embedded);
            Assert.All(Migrator.For(dialect), m => Assert.False(string.IsNullOrWhiteSpace(m.Sql), $"{dialect} migration {m.Version} is empty"));
        }
    }

    [Fact]
    public void migration_0020_is_the_alert_rules_in_both_dialects()
    {
        // Issue 14, part 5 took number 0020; a rename or renumbering would make upgraded stores apply it twice.
        foreach (var dialect in Dialects)
            Assert.Contains(Migrator.For(dialect), m => m.Version == 20 && m.Name == "alerts");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Lineage.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("repository root (Lineage.slnx) not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^\d{4}_[a-z0-9_]+\.sql$")]
    private static partial Regex FileName();
}
