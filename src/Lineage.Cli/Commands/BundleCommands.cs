using System.CommandLine;
using System.Text.Json.Serialization;
using Lineage.Cli.Bundle;
using Lineage.Cli.Output;
using Lineage.Core.Errors;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary>
/// <c>lineage export</c> and <c>lineage import bundle</c> (issue 12, "between Lineage servers"): a project, or one model
/// version's closure, carried from one server to another in a portable bundle file (Bundle/BundleFormat.cs).
/// </summary>
public static class BundleCommands
{
    public static Command Export()
    {
        var project = new Option<string?>("--project") { Description = "The project to export (default: default); with --model, the model's project" };
        var model = new Option<string?>("--model") { Description = "Export one model version's closure instead of a whole project (with --version)" };
        var version = new Option<long?>("--version") { Description = "The model version number (with --model)" };
        var to = new Option<string>("--to") { Description = "The bundle file to write (a tar file; replaced if it exists)", Required = true };
        var command = new Command("export", """
            Write a project, or one model version with everything it came from, to a portable bundle file that
            'lineage import bundle' loads into another Lineage server. The server is read through its API, so what
            you may not read is not exported.

            A project bundle holds its experiments; active runs with params, tags, every metric point, status and
            times; every artifact version (content included, stored once per digest; external artifacts as their
            URI), with aliases; executions with their inputs and outputs; registered models with versions, tags,
            the full alias and stage history and approvers. A model-version bundle (--model, --version) holds that
            version, its artifact, the upstream graph behind it (artifact versions, executions, runs and their
            experiments) and the version's current aliases and stage; nothing else of the project.

            The bundle is a tar file: manifest.json (format version, source, what was exported, counts, size and
            SHA-256 of every member), records.jsonl (one record per line, in dependency order) and
            blobs/sha256/<digest>. Progress goes to stderr on a terminal; a summary table ends the export.

            Examples:
              lineage export --project team-a --to team-a.lineage.tar
              lineage export --model churn --version 3 --to churn-v3.lineage.tar
            """) { project, model, version, to };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var (name, number) = (parse.GetValue(model), parse.GetValue(version));
            if ((name is null) != (number is null)) throw LineageException.Invalid("--version", "--model and --version go together");
            if (number is < 1) throw LineageException.Invalid("--version", $"--version must be 1 or more, got {number}");
            using var client = CliApp.Client(parse);
            var file = parse.GetValue(to)!;
            var report = await WithProgressAsync($"exporting to {Path.GetFileName(file)}", report =>
            {
                var exporter = new BundleExporter(client, parse.GetValue(project), report);
                return name is null ? exporter.ExportProjectAsync(file, ct) : exporter.ExportModelVersionAsync(file, name, number!.Value, ct);
            });
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(report, BundleReportJson.Default.ExportReport);
                return 0;
            }
            var table = Terminal.Table("records", "exported");
            foreach (var (type, count) in report.Counts.Where(c => c.Key != "blob")) table.AddRow(type, $"{count:N0}");
            table.AddRow("content blobs", $"{report.Blobs:N0} ({Terminal.Bytes(report.BlobBytes)})");
            Terminal.Write(table);
            Terminal.Line($"wrote {report.File} ({Terminal.Bytes(report.BundleBytes)}) in {report.Seconds:0.0}s");
            foreach (var w in report.Warnings) Terminal.Error($"warning: {w}");
            return 0;
        }));
        return command;
    }

    public static Command ImportBundle()
    {
        var file = new Argument<string>("FILE") { Description = "A bundle written by 'lineage export'" };
        var project = new Option<string?>("--project") { Description = "The project to import into (default: the project the bundle was exported from; created when missing)" };
        var command = new Command("bundle", """
            Load a bundle written by 'lineage export' into this server, through its API (authentication, project
            roles, validation and audit apply as for any client).

            Before anything is written, every member of the bundle is read and checked against the manifest
            (size and SHA-256, nothing missing or added, every record readable): a damaged or altered bundle is
            refused and the target is left as it was. Then the content the target lacks is uploaded and the
            records are applied in order.

            Preserved as in the source: artifact digests and content, version numbers (in order, into names the
            target does not have yet), artifact and run metadata, params, tags, every metric point (value, step,
            timestamp), run status, start and end times and parent runs, lineage edges with their roles, model
            versions, descriptions, statuses, the alias and stage history (replayed in order), approvers.
            Recorded as source provenance, because the API gives new records the target's own ids, times and
            creators: lineage.import.source, lineage.import.run_id / .execution_id / .version, and
            lineage.import.created_at / .created_by (tags; properties of executions).

            Idempotent: each record is looked up on the target first and only what is missing is written, so
            importing the same bundle again changes nothing (the report shows every record as already present),
            and an interrupted import is resumed by running the same command.

            Examples:
              lineage import bundle team-a.lineage.tar
              lineage import bundle churn-v3.lineage.tar --project staging --server http://lineage-b:5000
            """) { file, project };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var path = parse.GetValue(file)!;
            var report = await WithProgressAsync($"importing {Path.GetFileName(path)}",
                progress => new BundleImporter(client, path, parse.GetValue(project), progress).RunAsync(ct));
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(report, BundleReportJson.Default.BundleImportReport);
                return 0;
            }
            var table = Terminal.Table("records", "in the bundle", "imported now", "already present");
            foreach (var c in report.Records) table.AddRow(c.Type, $"{c.InBundle:N0}", $"{c.Imported:N0}", $"{c.Present:N0}");
            table.AddRow("content blobs", "", $"{report.BlobsUploaded:N0} ({Terminal.Bytes(report.BlobBytesUploaded)})", "");
            Terminal.Write(table);
            Terminal.Line($"imported {report.File} ({report.Scope} of {report.Source}) into project {report.Project} in {report.Seconds:0.0}s");
            foreach (var w in report.Warnings) Terminal.Error($"warning: {w.Item}: {w.Code}: {w.Message}");
            return 0;
        }));
        return command;
    }

    /// <summary>A progress bar on stderr when both outputs are a terminal; steps are reported as (label, done, total).</summary>
    private static async Task<T> WithProgressAsync<T>(string title, Func<Action<string, long, long>, Task<T>> work)
    {
        // stdout keeps the report (and --json) clean for pipes; the bar needs stderr to be a terminal.
        if (!Terminal.Interactive || Console.IsErrorRedirected) return await work((_, _, _) => { });
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Terminal.Esc(title), maxValue: 1);
                var result = await work((label, done, total) =>
                {
                    task.Description = Terminal.Esc($"{title}: {label}");
                    task.MaxValue = Math.Max(1, total);
                    task.Value = Math.Min(done, task.MaxValue);
                });
                task.Value = task.MaxValue;
                return result;
            });
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ExportReport))]
[JsonSerializable(typeof(BundleImportReport))]
internal sealed partial class BundleReportJson : JsonSerializerContext;
