using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lineage.Cli.Output;
using Lineage.Client;
using Lineage.Core.Errors;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary>
/// <c>lineage import …</c> (issue 12, part 2): bringing history over from other tools:
/// <c>lineage import openlineage --file events.jsonl</c>, an OpenLineage event log replayed in order,
/// <c>lineage import openlineage --from URL</c>, a Marquez-compatible server's events (Import/OpenLineageSourceImporter), and
/// <c>lineage import mlflow</c> (src/Lineage.Cli/Import).
/// </summary>
public static class ImportCommands
{
    /// <summary>How often a transient failure (no answer, 429, 5xx) of one event is sent again before the import stops.</summary>
    private const int MaxAttempts = 6;

    public static Command Create()
    {
        var import = new Command("import", "Bring history over from other tools (idempotent and resumable).");
        import.Subcommands.Add(OpenLineage());
        import.Subcommands.Add(Import.MlflowImportCommand.Create());
        import.Subcommands.Add(BundleCommands.ImportBundle());
        return import;
    }

    private static Command OpenLineage()
    {
        var file = new Option<string?>("--file") { Description = "An OpenLineage event log: one RunEvent JSON object per line" };
        var from = new Option<string?>("--from") { Description = "A Marquez-compatible server (Marquez, another Lineage) whose events to replay, e.g. http://marquez:5000" };
        var project = new Option<string?>("--project") { Description = "Project to import into (default: default)" };
        var state = new Option<string?>("--state")
        {
            Description = "Where progress is kept for resuming (default: <file>.lineage-import; with --from ./lineage-import-openlineage-<hash>.json)",
        };
        var pageSize = new Option<int>("--page-size") { Description = "Events asked for per request with --from (default 500)", DefaultValueFactory = _ => 500 };
        var restart = new Option<bool>("--restart") { Description = "With --from: read the source from its first event again (events the target has are recognised and skipped)" };
        var command = new Command("openlineage", """
            Replay OpenLineage RunEvents into Lineage, oldest first, as an OpenLineage client would have sent them
            (POST /api/v1/lineage): runs become executions, datasets artifact versions, parent runs contexts.
            Read them from an event log (--file, in the order of the file) or from a server that keeps them
            (--from: Marquez, or another Lineage server, through GET /api/v1/events/lineage, in event-time order).
            Send the source's token, if it needs one, with LINEAGE_SOURCE_TOKEN.

            Idempotent: the server recognises an event it has (same run, type and time) and changes nothing; each
            event is sent with an idempotency key made from its bytes. Resumable: progress is kept in a state file
            after every event; run the same command again after an interruption, or later for new events, and it
            continues after the last event sent. A rejected event is reported and skipped; exit code 1 when any was.

            Examples:
              lineage import openlineage --file events.jsonl
              lineage import openlineage --file marquez-export.jsonl --project team-a
              lineage import openlineage --from http://marquez:5000
              lineage import openlineage --from http://other-lineage:5000/projects/etl --project etl
            """) { file, from, project, state, pageSize, restart };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var (path, url) = (parse.GetValue(file), parse.GetValue(from));
            if ((path is null) == (url is null)) throw LineageException.Invalid("--from", "name the events to import with either --file or --from (one of them)");
            if (url is not null) return await FromSourceAsync(client, url, parse.GetValue(project), parse.GetValue(state), parse.GetValue(pageSize),
                parse.GetValue(restart), parse.GetValue(CliApp.JsonOption), ct);
            if (!File.Exists(path)) throw LineageException.Invalid("--file", $"'{path}' is not a file");
            var statePath = parse.GetValue(state) ?? path + ".lineage-import";
            var report = await ImportOpenLineageAsync(client, path!, statePath, parse.GetValue(project), ct);
            if (parse.GetValue(CliApp.JsonOption))
                Terminal.Json(report, ImportJson.Default.OpenLineageImportReport);
            else
                Print(report);
            return report.Rejected.Count == 0 ? 0 : 1;
        }));
        return command;
    }

    private static async Task<int> FromSourceAsync(LineageClient client, string url, string? project, string? state, int pageSize, bool restart, bool json,
        CancellationToken ct)
    {
        if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var source) || source.Scheme is not ("http" or "https"))
            throw LineageException.Invalid("--from", $"'{url}' is not an http(s) URL");
        if (pageSize is < 1 or > 1000) throw LineageException.Invalid("--page-size", $"--page-size must be between 1 and 1000, got {pageSize}");
        // One state file per (source, target, project), in the working directory.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{source.AbsoluteUri}\n{client.BaseAddress.AbsoluteUri}\n{project}")))[..12];
        var statePath = state ?? Path.GetFullPath($"lineage-import-openlineage-{hash}.json");
        using var http = Import.OpenLineageSourceImporter.SourceClient(Environment.GetEnvironmentVariable("LINEAGE_SOURCE_TOKEN") is { Length: > 0 } t ? t : null);
        var importer = new Import.OpenLineageSourceImporter(client, http, source, project, statePath, pageSize);
        Import.OpenLineageSourceReport report;
        if (!Terminal.Interactive)
            report = await importer.RunAsync(restart, (_, _) => { }, ct);
        else
            report = await Terminal.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask(Terminal.Esc($"importing events from {source.Host}"), maxValue: 1);
                    var r = await importer.RunAsync(restart, (done, total) =>
                    {
                        task.MaxValue = Math.Max(1, total);
                        task.Value = done;
                    }, ct);
                    task.Value = task.MaxValue;
                    return r;
                });
        if (json)
        {
            Terminal.Json(report, Import.OpenLineageSourceJson.Default.OpenLineageSourceReport);
        }
        else
        {
            var rate = (report.Imported + report.Repeats) / Math.Max(0.001, report.Seconds);
            Terminal.Line($"imported from {report.Source}: {report.Read:N0} events read ({rate:N0}/s), {report.Imported:N0} imported, " +
                          $"{report.Repeats:N0} the target had already, {report.Rejected.Count:N0} rejected; {report.Executions:N0} executions touched " +
                          $"in {report.Seconds:0.0}s; {report.SentBefore:N0} sent by earlier imports; state: {report.State}");
            foreach (var e in report.Rejected) Terminal.Error($"{e.Event}: {e.Code}: {e.Message}");
        }
        return report.Rejected.Count == 0 ? 0 : 1;
    }

    private static async Task<OpenLineageImportReport> ImportOpenLineageAsync(LineageClient client, string path, string statePath, string? project,
        CancellationToken ct)
    {
        var resume = await ImportState.LoadAsync(statePath, ct);
        var watch = Stopwatch.StartNew();
        var total = new FileInfo(path).Length;
        var counts = new Counts();
        var rejected = new List<RejectedEvent>();
        if (!Terminal.Interactive)
        {
            await ReplayAsync(client, path, statePath, project, resume, counts, rejected, _ => { }, ct);
        }
        else
        {
            await Terminal.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask(Terminal.Esc($"importing {Path.GetFileName(path)}"), maxValue: Math.Max(1, total));
                    await ReplayAsync(client, path, statePath, project, resume, counts, rejected, done => task.Value = done, ct);
                    task.Value = task.MaxValue;
                });
        }
        return new OpenLineageImportReport(path, counts.Lines, counts.Sent, counts.Resumed, counts.Executions.Count,
            counts.Artifacts.Count, rejected, Math.Round(watch.Elapsed.TotalSeconds, 3), counts.Restarted);
    }

    /// <summary>Sends every event after the resume point, one at a time in file order, saving the state after each.</summary>
    private static async Task ReplayAsync(LineageClient client, string path, string statePath, string? project, ImportState? resume, Counts counts,
        List<RejectedEvent> rejected, Action<long> progress, CancellationToken ct)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        using var prefix = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var skipping = resume?.Lines ?? 0;
        rejected.Clear();
        rejected.AddRange(resume?.Rejected ?? []); // rejected before the resume point stay rejected: the exit code says so
        long bytes = 0;
        string? line;
        while ((line = await reader.ReadLineAsync(ct)) is not null)
        {
            counts.Lines++;
            bytes += Encoding.UTF8.GetByteCount(line) + 1;
            var lineBytes = Encoding.UTF8.GetBytes(line + "\n");
            prefix.AppendData(lineBytes);
            if (skipping > 0)
            {
                skipping--;
                counts.Resumed++;
                if (skipping == 0 && Hex(prefix) != resume!.PrefixSha256)
                {
                    // The file changed before the resume point: start over (the server's ingestion is idempotent).
                    counts.Restarted = true;
                    counts.Resumed = 0;
                    counts.Lines = 0;
                    await ReplayAsync(client, path, statePath, project, null, counts, rejected, progress, ct);
                    return;
                }
                progress(bytes);
                continue;
            }
            if (string.IsNullOrWhiteSpace(line))
            {
                await SaveAsync(statePath, path, counts.Lines, prefix, rejected, ct);
                continue;
            }
            var key = "ol-import-" + Convert.ToHexStringLower(SHA256.HashData(lineBytes));
            try
            {
                var answer = await SendWithRetriesAsync(client, line, project, key, ct);
                counts.Sent++;
                counts.Executions.Add(answer.ExecutionId);
                foreach (var id in answer.InputArtifactIds.Concat(answer.OutputArtifactIds)) counts.Artifacts.Add(id);
            }
            catch (LineageApiException ex) when (!ex.IsTransient)
            {
                rejected.Add(new RejectedEvent(counts.Lines, ex.Code.WireName(), ex.Message));
            }
            await SaveAsync(statePath, path, counts.Lines, prefix, rejected, ct);
            progress(bytes);
        }
        if (skipping > 0)
        {
            // The file is shorter than the state says: it was replaced; start over.
            counts.Restarted = true;
            counts.Resumed = 0;
            counts.Lines = 0;
            await ReplayAsync(client, path, statePath, project, null, counts, rejected, progress, ct);
        }
    }

    private static async Task<Lineage.Core.Contracts.V1.OpenLineageIngestResponse> SendWithRetriesAsync(LineageClient client, string line,
        string? project, string key, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await client.IngestOpenLineageAsync(line, project, key, ct);
            }
            catch (LineageApiException ex) when (ex.IsTransient && attempt < MaxAttempts)
            {
                // Same key on every attempt: an event stored whose answer was lost is answered from the store.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10_000, 200 * (1 << attempt))), ct);
            }
        }
    }

    private static string Hex(IncrementalHash hash) => Convert.ToHexStringLower(hash.GetCurrentHash());

    private static Task SaveAsync(string statePath, string file, long lines, IncrementalHash prefix, List<RejectedEvent> rejected,
        CancellationToken ct) =>
        ImportState.SaveAsync(statePath, new ImportState(Path.GetFullPath(file), lines, Hex(prefix), [.. rejected]), ct);

    private static void Print(OpenLineageImportReport r)
    {
        var rate = r.Sent / Math.Max(0.001, r.Seconds);
        Terminal.Line($"imported {r.File}: {r.Lines:N0} lines, {r.Sent:N0} events sent ({rate:N0}/s), {r.Resumed:N0} skipped as imported before, " +
                      $"{r.Rejected.Count:N0} rejected; {r.Executions:N0} executions and {r.Artifacts:N0} artifact versions touched in {r.Seconds:0.0}s" +
                      (r.Restarted ? " (the file changed since the last import: started over)" : ""));
        foreach (var e in r.Rejected)
            Terminal.Error($"line {e.Line}: {e.Code}: {e.Message}");
    }

    private sealed class Counts
    {
        public long Lines, Sent, Resumed;
        public bool Restarted;
        public readonly HashSet<string> Executions = [];
        public readonly HashSet<string> Artifacts = [];
    }
}

