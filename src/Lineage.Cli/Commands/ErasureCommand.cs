using System.CommandLine;
using Lineage.Cli.Output;
using Lineage.Storage.Engine;
using Lineage.Storage.Governance;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary><c>lineage erase-user NAME</c> (issue 13): run directly on the database, like the other governance commands.</summary>
public static class ErasureCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The user name to erase, as runs and the audit log record it" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Count what would be redacted; change nothing" };
        var command = new Command("erase-user", """
            Erase one user's name (a right-to-erasure request): runs, experiments, artifacts, models, deployments,
            lineage and the audit log get a random pseudonym instead of NAME (and of unverified:NAME), the
            mlflow.user and lineage.user tags too; an account of that name is closed (renamed, password, tokens and
            roles removed). The audit chain stays verifiable: 'lineage audit verify' checks each redacted entry
            against the erasure's own audit entry, which names only the pseudonym. Cannot be undone.

            Examples:
              lineage erase-user ana --dry-run
              lineage erase-user ana --db ./lineage-data/lineage.db
            """) { name, dryRun, ServerCommand.DbOption };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            await using var db = await Database.OpenAsync(parse.GetValue(ServerCommand.DbOption)!, ct: ct);
            var report = await new UserErasure(db).EraseAsync(parse.GetValue(name)!, parse.GetValue(dryRun), $"cli:{Environment.UserName}", ct);
            if (report.Rows.Count > 0)
            {
                var table = Terminal.Table("Where", "Rows");
                foreach (var (where, rows) in report.Rows.OrderBy(r => r.Key, StringComparer.Ordinal)) table.AddRow(Terminal.Esc(where), rows.ToString("N0"));
                Terminal.Write(table);
            }
            var total = report.Rows.Values.Sum();
            Terminal.Line(report.DryRun
                ? $"erase-user would replace the name in {total:N0} row(s) and {report.AuditEntries:N0} audit entr{(report.AuditEntries == 1 ? "y" : "ies")}"
                : $"erase-user replaced the name with {report.Pseudonym} in {total:N0} row(s) and {report.AuditEntries:N0} audit " +
                  $"entr{(report.AuditEntries == 1 ? "y" : "ies")}; recorded as audit entry {report.ErasureSeq}");
            return 0;
        }));
        return command;
    }
}
