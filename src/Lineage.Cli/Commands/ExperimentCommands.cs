using System.CommandLine;
using Lineage.Cli.Output;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Spectre.Console;
using Lineage.Core.Errors;

namespace Lineage.Cli.Commands;

public static class ExperimentCommands
{
    public static Command Create()
    {
        var experiments = new Command("experiments", """
            Experiments: named groups of runs within a project.

            Examples:
              lineage experiments list
              lineage experiments create churn --tag team=growth
              lineage experiments delete 3
            """);
        experiments.Subcommands.Add(List());
        experiments.Subcommands.Add(CreateCommand());
        experiments.Subcommands.Add(Lifecycle("delete", "Soft-delete an experiment and its runs (restorable).\n\nExample:\n  lineage experiments delete 3",
            (c, id, ct) => c.DeleteExperimentAsync(id, ct)));
        experiments.Subcommands.Add(Lifecycle("restore", "Restore a deleted experiment with the runs its deletion took.\n\nExample:\n  lineage experiments restore 3",
            (c, id, ct) => c.RestoreExperimentAsync(id, ct)));
        return experiments;
    }

    private static Command List()
    {
        var project = new Option<string?>("--project") { Description = "Only this project" };
        var lifecycle = new Option<string>("--lifecycle") { Description = "active, deleted or all", DefaultValueFactory = _ => "active" };
        lifecycle.AcceptOnlyFromAmong("active", "deleted", "all");
        var nameContains = new Option<string?>("--name-contains") { Description = "Case-insensitive name filter" };
        var limit = new Option<int>("--limit") { Description = "Experiments per page (1-1000)", DefaultValueFactory = _ => 100 };
        var allPages = new Option<bool>("--all-pages") { Description = "Follow every page" };
        var command = new Command("list", """
            List experiments.

            Examples:
              lineage experiments list
              lineage experiments list --lifecycle deleted --name-contains churn
              lineage experiments list --json --all-pages
            """) { project, lifecycle, nameContains, limit, allPages };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var all = new List<ExperimentDto>();
            string? token = null;
            do
            {
                var page = await client.ListExperimentsAsync(parse.GetValue(project), parse.GetValue(lifecycle), parse.GetValue(nameContains),
                    parse.GetValue(limit), token, ct);
                all.AddRange(page.Experiments);
                token = page.NextPageToken;
            } while (token is not null && parse.GetValue(allPages));

            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(new ExperimentListResponse(all, token), LineageJson.Default.ExperimentListResponse);
                return 0;
            }
            var table = Terminal.Table("ID", "Name", "Project", "Lifecycle", "Created (UTC)", "Tags");
            foreach (var e in all)
                table.AddRow(e.Id, Terminal.Esc(e.Name), Terminal.Esc(e.Project), e.Lifecycle, Terminal.Time(e.CreatedAt),
                    Terminal.Esc(string.Join(", ", e.Tags.Select(t => $"{t.Key}={t.Value}"))));
            Terminal.Write(table);
            Terminal.Line($"{all.Count} experiment(s)" + (token is null ? "" : "; more exist: use --all-pages or a larger --limit"));
            return 0;
        }));
        return command;
    }

    private static Command CreateCommand()
    {
        var name = new Argument<string>("name") { Description = "Experiment name (unique in its project)" };
        var project = new Option<string?>("--project") { Description = "Project (default: default)" };
        var description = new Option<string?>("--description") { Description = "Free text" };
        var tags = new Option<string[]>("--tag") { Description = "A tag as key=value; repeat for more", AllowMultipleArgumentsPerToken = false };
        var command = new Command("create", """
            Create an experiment.

            Examples:
              lineage experiments create churn
              lineage experiments create churn --project growth --description "weekly churn model" --tag team=growth --tag tier=1
            """) { name, project, description, tags };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var tagMap = new Dictionary<string, string>();
            foreach (var t in parse.GetValue(tags) ?? [])
            {
                var cut = t.IndexOf('=');
                if (cut <= 0) throw LineageException.Invalid("--tag", $"'{t}' is not key=value");
                tagMap[t[..cut]] = t[(cut + 1)..];
            }
            using var client = CliApp.Client(parse);
            var e = await client.CreateExperimentAsync(parse.GetValue(name)!, parse.GetValue(project), parse.GetValue(description), tagMap, ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(e, LineageJson.Default.ExperimentDto);
            else Terminal.Line($"created experiment {e.Id} '{e.Name}' in project '{e.Project}'");
            return 0;
        }));
        return command;
    }

    private static Command Lifecycle(string verb, string help, Func<Client.LineageClient, string, CancellationToken, Task<ExperimentDto>> call)
    {
        var id = new Argument<string>("id") { Description = "Experiment id" };
        var command = new Command(verb, help) { id };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var e = await call(client, parse.GetValue(id)!, ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(e, LineageJson.Default.ExperimentDto);
            else Terminal.Line($"experiment {e.Id} '{e.Name}' is {e.Lifecycle}");
            return 0;
        }));
        return command;
    }
}
