using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Lineage.Cli.Output;
using Lineage.Core.Errors;
using Spectre.Console;

namespace Lineage.Cli.Import;

/// <summary><c>lineage import mlflow --from URL</c> (issue 12, part 2): an MLflow tracking server's history into Lineage.</summary>
public static class MlflowImportCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The MLflow tracking server, e.g. http://mlflow:5000", Required = true };
        var experiments = new Option<string[]>("--experiments")
        {
            Description = "Only these experiments (ids or names; repeat or separate with commas). Default: every active experiment",
            AllowMultipleArgumentsPerToken = true,
        };
        var project = new Option<string?>("--project") { Description = "Lineage project to import into (default: default)" };
        var state = new Option<string?>("--state") { Description = "The journal kept for resuming (default: ./lineage-import-mlflow-<hash>.jsonl)" };
        var parallel = new Option<int>("--parallel") { Description = "Runs imported at once (default 4)", DefaultValueFactory = _ => 4 };
        var recheck = new Option<bool>("--recheck") { Description = "Compare every run with the target again, even those the journal has as done and unchanged" };
        var noModels = new Option<bool>("--no-models") { Description = "Leave the model registry out" };
        var noArtifacts = new Option<bool>("--no-artifacts") { Description = "Leave artifact files out" };
        var command = new Command("mlflow", """
            Copy an MLflow tracking server's history into Lineage through MLflow's REST API (MLflow 2.x and 3.x, or
            another Lineage server): experiments with tags; runs with params, tags, every metric point (step and
            timestamp), status, start and end times, dataset inputs and artifact files; registered models with
            descriptions, tags, versions, stages and aliases. Lineage links dataset -> run -> model version.

            Every imported run, experiment and model version carries its MLflow id as a tag
            (lineage.import.mlflow.run_id, .experiment_id, .version) beside lineage.import.source, so an MLflow URL
            can be looked up in Lineage.

            Idempotent: run it again to pick up new runs and new points; nothing is imported twice (the target is
            compared before each write). Resumable: a journal records each finished run; an interrupted import
            continues where it stopped. Send MLflow's token with MLFLOW_TRACKING_TOKEN.

            Examples:
              lineage import mlflow --from http://mlflow:5000
              lineage import mlflow --from http://mlflow:5000 --experiments churn,fraud --project team-a
            """) { from, experiments, project, state, parallel, recheck, noModels, noArtifacts };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var url = parse.GetValue(from)!;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var sourceUri) || sourceUri.Scheme is not ("http" or "https"))
                throw LineageException.Invalid("--from", $"'{url}' is not an http(s) URL");
            if (parse.GetValue(parallel) is < 1 or > 64) throw LineageException.Invalid("--parallel", "--parallel must be between 1 and 64");
            using var client = CliApp.Client(parse);
            var targetProject = parse.GetValue(project);
            var sourceName = sourceUri.AbsoluteUri.TrimEnd('/');
            var journalPath = parse.GetValue(state) ?? DefaultJournal(sourceName, client.BaseAddress.AbsoluteUri, targetProject);
            var selected = (parse.GetValue(experiments) ?? []).SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .ToList();
            var options = new MlflowImportOptions(sourceName, selected, targetProject, parse.GetValue(parallel), parse.GetValue(recheck),
                !parse.GetValue(noModels), !parse.GetValue(noArtifacts));

            using var source = new MlflowRest(sourceUri, Environment.GetEnvironmentVariable("MLFLOW_TRACKING_TOKEN") is { Length: > 0 } t ? t : null);
            using var targetMlflow = new MlflowRest(client.BaseAddress, client.Token, targetProject);
            // The journal names source, target and project: a journal of another import is refused rather than trusted.
            using var journal = await ImportJournal.OpenAsync(journalPath, $"{sourceName} -> {client.BaseAddress.AbsoluteUri.TrimEnd('/')} project {targetProject ?? "default"}", ct);
            var importer = new MlflowImporter(client, source, targetMlflow, journal, options);
            MlflowImportReport report;
            if (!Terminal.Interactive)
                report = await importer.RunAsync((_, _) => { }, ct);
            else
                report = await Terminal.Console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask(Terminal.Esc($"importing from {sourceName}"), maxValue: 1);
                        var r = await importer.RunAsync((done, total) =>
                        {
                            task.MaxValue = Math.Max(1, total);
                            task.Value = done;
                        }, ct);
                        task.Value = task.MaxValue;
                        return r;
                    });
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(report, MlflowImportJson.Default.MlflowImportReport);
            else Print(report);
            return report.Failed.Count == 0 ? 0 : 1;
        }));
        return command;
    }

    /// <summary>One journal per (source, target, project), in the working directory.</summary>
    private static string DefaultJournal(string source, string target, string? project)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{source}\n{target}\n{project}")))[..12];
        return Path.GetFullPath($"lineage-import-mlflow-{hash}.jsonl");
    }

    private static void Print(MlflowImportReport r)
    {
        var table = Terminal.Table("item", "in the source", "imported now", "notes");
        table.AddRow("experiments", $"{r.Experiments:N0}", $"{r.ExperimentsCreated:N0} created", "");
        table.AddRow("runs", $"{r.Runs:N0}", $"{r.RunsCreated:N0} new, {r.RunsUpdated:N0} updated",
            $"{r.RunsUnchanged:N0} unchanged since the last import");
        table.AddRow("params", "", $"{r.Params:N0}", "");
        table.AddRow("tags", "", $"{r.Tags:N0}", "");
        table.AddRow("metric points", "", $"{r.MetricPoints:N0}", "");
        table.AddRow("dataset inputs", "", $"{r.DatasetInputs:N0}", "");
        table.AddRow("artifact files", "", $"{r.ArtifactFiles:N0}", Terminal.Bytes(r.ArtifactBytes));
        table.AddRow("registered models", $"{r.Models:N0}", $"{r.ModelsCreated:N0} created", "");
        table.AddRow("model versions", "", $"{r.VersionsCreated:N0} created", $"{r.StageChanges:N0} stage changes, {r.AliasesSet:N0} aliases set");
        Terminal.Write(table);
        var rate = (r.RunsCreated + r.RunsUpdated) / Math.Max(0.001, r.Seconds);
        Terminal.Line($"imported from {r.Source} in {r.Seconds:0.0}s ({rate:N0} runs/s); journal: {r.Journal}");
        foreach (var w in r.Warnings) Terminal.Error($"warning: {w.Item}: {w.Code}: {w.Message}");
        foreach (var f in r.Failed) Terminal.Error($"failed: {f.Item}: {f.Code}: {f.Message}");
        if (r.Failed.Count > 0) Terminal.Error($"{r.Failed.Count} item(s) failed; fix the cause and run the same command again to import them");
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(MlflowImportReport))]
internal sealed partial class MlflowImportJson : JsonSerializerContext;
