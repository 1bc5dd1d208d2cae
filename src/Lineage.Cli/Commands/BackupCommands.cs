using System.CommandLine;
using Lineage.Cli.Output;
using Lineage.Server;
using Lineage.Storage.Backup;
using Lineage.Storage.Blobs;

namespace Lineage.Cli.Commands;

/// <summary>
/// <c>lineage backup</c> and <c>lineage restore</c>, on the database and artifact folder directly (like <c>lineage db</c>):
/// a backup runs beside serving servers; a restore fills an empty store before any server starts on it.
/// </summary>
public static class BackupCommands
{
    public static Command Backup()
    {
        var to = new Option<string>("--to") { Description = "Archive to write (a tar file; FILE.sha256 is written beside it)", Required = true };
        var command = new Command("backup", """
            Back the whole store up into one archive while servers keep serving: the database from one consistent
            snapshot (SQLite's online backup API; PostgreSQL: every table in one REPEATABLE READ transaction), then
            every blob of the artifact folder, and a manifest with the SHA-256 of each entry. Writes the archive's
            own SHA-256 to FILE.sha256. Every write acknowledged before the backup starts is in it.

            Examples:
              lineage backup --to /backups/lineage-2026-12-06.tar --db ./lineage-data/lineage.db --artifacts ./lineage-data/artifacts
              lineage backup --to lineage.tar --db postgres://lineage:secret@db:5432/lineage --artifacts /srv/lineage
            """) { to, ServerCommand.DbOption, ServerCommand.ArtifactsOption };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var blobs = new LocalFolderBlobStore(parse.GetValue(ServerCommand.ArtifactsOption)!, removeLeftovers: false);
            var result = await StoreBackup.CreateAsync(parse.GetValue(ServerCommand.DbOption)!, blobs, parse.GetValue(to)!, LineageServer.Version, ct);
            Terminal.Line($"backup of {result.Dialect} schema version {result.SchemaVersion} (snapshot {result.SnapshotAt:u}) written to {result.File}: " +
                          $"{Terminal.Bytes(result.Bytes)}, {result.Blobs:N0} blob(s) = {Terminal.Bytes(result.BlobBytes)}" +
                          (result.Tables > 0 ? $", {result.Tables} table(s)" : ""));
            Terminal.Line($"sha256 {result.Sha256} (in {Path.GetFileName(result.File)}.sha256)");
            return 0;
        }));
        return command;
    }

    public static Command Restore()
    {
        var file = new Argument<string>("file") { Description = "Archive written by 'lineage backup'" };
        var command = new Command("restore", """
            Restore a backup into an empty store: --db must name a SQLite file that does not exist yet, or an empty
            PostgreSQL database (create it first); --artifacts must hold no blob. Checks the archive against
            FILE.sha256 when present and every entry against the manifest before the database is put in place.
            A backup from an older schema is restored at that version: then run 'lineage db upgrade'.

            Examples:
              lineage restore /backups/lineage-2026-12-06.tar --db ./restored/lineage.db --artifacts ./restored/artifacts
              lineage restore lineage.tar --db postgres://lineage:secret@db:5432/lineage_restored --artifacts /srv/lineage-restored
            """) { file, ServerCommand.DbOption, ServerCommand.ArtifactsOption };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var blobs = new LocalFolderBlobStore(parse.GetValue(ServerCommand.ArtifactsOption)!, removeLeftovers: false);
            var result = await StoreBackup.RestoreAsync(parse.GetValue(file)!, parse.GetValue(ServerCommand.DbOption)!, blobs, ct);
            if (!result.ArchiveDigestChecked) Terminal.Error("note: no .sha256 file beside the archive; its entries were checked against its manifest only");
            Terminal.Line($"restored {result.Dialect} schema version {result.SchemaVersion} from the backup of {result.BackupCreatedAt:u}: " +
                          $"{result.Blobs:N0} blob(s) = {Terminal.Bytes(result.BlobBytes)}");
            return 0;
        }));
        return command;
    }
}
