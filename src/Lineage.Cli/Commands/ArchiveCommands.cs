using System.CommandLine;
using System.Globalization;
using Lineage.Cli.Output;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Storage.Archive;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary>
/// <c>lineage archive</c> and <c>lineage archive restore</c> (issue 13): run directly on the database and blob store, like
/// <c>gc</c>, beside running servers or without one.
/// </summary>
public static class ArchiveCommands
{
    private static string Actor => $"cli:{Environment.UserName}";

    public static Command Create()
    {
        var olderThan = new Option<string>("--older-than")
        {
            Description = "Archive content not read nor registered for this long: a number with d (days) or h (hours), e.g. 180d",
            Required = true,
        };
        var type = new Option<string?>("--type") { Description = "Only versions of this artifact type (dataset, model, …)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would move and how many bytes; change nothing" };
        var archive = new Option<string>("--archive")
        {
            Description = "Where archived content goes: s3://bucket/prefix (same credentials and --s3-endpoint as --artifacts) or a folder",
            Required = true,
        };
        var command = new Command("archive", """
            Move the content of artifact versions nobody read for a while to cold storage (a second bucket or prefix,
            or a folder). Version records, digests and lineage stay; reading archived content answers 409 ARCHIVED
            with the command that restores it. Content still read, registered recently, used by another version
            that does not qualify, held by an alias or a registered model, or written through the MLflow proxy stays.
            Read times are recorded by the servers about once a minute.

            Examples:
              lineage archive --older-than 180d --archive s3://ml-cold/lineage --dry-run
              lineage archive --older-than 90d --type dataset --archive /mnt/cold/lineage
              lineage archive restore churn-data@3 --project default
            """) { ServerCommand.DbOption, ServerCommand.ArtifactsOption, ServerCommand.S3EndpointOption, olderThan, type, dryRun, archive };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var age = ParseAge(parse.GetValue(olderThan)!);
            await using var db = await Database.OpenAsync(parse.GetValue(ServerCommand.DbOption)!, ct: ct);
            var endpoint = parse.GetValue(ServerCommand.S3EndpointOption);
            using var hot = new Disposing(await BlobStores.OpenAsync(parse.GetValue(ServerCommand.ArtifactsOption)!, endpoint, ct, serving: false));
            using var cold = new Disposing(await OpenArchiveAsync(parse.GetValue(archive)!, endpoint, ct));
            var report = await new Archiver(db, hot.Store).ArchiveAsync(new ArchiveOptions(age, parse.GetValue(type), parse.GetValue(dryRun)), cold.Store,
                Actor, ct);
            if (report.Versions.Count > 0)
            {
                var table = Terminal.Table("Artifact", "Version", "Type", "Size", "Last read", "Registered");
                foreach (var v in report.Versions.Take(200))
                    table.AddRow(Terminal.Esc($"{v.Project}/{v.Name}"), v.Version.ToString(CultureInfo.InvariantCulture), Terminal.Esc(v.Type),
                        Terminal.Bytes(v.Bytes), v.LastReadAt is null ? "never" : Terminal.Time(v.LastReadAt), Terminal.Time(v.CreatedAt));
                Terminal.Write(table);
                if (report.Versions.Count > 200) Terminal.Line($"… and {report.Versions.Count - 200:N0} more version(s)");
            }
            foreach (var d in report.Missing)
                Terminal.Error($"sha256:{d} is referenced but not in the blob store ({hot.Store.Location}); not archived (run 'lineage verify')");
            Terminal.Line($"archive {(report.DryRun ? "would move" : "moved")} {report.Blobs:N0} blob(s) = {Terminal.Bytes(report.Bytes)} " +
                          $"({report.Bytes:N0} bytes) of {report.Versions.Count:N0} version(s) to {report.Location}");
            return report.Missing.Count == 0 ? 0 : 1;
        }));
        command.Subcommands.Add(Restore());
        return command;
    }

    private static Command Restore()
    {
        var reference = new Argument<string>("name@version") { Description = "The artifact version whose content to bring back, e.g. churn-data@3" };
        var project = new Option<string?>("--project") { Description = "Project of the artifact (default: default)" };
        var archive = new Option<string?>("--archive")
        {
            Description = "Read from this location instead of the one recorded at archival (the cold bucket or folder was moved)",
        };
        var command = new Command("restore", """
            Bring an archived version's content back into the blob store. Every byte is re-hashed on the way and must
            match the version's digest; then the archive copy is removed (unless another archived version uses it).

            Example:
              lineage archive restore churn-data@3 --project default
            """) { reference, project, archive, ServerCommand.DbOption, ServerCommand.ArtifactsOption, ServerCommand.S3EndpointOption };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var text = parse.GetValue(reference)!;
            var cut = text.LastIndexOf('@');
            if (cut <= 0 || !long.TryParse(text[(cut + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1)
                throw LineageException.Invalid("name@version", $"'{text}' is not NAME@VERSION (a version number, e.g. churn-data@3)");
            await using var db = await Database.OpenAsync(parse.GetValue(ServerCommand.DbOption)!, ct: ct);
            var endpoint = parse.GetValue(ServerCommand.S3EndpointOption);
            using var hot = new Disposing(await BlobStores.OpenAsync(parse.GetValue(ServerCommand.ArtifactsOption)!, endpoint, ct, serving: false));
            var over = parse.GetValue(archive);
            var report = await new Archiver(db, hot.Store).RestoreAsync(parse.GetValue(project), text[..cut], new VersionRef(number, null),
                location => OpenArchiveAsync(over ?? location, endpoint, ct), Actor, ct: ct);
            Terminal.Line($"restored {report.Project}/{report.Name}@{report.Version}: {report.Blobs:N0} blob(s) = {Terminal.Bytes(report.Bytes)} " +
                          $"from {string.Join(", ", report.Locations)}, digests verified");
            return 0;
        }));
        return command;
    }

    /// <summary>An archive folder is created when missing (a cold disk mounted empty); a bucket must exist.</summary>
    private static Task<IBlobStore> OpenArchiveAsync(string location, string? endpoint, CancellationToken ct) =>
        BlobStores.OpenAsync(S3Settings.IsS3Uri(location) ? location : Path.GetFullPath(location), endpoint, ct, serving: false);

    /// <summary>"180d", "12h", "0d".</summary>
    public static TimeSpan ParseAge(string text)
    {
        var unit = text.Length > 1 ? text[^1] : ' ';
        if (unit is 'd' or 'h' && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 && double.IsFinite(n))
            return unit == 'd' ? TimeSpan.FromDays(n) : TimeSpan.FromHours(n);
        throw LineageException.Invalid("--older-than", $"'{text}' is not an age such as 180d or 12h");
    }

    private sealed class Disposing(IBlobStore store) : IDisposable
    {
        public IBlobStore Store { get; } = store;

        public void Dispose() => (Store as IDisposable)?.Dispose();
    }
}
