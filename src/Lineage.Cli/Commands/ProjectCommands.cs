using System.CommandLine;
using Lineage.Cli.Output;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Spectre.Console;

namespace Lineage.Cli.Commands;

public static class ProjectCommands
{
    public static Command Create()
    {
        var projects = new Command("projects", """
            Projects: the unit of ownership. Experiments, artifacts, models and deployments belong to one;
            roles are granted per project ('lineage roles grant'). A 'default' project always exists.
            MLflow clients work in one through the tracking URI: MLFLOW_TRACKING_URI=http://host:5000/projects/<name>

            Examples:
              lineage projects list
              lineage projects create team-a --description "growth team"
            """);
        projects.Subcommands.Add(List());
        projects.Subcommands.Add(CreateCommand());
        return projects;
    }

    private static Command List()
    {
        var command = new Command("list", """
            List the projects you can see (with authentication on: those where you hold a role).

            Examples:
              lineage projects list
              lineage projects list --json
            """);
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var all = await client.ListProjectsAsync(ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(new ProjectListResponse(all.ToList()), LineageJson.Default.ProjectListResponse);
                return 0;
            }
            var table = Terminal.Table("Name", "Description", "Created (UTC)", "Created by");
            foreach (var p in all)
                table.AddRow(Terminal.Esc(p.Name), Terminal.Esc(p.Description ?? ""), Terminal.Time(p.CreatedAt), Terminal.Esc(p.CreatedBy ?? ""));
            Terminal.Write(table);
            Terminal.Line($"{all.Count} project(s)");
            return 0;
        }));
        return command;
    }

    private static Command CreateCommand()
    {
        var name = new Argument<string>("name") { Description = "Project name (letters, digits, '.', '_', '-')" };
        var description = new Option<string?>("--description") { Description = "Free text" };
        var command = new Command("create", """
            Create a project (server admins, when authentication is on).

            Examples:
              lineage projects create team-a
              lineage projects create team-a --description "growth team"
            """) { name, description };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var p = await client.CreateProjectAsync(parse.GetValue(name)!, parse.GetValue(description), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(p, LineageJson.Default.ProjectDto);
            else Terminal.Line($"created project '{p.Name}'");
            return 0;
        }));
        return command;
    }
}
