using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lineage.Cli.Output;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary><c>lineage deployments …</c>: what is deployed where, status, rollback, history, success rates.</summary>
public static class DeploymentCommands
{
    private static readonly Option<string?> Project = new("--project") { Description = "Project (default: default)", Recursive = true };

    public static Command Create()
    {
        var deployments = new Command("deployments", """
            Deployments of model versions to environments, with status history and rollback.

            Examples:
              lineage deployments create production churn:4 --endpoint https://churn.example.com --config '{"replicas":2}'
              lineage deployments status 7 healthy
              lineage deployments rollback 7 --reason "p99 latency"
              lineage deployments list                  what is deployed where right now
              lineage deployments history production
              lineage deployments stats
            """) { Project, ModelCommands.As };
        deployments.Subcommands.Add(Deploy());
        deployments.Subcommands.Add(List());
        deployments.Subcommands.Add(Status());
        deployments.Subcommands.Add(Rollback());
        deployments.Subcommands.Add(History());
        deployments.Subcommands.Add(Stats());
        return deployments;
    }

    private static Command Deploy()
    {
        var environment = new Argument<string>("environment") { Description = "Environment (production, staging, eu-serving, …)" };
        var model = new Argument<string>("model") { Description = "<model>:<version>" };
        var endpoint = new Option<string?>("--endpoint") { Description = "Endpoint URL" };
        var config = new Option<string?>("--config") { Description = "JSON object of deployment settings" };
        var command = new Command("create", """
            Deploy a READY model version; the live deployment of the same model in that environment is retired.

            Example:
              lineage deployments create production churn:4 --endpoint https://churn.example.com --config '{"replicas":2}'
            """) { environment, model, endpoint, config };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = ModelCommands.Client(parse);
            var (name, versionText) = ModelCommands.Split(parse.GetValue(model)!);
            var version = long.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : (await client.GetModelVersionAsync(name, versionText, parse.GetValue(Project), ct)).Version;
            object? settings = parse.GetValue(config) is { } json ? JsonDocument.Parse(json).RootElement.Clone() : null;
            var d = await client.DeployAsync(parse.GetValue(environment)!, name, version, parse.GetValue(endpoint), settings, parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(d, LineageJson.Default.DeploymentDto);
            else Terminal.Line($"deployment {d.Id}: {d.Model} v{d.Version} to {d.Environment} ({d.Status})");
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var all = new Option<bool>("--all") { Description = "Every deployment, not only the live ones" };
        var environment = new Option<string?>("--environment") { Description = "Only this environment" };
        var model = new Option<string?>("--model") { Description = "Only this model" };
        var command = new Command("list", """
            What is deployed where right now (live deployments), or every deployment with --all.

            Examples:
              lineage deployments list
              lineage deployments list --all --model churn
            """) { all, environment, model };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = ModelCommands.Client(parse);
            var page = await client.ListDeploymentsAsync(parse.GetValue(environment), parse.GetValue(model), !parse.GetValue(all), parse.GetValue(Project),
                ct: ct);
            Print(parse, page);
            return 0;
        }));
        return command;
    }

    private static Command Status()
    {
        var id = new Argument<string>("deployment") { Description = "Deployment id" };
        var status = new Argument<string>("status") { Description = "pending, healthy, degraded, failed or retired" };
        var reason = new Option<string?>("--reason") { Description = "Why" };
        var command = new Command("status", """
            Record a status change (pending → healthy / degraded / failed → retired), with time and actor.

            Example:
              lineage deployments status 7 degraded --reason "p99 above 300 ms"
            """) { id, status, reason };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = ModelCommands.Client(parse);
            var d = await client.SetDeploymentStatusAsync(parse.GetValue(id)!, parse.GetValue(status)!, parse.GetValue(reason), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(d, LineageJson.Default.DeploymentDto);
            else Terminal.Line($"deployment {d.Id} is {d.Status}");
            return 0;
        }));
        return command;
    }

    private static Command Rollback()
    {
        var id = new Argument<string>("deployment") { Description = "The live deployment to roll back" };
        var reason = new Option<string?>("--reason") { Description = "Why" };
        var command = new Command("rollback", """
            Redeploy the previous version of the model in that environment; recorded as a rollback of this deployment.

            Example:
              lineage deployments rollback 7 --reason "error rate"
            """) { id, reason };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = ModelCommands.Client(parse);
            var d = await client.RollbackDeploymentAsync(parse.GetValue(id)!, parse.GetValue(reason), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(d, LineageJson.Default.DeploymentDto);
            else Terminal.Line($"deployment {d.Id}: {d.Model} v{d.Version} to {d.Environment}, rollback of {d.RollbackOf}");
            return 0;
        }));
        return command;
    }

    private static Command History()
    {
        var environment = new Argument<string>("environment") { Description = "Environment" };
        var command = new Command("history", "Every deployment to an environment, newest first, with its status events.\n\nExample:\n  lineage deployments history production")
        {
            environment,
        };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = ModelCommands.Client(parse);
            var page = await client.ListDeploymentsAsync(parse.GetValue(environment), project: parse.GetValue(Project), ct: ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(page, LineageJson.Default.DeploymentListResponse);
                return 0;
            }
            var table = Terminal.Table("Id", "Model", "Version", "When (UTC)", "Status", "Reason", "By");
            foreach (var d in page.Deployments)
                foreach (var e in d.Events)
                    table.AddRow(d.Id, Terminal.Esc(d.Model), d.Version.ToString(CultureInfo.InvariantCulture), Terminal.Time(e.At), e.Status,
                        Terminal.Esc(e.Reason), Terminal.Esc(e.Actor));
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Stats()
    {
        var command = new Command("stats", "Deployment success rate by environment (became healthy / reached healthy or failed).\n\nExample:\n  lineage deployments stats");
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = ModelCommands.Client(parse);
            var stats = await client.GetEnvironmentStatsAsync(parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(stats, LineageJson.Default.EnvironmentStatsResponse);
                return 0;
            }
            var table = Terminal.Table("Environment", "Deployments", "Succeeded", "Failed", "Rollbacks", "Success rate");
            foreach (var s in stats.Environments)
                table.AddRow(Terminal.Esc(s.Environment), $"{s.Deployments}", $"{s.Succeeded}", $"{s.Failed}", $"{s.Rollbacks}",
                    s.SuccessRate is { } r ? $"{r * 100:0.#}%" : "-");
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static void Print(ParseResult parse, DeploymentListResponse page)
    {
        if (parse.GetValue(CliApp.JsonOption))
        {
            Terminal.Json(page, LineageJson.Default.DeploymentListResponse);
            return;
        }
        var table = Terminal.Table("Id", "Environment", "Model", "Version", "Status", "Endpoint", "Deployed (UTC)", "By", "Rollback of");
        foreach (var d in page.Deployments)
            table.AddRow(d.Id, Terminal.Esc(d.Environment), Terminal.Esc(d.Model), d.Version.ToString(CultureInfo.InvariantCulture), d.Status,
                Terminal.Esc(d.EndpointUrl), Terminal.Time(d.CreatedAt), Terminal.Esc(d.CreatedBy), d.RollbackOf ?? "");
        Terminal.Write(table);
    }
}