/// <summary>Where an import stopped: lines done, the SHA-256 of those lines (so a changed file is noticed), and the lines rejected so far.</summary>
public sealed record ImportState(string File, long Lines, string PrefixSha256, List<RejectedEvent>? Rejected = null)
{
    public static async Task<ImportState?> LoadAsync(string path, CancellationToken ct)
    {
        if (!System.IO.File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize(await System.IO.File.ReadAllTextAsync(path, ct), ImportJson.Default.ImportState);
        }
        catch (JsonException ex)
        {
            throw LineageException.Invalid("--state", $"'{path}' is not an import state file ({ex.Message}); delete it to start over");
        }
    }

    /// <summary>Written to a temp file and moved over the old one: an interruption never leaves half a state.</summary>
    public static async Task SaveAsync(string path, ImportState state, CancellationToken ct)
    {
        var temp = path + ".tmp";
        await System.IO.File.WriteAllTextAsync(temp, JsonSerializer.Serialize(state, ImportJson.Default.ImportState), ct);
        System.IO.File.Move(temp, path, overwrite: true);
    }
}

public sealed record RejectedEvent(long Line, string Code, string Message);

/// <summary>The final report of <c>lineage import openlineage</c>.</summary>
public sealed record OpenLineageImportReport(string File, long Lines, long Sent, long Resumed, int Executions, int Artifacts,
    List<RejectedEvent> Rejected, double Seconds, bool Restarted);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ImportState))]
[JsonSerializable(typeof(OpenLineageImportReport))]
internal sealed partial class ImportJson : JsonSerializerContext;
