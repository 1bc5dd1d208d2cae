using System.CommandLine;
using System.Globalization;
using Lineage.Cli.Output;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Spectre.Console;

namespace Lineage.Cli.Commands;

public static class RunCommands
{
    public static Command Create()
    {
        var runs = new Command("runs", """
            Runs: one execution of training or evaluation code, with params, metrics and tags.

            Examples:
              lineage runs list --experiment 3
              lineage runs show 5f0c6f1e0c8d4f7a9b2e3d4c5b6a7980
            """);
        runs.Subcommands.Add(List());
        runs.Subcommands.Add(Show());
        runs.Subcommands.Add(Lifecycle("delete", "Soft-delete a run (restorable).\n\nExample:\n  lineage runs delete 5f0c6f1e0c8d4f7a9b2e3d4c5b6a7980",
            (c, id, ct) => c.DeleteRunAsync(id, ct)));
        runs.Subcommands.Add(Lifecycle("restore", "Restore a deleted run.\n\nExample:\n  lineage runs restore 5f0c6f1e0c8d4f7a9b2e3d4c5b6a7980",
            (c, id, ct) => c.RestoreRunAsync(id, ct)));
        return runs;
    }

    private static Command List()
    {
        var experiment = new Option<string[]>("--experiment") { Description = "Experiment id; repeat for several (default: all)" };
        var status = new Option<string?>("--status") { Description = "RUNNING, SCHEDULED, FINISHED, FAILED or KILLED" };
        var lifecycle = new Option<string>("--lifecycle") { Description = "active, deleted or all", DefaultValueFactory = _ => "active" };
        lifecycle.AcceptOnlyFromAmong("active", "deleted", "all");
        var limit = new Option<int>("--limit") { Description = "Runs per page (1-1000)", DefaultValueFactory = _ => 50 };
        var allPages = new Option<bool>("--all-pages") { Description = "Follow every page" };
        var command = new Command("list", """
            List runs, newest first.

            Examples:
              lineage runs list --experiment 3 --status FINISHED
              lineage runs list --experiment 3 --experiment 4 --limit 200 --json
            """) { experiment, status, lifecycle, limit, allPages };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var all = new List<RunDto>();
            string? token = null;
            do
            {
                var page = await client.ListRunsAsync(parse.GetValue(experiment) is { Length: > 0 } ids ? ids : null, parse.GetValue(status),
                    parse.GetValue(lifecycle), limit: parse.GetValue(limit), pageToken: token, ct: ct);
                all.AddRange(page.Runs);
                token = page.NextPageToken;
            } while (token is not null && parse.GetValue(allPages));

            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(new RunListResponse(all, token), LineageJson.Default.RunListResponse);
                return 0;
            }
            var table = Terminal.Table("Run ID", "Name", "Exp", "Status", "Started (UTC)", "Duration", "User", "Metrics");
            foreach (var r in all)
                table.AddRow(r.RunId, Terminal.Esc(r.Name), r.ExperimentId, r.Status, Terminal.Time(r.StartTime), Terminal.Duration(r.StartTime, r.EndTime),
                    Terminal.Esc(r.User), Terminal.Esc(string.Join(", ", r.Metrics.Take(4).Select(m => $"{m.Key}={Format(m.Value)}"))));
            Terminal.Write(table);
            Terminal.Line($"{all.Count} run(s)" + (token is null ? "" : "; more exist: use --all-pages or a larger --limit"));
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("run-id") { Description = "Run id (32 hex characters)" };
        var command = new Command("show", """
            Show one run: its status and times, then params, tags and the latest value of each metric.

            Example:
              lineage runs show 5f0c6f1e0c8d4f7a9b2e3d4c5b6a7980
            """) { id };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var r = await client.GetRunAsync(parse.GetValue(id)!, ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(r, LineageJson.Default.RunDto);
                return 0;
            }
            var info = Terminal.Table("Field", "Value");
            info.AddRow("run id", r.RunId);
            info.AddRow("name", Terminal.Esc(r.Name));
            info.AddRow("experiment", r.ExperimentId);
            info.AddRow("status", r.Status);
            info.AddRow("lifecycle", r.Lifecycle);
            info.AddRow("started (UTC)", Terminal.Time(r.StartTime));
            info.AddRow("ended (UTC)", Terminal.Time(r.EndTime));
            info.AddRow("duration", Terminal.Duration(r.StartTime, r.EndTime));
            info.AddRow("user", Terminal.Esc(r.User));
            info.AddRow("parent run", r.ParentRunId ?? "");
            Terminal.Write(info);
            Section("Params", r.Params.Select(p => new[] { p.Key, p.Value }), "Key", "Value");
            Section("Tags", r.Tags.Select(t => new[] { t.Key, t.Value }), "Key", "Value");
            Section("Metrics (latest)", r.Metrics.Select(m => new[] { m.Key, Format(m.Value), m.Step.ToString(CultureInfo.InvariantCulture), Terminal.Time(m.Timestamp) }),
                "Key", "Value", "Step", "Logged (UTC)");
            return 0;
        }));
        return command;
    }

    private static void Section(string title, IEnumerable<string[]> rows, params string[] columns)
    {
        var list = rows.ToList();
        Terminal.Line();
        Terminal.Line($"{title} ({list.Count})");
        if (list.Count == 0) return;
        var table = Terminal.Table(columns);
        foreach (var row in list) table.AddRow(row.Select(Terminal.Esc).ToArray());
        Terminal.Write(table);
    }

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static Command Lifecycle(string verb, string help, Func<Client.LineageClient, string, CancellationToken, Task<RunDto>> call)
    {
        var id = new Argument<string>("run-id") { Description = "Run id" };
        var command = new Command(verb, help) { id };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var r = await call(client, parse.GetValue(id)!, ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(r, LineageJson.Default.RunDto);
            else Terminal.Line($"run {r.RunId} is {r.Lifecycle}");
            return 0;
        }));
        return command;
    }
}
