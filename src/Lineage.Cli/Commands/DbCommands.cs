using System.CommandLine;
using Lineage.Cli.Output;
using Lineage.Storage.Engine;
using Lineage.Storage.Migrations;

namespace Lineage.Cli.Commands;

public static class DbCommands
{
    public static Command Create()
    {
        var db = new Command("db", """
            Database schema: show its version, upgrade it.

            Examples:
              lineage db status --db ./lineage-data/lineage.db
              lineage db upgrade --db postgres://lineage@db/lineage
            """);

        var status = new Command("status", "Show the schema versions applied and the latest this build knows.\n\nExample:\n  lineage db status --db ./lineage-data/lineage.db")
        {
            ServerCommand.DbOption,
        };
        status.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            await using var database = await Database.OpenAsync(parse.GetValue(ServerCommand.DbOption)!, upgrade: false, ct);
            var applied = await database.SchemaVersionsAsync(ct);
            Terminal.Line($"store: {database.Description}");
            Terminal.Line($"schema version: {applied.LastOrDefault()} (applied: {string.Join(", ", applied)}); this build knows up to {Migrator.LatestVersion(database.Dialect)}");
            return 0;
        }));

        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (each pending migration and its statements) and change nothing" };
        var upgrade = new Command("upgrade", """
            Apply pending schema migrations. Back the store up first ('lineage backup').

            Examples:
              lineage db upgrade --db ./lineage-data/lineage.db --dry-run
              lineage db upgrade --db ./lineage-data/lineage.db
            """)
        {
            ServerCommand.DbOption, dryRun,
        };
        upgrade.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            if (parse.GetValue(dryRun)) return await PrintPlanAsync(parse.GetValue(ServerCommand.DbOption)!, ct);
            await using var database = await Database.OpenAsync(parse.GetValue(ServerCommand.DbOption)!, upgrade: true, ct);
            var applied = await database.SchemaVersionsAsync(ct);
            Terminal.Line($"{database.Description} is at schema version {applied.LastOrDefault()}");
            return 0;
        }));

        db.Subcommands.Add(status);
        db.Subcommands.Add(upgrade);
        return db;
    }

    /// <summary>The dry run: reads the applied versions on a plain connection (opening the store would refuse an older schema) and lists what upgrade would run.</summary>
    private static async Task<int> PrintPlanAsync(string target, CancellationToken ct)
    {
        var dialect = Database.IsPostgres(target) ? SqlDialect.Postgres : SqlDialect.Sqlite;
        if (dialect == SqlDialect.Sqlite && !File.Exists(target))
        {
            Terminal.Line($"no database at {target}: the first start creates it at schema version {Migrator.LatestVersion(dialect)}");
            return 0;
        }
        await using var connection = StoreConnections.Create(target);
        await connection.OpenAsync(ct);
        var plan = await Migrator.PlanAsync(connection, dialect);
        var current = plan.Applied.Count == 0 ? 0 : plan.Applied.Max();
        if (plan.TooNew)
        {
            Terminal.Error($"error: the database is at schema version {current}, newer than this build ({plan.Latest}); upgrade Lineage instead");
            return 1;
        }
        if (plan.NewDatabase)
        {
            Terminal.Line($"empty database: the first start creates schema version {plan.Latest} ({plan.Pending.Count} migrations)");
            return 0;
        }
        if (plan.Pending.Count == 0)
        {
            Terminal.Line($"schema version {current} is current: nothing to do");
            return 0;
        }
        Terminal.Line($"plan: schema version {current} -> {plan.Latest}, {plan.Pending.Count} migration(s), in one transaction (nothing is changed by --dry-run):");
        foreach (var migration in plan.Pending)
        {
            Terminal.Line($"  {migration.Version:D4}_{migration.Name}");
            foreach (var head in Migrator.StatementHeads(migration)) Terminal.Line($"      {head}");
            if (!Migrator.StatementHeads(migration).Any()) Terminal.Line("      (no statement for this database: only the version is recorded)");
        }
        Terminal.Line("back the store up first ('lineage backup --to FILE'), then run without --dry-run (or start the server with --migrate)");
        return 0;
    }
}
