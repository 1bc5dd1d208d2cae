using System.Security.Cryptography;
using Lineage.Cli;
using Lineage.Core.Errors;
using Lineage.Server;
using Lineage.Storage.Migrations;
using Lineage.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Lineage.Tests.Operations;

/// <summary>
/// A store written by the previous release (schema 14, <c>Fixtures/store-schema-14</c>, see its README) opened by this
/// build: refused without <c>--migrate</c>, planned by <c>db upgrade --dry-run</c> without a change, upgraded by a server
/// started with <c>--migrate</c>, which then serves the old data and takes new writes (issue 17, section 4).
/// </summary>
public sealed class UpgradeTests : IDisposable
{
    private const long FixtureVersion = 14;
    private readonly TempDir _dir = new();

    private static string FixtureFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Lineage.Tests", "Fixtures", "store-schema-14");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/Lineage.Tests/Fixtures/store-schema-14 not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A private copy of the fixture store (database and artifact folder), so the committed one is never changed.</summary>
    private (string Database, string Artifacts) CopyFixture()
    {
        var source = FixtureFolder();
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_dir.Path, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return (_dir.File("lineage.db"), _dir.File("artifacts"));
    }

    private static Task<(int Code, string Out, string Err)> Cli(params string[] args) => InProcessCli.RunAsync(args);

    private static long SchemaVersion(string database)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT MAX(version) FROM schema_migrations";
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public void the_fixture_is_older_than_this_build()
    {
        var (database, _) = CopyFixture();
        Assert.Equal(FixtureVersion, SchemaVersion(database));
        var newer = Migrator.For(Lineage.Storage.Engine.SqlDialect.Sqlite).Where(m => m.Version > FixtureVersion).ToList();
        // Written before migration 0015; when a newer migration lands, regenerate it from the release before that one (README).
        Assert.NotEmpty(newer);
    }

    [Fact]
    public async Task db_upgrade_dry_run_prints_the_plan_and_changes_nothing()
    {
        var (database, _) = CopyFixture();
        var before = SHA256.HashData(await File.ReadAllBytesAsync(database));
        var plan = await Cli("db", "upgrade", "--dry-run", "--db", database);
        Assert.True(plan.Code == 0, plan.Err);
        var latest = Migrator.LatestVersion(Lineage.Storage.Engine.SqlDialect.Sqlite);
        Assert.Contains($"schema version {FixtureVersion} -> {latest}", plan.Out);
        foreach (var m in Migrator.For(Lineage.Storage.Engine.SqlDialect.Sqlite).Where(m => m.Version > FixtureVersion))
            Assert.Contains($"{m.Version:D4}_{m.Name}", plan.Out);
        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(database)));
        Assert.Equal(FixtureVersion, SchemaVersion(database));

        // After the real upgrade the plan is empty.
        Assert.Equal(0, (await Cli("db", "upgrade", "--db", database)).Code);
        var after = await Cli("db", "upgrade", "--dry-run", "--db", database);
        Assert.Contains("nothing to do", after.Out);
    }

    [Fact]
    public async Task a_store_of_the_previous_release_is_refused_without_migrate_and_upgraded_online_with_it()
    {
        var (database, artifacts) = CopyFixture();
        var refused = await Assert.ThrowsAsync<LineageException>(() =>
            LineageServer.StartAsync(new ServerOptions { Database = database, ArtifactRoot = artifacts, Port = 0 }));
        Assert.Contains("lineage db upgrade", refused.Message);
        Assert.Equal(FixtureVersion, SchemaVersion(database));

        await using (var server = await LineageServer.StartAsync(new ServerOptions { Database = database, ArtifactRoot = artifacts, Port = 0, Migrate = true }))
        {
            using var client = new Lineage.Client.LineageClient(server.Address);
            // What the previous release wrote (README: the fixture's script) reads back unchanged.
            var experiment = await client.GetExperimentByNameAsync("fixture-churn");
            var runs = await client.ListRunsAsync([experiment.Id]);
            var run = Assert.Single(runs.Runs);
            Assert.Equal("0.01", run.Params["lr"]);
            var history = await client.GetFullMetricHistoryAsync(run.RunId, "loss");
            Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), history.Select(p => p.Step));
            Assert.Equal(0.5, history[1].Value); // 1 / (step + 1)
            var copy = _dir.File("pulled.csv");
            await client.DownloadAsync("fixture-sales", copy);
            Assert.Equal("region,amount\nnorth,10\nsouth,20\n", await File.ReadAllTextAsync(copy));

            // And the upgraded store takes writes.
            var next = await client.CreateRunAsync(new Core.Contracts.V1.CreateRunRequest(experiment.Id, "after-upgrade"));
            await client.LogMetricAsync(next.RunId, "loss", 0.5, 1);
        }
        Assert.Equal(Migrator.LatestVersion(Lineage.Storage.Engine.SqlDialect.Sqlite), SchemaVersion(database));
        var verify = await Cli("verify", "--db", database, "--artifacts", artifacts);
        Assert.True(verify.Code == 0, verify.Err + verify.Out);
        var audit = await Cli("audit", "verify", "--db", database);
        Assert.True(audit.Code == 0, audit.Err + audit.Out);
    }

    public void Dispose() => _dir.Dispose();
}
