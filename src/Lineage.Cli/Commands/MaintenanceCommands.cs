using System.CommandLine;
using Lineage.Cli.Output;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary>
/// Store maintenance run directly on the database and artifact folder (like 'lineage db'): no
/// request timeouts for long scans, and it works while the server is stopped.
/// </summary>
public static class MaintenanceCommands
{
    public static Command Gc()
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would go and how many bytes; change nothing" };
        var purgeAfter = new Option<double>("--purge-after-days") { Description = "Free the content of versions deleted longer ago than this", DefaultValueFactory = _ => 7 };
        var grace = new Option<double>("--grace-hours") { Description = "Spare unreferenced content uploaded more recently than this", DefaultValueFactory = _ => 1 };
        var runs = new Option<bool>("--runs")
        {
            Description = "Also remove runs and experiments deleted longer ago than --purge-after-days for good (params, metrics, tags, " +
                          "MLflow artifacts); their lineage nodes stay as tombstones",
        };
        var command = new Command("gc", """
            Garbage-collect artifact storage: apply retention policies (soft delete; alias holders are
            always kept), purge versions deleted longer ago than --purge-after-days (the record stays,
            the content goes), and free content no remaining version references. With --runs, also
            hard-delete runs and experiments deleted longer ago than --purge-after-days, like 'mlflow gc':
            their params, metrics, tags and MLflow artifacts go, the lineage graph keeps each run's execution
            as a tombstone, and a run a registered model version was made from is kept. Writes an audit entry.

            Examples:
              lineage gc --dry-run
              lineage gc --purge-after-days 0 --db ./lineage-data/lineage.db --artifacts ./lineage-data/artifacts
              lineage gc --runs --purge-after-days 30
            """) { ServerCommand.DbOption, ServerCommand.ArtifactsOption, ServerCommand.S3EndpointOption, dryRun, purgeAfter, grace, runs };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            await using var db = await Database.OpenAsync(parse.GetValue(ServerCommand.DbOption)!, ct: ct);
            using var blobStore = await OpenBlobsAsync(parse, ct);
            var maintenance = new ArtifactMaintenance(db, blobStore.Store);
            if (parse.GetValue(runs))
                PrintRuns(await new RunPurge(db).PurgeAsync(TimeSpan.FromDays(parse.GetValue(purgeAfter)), parse.GetValue(dryRun), $"cli:{Environment.UserName}", ct));
            var report = await maintenance.CollectAsync(new GcOptions(parse.GetValue(dryRun), TimeSpan.FromDays(parse.GetValue(purgeAfter)),
                TimeSpan.FromHours(parse.GetValue(grace))), ct);
            var verb = report.DryRun ? "would" : "did";
            var table = Terminal.Table("Action", "Artifact", "Version", "Reason");
            foreach (var v in report.RetentionDeleted) table.AddRow("delete (retention)", Terminal.Esc($"{v.Project}/{v.Name}"), v.Version.ToString(), Terminal.Esc(v.Reason));
            foreach (var v in report.Purged) table.AddRow("purge content", Terminal.Esc($"{v.Project}/{v.Name}"), v.Version.ToString(), Terminal.Esc(v.Reason));
            if (report.RetentionDeleted.Count + report.Purged.Count > 0) Terminal.Write(table);
            if (report.DryRun && report.FreedBlobs.Count > 0)
            {
                var blobs = Terminal.Table("Unreferenced content", "Size");
                foreach (var b in report.FreedBlobs.Take(200)) blobs.AddRow($"sha256:{b.Digest}", Terminal.Bytes(b.Size));
                Terminal.Write(blobs);
            }
            Terminal.Line($"gc {verb}: delete {report.RetentionDeleted.Count} version(s) by retention, purge {report.Purged.Count}, " +
                          $"free {report.FreedBlobs.Count} blob(s) = {Terminal.Bytes(report.FreedBytes)} ({report.FreedBytes:N0} bytes)");
            return 0;
        }));
        return command;
    }

    private static void PrintRuns(RunPurgeReport report)
    {
        var verb = report.DryRun ? "would" : "did";
        if (report.Runs.Count + report.Experiments.Count > 0)
        {
            var table = Terminal.Table("Removed", "Project", "Experiment", "Id", "Name", "Deleted");
            foreach (var e in report.Experiments) table.AddRow("experiment", Terminal.Esc(e.Project), Terminal.Esc(e.Name), e.Id, Terminal.Esc(e.Name), Terminal.Time(e.DeletedAt));
            foreach (var r in report.Runs.Take(500))
                table.AddRow("run", Terminal.Esc(r.Project), Terminal.Esc(r.Experiment), r.RunId, Terminal.Esc(r.Name), Terminal.Time(r.DeletedAt));
            Terminal.Write(table);
            if (report.Runs.Count > 500) Terminal.Line($"… and {report.Runs.Count - 500:N0} more run(s)");
        }
        foreach (var k in report.Kept) Terminal.Line($"kept {k.RunId}: {k.Reason}");
        var rows = report.Rows.Count == 0 ? "" : " (" + string.Join(", ", report.Rows.Select(r => $"{r.Key} {r.Value:N0}")) + ")";
        Terminal.Line($"gc {verb}: remove {report.Runs.Count} run(s) and {report.Experiments.Count} experiment(s){rows}");
    }

    public static Command Verify()
    {
        var deep = new Option<bool>("--deep") { Description = "Re-hash every blob also on an object store (S3); a local folder is always re-hashed" };
        var command = new Command("verify", """
            Check that every version's content is stored with its recorded size, re-hash every blob of a local
            folder (on S3 only with --deep: existence and size come from one listing), and report corrupt or
            missing content with the versions using it. Exit code 1 when anything is wrong.

            Examples:
              lineage verify --db ./lineage-data/lineage.db --artifacts ./lineage-data/artifacts
              lineage verify --db postgres://… --artifacts s3://ml-artifacts/lineage --deep
            """) { ServerCommand.DbOption, ServerCommand.ArtifactsOption, ServerCommand.S3EndpointOption, deep };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            await using var db = await Database.OpenAsync(parse.GetValue(ServerCommand.DbOption)!, ct: ct);
            using var blobStore = await OpenBlobsAsync(parse, ct);
            var maintenance = new ArtifactMaintenance(db, blobStore.Store);
            bool? rehash = parse.GetValue(deep) ? true : null;
            VerifyReport report;
            if (Terminal.Interactive)
            {
                report = await Terminal.Console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask("verifying", maxValue: 1);
                        return await maintenance.VerifyAsync(new SyncProgress(p => { task.MaxValue = Math.Max(1, p.Total); task.Value = p.Done; }), rehash, ct);
                    });
            }
            else
            {
                report = await maintenance.VerifyAsync(null, rehash, ct);
            }
            if (report.Problems.Count > 0)
            {
                var table = Terminal.Table("Content", "Problem", "Used by");
                foreach (var p in report.Problems) table.AddRow($"sha256:{p.Digest}", Terminal.Esc(p.Problem), Terminal.Esc(string.Join(", ", p.UsedBy.Take(10))));
                Terminal.Write(table);
            }
            Terminal.Line($"verified {report.BlobsChecked} blob(s), {Terminal.Bytes(report.BytesChecked)}: {report.Problems.Count} problem(s)");
            return report.Problems.Count == 0 ? 0 : 1;
        }));
        return command;
    }

    public static Command Stats()
    {
        var command = new Command("stats", """
            Storage accounting: metadata bytes beside artifact bytes (rule of thumb: metadata under 5%).

            Example:
              lineage stats --db ./lineage-data/lineage.db --artifacts ./lineage-data/artifacts
            """) { ServerCommand.DbOption, ServerCommand.ArtifactsOption, ServerCommand.S3EndpointOption };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            await using var db = await Database.OpenAsync(parse.GetValue(ServerCommand.DbOption)!, ct: ct);
            using var blobStore = await OpenBlobsAsync(parse, ct);
            var stats = await new ArtifactMaintenance(db, blobStore.Store).StatsAsync(ct);
            var table = Terminal.Table("Measure", "Value");
            table.AddRow("metadata (database)", Terminal.Bytes(stats.MetadataBytes));
            table.AddRow("artifact content (blobs)", $"{Terminal.Bytes(stats.ArtifactBytes)} in {stats.Blobs:N0} blob(s)");
            table.AddRow("metadata share", $"{stats.MetadataShare:P1}{(stats.MetadataShare > 0.05 ? " (over the 5% rule of thumb)" : "")}");
            table.AddRow("artifact versions", stats.Versions.ToString("N0"));
            table.AddRow("logical content (before dedup)", Terminal.Bytes(stats.LogicalBytes));
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    /// <summary>The blob store --artifacts names (checked first when it is S3), disposed with the command.</summary>
    private static async Task<OpenedBlobs> OpenBlobsAsync(ParseResult parse, CancellationToken ct) =>
        new(await BlobStores.OpenAsync(parse.GetValue(ServerCommand.ArtifactsOption)!, parse.GetValue(ServerCommand.S3EndpointOption), ct, serving: false));

    private sealed class OpenedBlobs(IBlobStore store) : IDisposable
    {
        public IBlobStore Store { get; } = store;

        public void Dispose() => (Store as IDisposable)?.Dispose();
    }

    private sealed class SyncProgress(Action<(long Done, long Total)> report) : IProgress<(long Done, long Total)>
    {
        public void Report((long Done, long Total) value) => report(value);
    }
}
