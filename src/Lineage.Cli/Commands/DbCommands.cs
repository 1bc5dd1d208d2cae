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

        var upgrade = new Command("upgrade", "Apply pending schema migrations. Back the database up first.\n\nExample:\n  lineage db upgrade --db ./lineage-data/lineage.db")
        {
            ServerCommand.DbOption,
        };
        upgrade.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            await using var database = await Database.OpenAsync(parse.GetValue(ServerCommand.DbOption)!, upgrade: true, ct);
            var applied = await database.SchemaVersionsAsync(ct);
            Terminal.Line($"{database.Description} is at schema version {applied.LastOrDefault()}");
            return 0;
        }));

        db.Subcommands.Add(status);
        db.Subcommands.Add(upgrade);
        return db;
    }
}
