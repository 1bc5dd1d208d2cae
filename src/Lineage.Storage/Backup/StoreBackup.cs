using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;
using Lineage.Core.Errors;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Backup;

/// <summary>What <see cref="StoreBackup.CreateAsync"/> wrote.</summary>
public sealed record BackupResult(string File, string Sha256, long Bytes, string Dialect, long SchemaVersion, int Tables, int Blobs, long BlobBytes,
    DateTimeOffset SnapshotAt);

/// <summary>What <see cref="StoreBackup.RestoreAsync"/> placed.</summary>
public sealed record RestoreResult(string Dialect, long SchemaVersion, DateTimeOffset BackupCreatedAt, int Blobs, long BlobBytes, bool ArchiveDigestChecked);

/// <summary>
/// Backup and restore of a whole store — metadata database and blob store — as one tar archive, while servers keep
/// serving. The database is copied from one consistent snapshot first (<see cref="SqliteSnapshot"/>,
/// <see cref="PostgresSnapshot"/>); then every blob present is copied. Blobs are immutable and named by their
/// content, so copying them after the snapshot is safe, and every digest the snapshot's rows reference must be among
/// them (else the backup fails rather than produce an archive that cannot be restored whole). The archive ends with
/// <c>manifest.json</c> (each entry's SHA-256) and gets a <c>FILE.sha256</c> beside it (the archive's SHA-256, in
/// <c>sha256sum</c>'s format). Restore fills only an empty store and checks every byte before the database is put in place.
/// </summary>
public static class StoreBackup
{
    /// <summary>
    /// Backs the store <paramref name="target"/> (a SQLite path or a PostgreSQL URI / connection string) and
    /// <paramref name="blobs"/> up into <paramref name="file"/>, written under a temporary name and renamed when complete.
    /// </summary>
    public static async Task<BackupResult> CreateAsync(string target, IBlobStore blobs, string file, string lineageVersion, CancellationToken ct = default)
    {
        file = Path.GetFullPath(file);
        if (File.Exists(file)) throw LineageException.AlreadyExists($"{file} exists; choose another name (a backup never overwrites one)");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        // The snapshot is staged beside the archive, not in /tmp: the database may be larger than a tmpfs.
        var work = Directory.CreateDirectory(file + ".parts").FullName;
        var partial = file + ".partial";
        try
        {
            var postgres = Database.IsPostgres(target);
            var snapshotAt = DateTimeOffset.UtcNow;
            var snapshot = postgres
                ? await PostgresSnapshot.TakeAsync(PostgresDatabase.ToConnectionString(target), work, ct)
                : await SqliteSnapshot.TakeAsync(target, work, ct);

            var present = new Dictionary<string, long>();
            await foreach (var b in blobs.ListAsync(ct)) present[b.Digest] = b.Size;
            if (snapshot.ReferencedDigests.FirstOrDefault(d => !present.ContainsKey(d)) is { } absent)
                throw new LineageException(ErrorCode.Unavailable,
                    $"content sha256:{absent} referenced by the database is not in the blob store ({blobs.Location}); run 'lineage verify' and try again");

            string digest;
            long bytes;
            var files = new List<BackupFile>();
            var archived = new List<BackupBlob>();
            await using (var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                await using (var hashing = new HashingStream(output))
                {
                    await using (var tar = new TarWriter(hashing, TarEntryFormat.Pax, leaveOpen: true))
                    {
                        foreach (var (entry, local) in snapshot.Files)
                        {
                            files.Add(new BackupFile(entry, new FileInfo(local).Length, await Sha256Async(local, ct)));
                            await tar.WriteEntryAsync(local, entry, ct);
                        }
                        foreach (var (blobDigest, size) in present.OrderBy(p => p.Key, StringComparer.Ordinal))
                        {
                            await using var content = await blobs.OpenReadAsync(blobDigest, ct);
                            if (content is null)
                            {
                                // Removed since the listing (gc): fine unless the snapshot needs it.
                                if (snapshot.ReferencedDigests.Contains(blobDigest))
                                    throw new LineageException(ErrorCode.Unavailable, $"content sha256:{blobDigest} vanished from the blob store during the backup; try again");
                                continue;
                            }
                            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, BackupManifest.BlobPrefix + blobDigest) { DataStream = content }, ct);
                            archived.Add(new BackupBlob(blobDigest, content.Length));
                        }
                        var manifest = new BackupManifest(BackupManifest.CurrentFormat, lineageVersion, snapshotAt, postgres ? "postgres" : "sqlite",
                            Describe(target), snapshot.SchemaVersion, files, snapshot.Tables, archived);
                        using var json = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(manifest, BackupManifest.Json));
                        await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, BackupManifest.EntryName) { DataStream = json }, ct);
                    }
                    await hashing.FlushAsync(ct);
                    digest = hashing.Digest();
                    bytes = hashing.Written;
                }
                output.Flush(flushToDisk: true);
            }
            File.Move(partial, file);
            await File.WriteAllTextAsync(file + ".sha256", $"{digest}  {Path.GetFileName(file)}\n", ct);
            return new BackupResult(file, digest, bytes, postgres ? "postgres" : "sqlite", snapshot.SchemaVersion, snapshot.Tables.Count,
                archived.Count, archived.Sum(b => b.Size), snapshotAt);
        }
        finally
        {
            TryDelete(partial);
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// Restores <paramref name="file"/> into an empty store: <paramref name="target"/> must not exist (SQLite) or hold no
    /// tables (PostgreSQL, created beforehand), and <paramref name="blobs"/> must hold no blob. The archive's digest is
    /// checked against <c>FILE.sha256</c> when that file is present; every entry is checked against the manifest.
    /// </summary>
    public static async Task<RestoreResult> RestoreAsync(string file, string target, IBlobStore blobs, CancellationToken ct = default)
    {
        file = Path.GetFullPath(file);
        if (!File.Exists(file)) throw LineageException.NotFound($"no backup at {file}");
        var postgres = Database.IsPostgres(target);
        var connectionString = postgres ? PostgresDatabase.ToConnectionString(target) : null;
        if (postgres ? !await PostgresSnapshot.IsEmptyTargetAsync(connectionString!, ct) : !SqliteSnapshot.IsEmptyTarget(target))
            throw LineageException.Conflict($"{Describe(target)} is not empty: restore fills a new, empty store only");
        await using var listing = blobs.ListAsync(ct).GetAsyncEnumerator(ct);
        if (await listing.MoveNextAsync())
            throw LineageException.Conflict($"the blob store {blobs.Location} is not empty: restore into an empty artifact folder");

        var sidecar = file + ".sha256";
        var checkedArchive = File.Exists(sidecar);
        if (checkedArchive)
        {
            var expected = (await File.ReadAllTextAsync(sidecar, ct)).Split(' ', 2)[0].Trim();
            var actual = await Sha256Async(file, ct);
            if (!string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
                throw LineageException.Invalid("file", $"{file} hashes to {actual} but {Path.GetFileName(sidecar)} says {expected}: the archive is damaged");
        }

        // SQLite: staged beside the target (same file system, so the final move is a rename); PostgreSQL: the temp folder.
        var work = Directory.CreateDirectory(Path.Combine(postgres ? Path.GetTempPath() : Path.GetDirectoryName(Path.GetFullPath(target))!,
            $".lineage-restore-{Guid.NewGuid():N}")).FullName;
        try
        {
            var staged = new Dictionary<string, string>();
            var stagedDigests = new Dictionary<string, (long Size, string Sha256)>();
            var restored = new Dictionary<string, long>();
            BackupManifest? manifest = null;
            await using (var input = File.OpenRead(file))
            await using (var tar = new TarReader(input))
            {
                while (await tar.GetNextEntryAsync(copyData: false, ct) is { } entry)
                {
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                        throw LineageException.Invalid("file", $"unexpected entry '{entry.Name}' ({entry.EntryType}) in the archive");
                    var data = entry.DataStream ?? Stream.Null; // an empty file (an empty table) has no data stream
                    if (manifest is not null) throw LineageException.Invalid("file", $"entry '{entry.Name}' after the manifest");
                    if (entry.Name == BackupManifest.EntryName)
                    {
                        manifest = await JsonSerializer.DeserializeAsync<BackupManifest>(data, BackupManifest.Json, ct)
                                   ?? throw LineageException.Invalid("file", "empty manifest");
                    }
                    else if (entry.Name.StartsWith(BackupManifest.BlobPrefix, StringComparison.Ordinal))
                    {
                        // PutAsync re-hashes the content and stores nothing unless it matches the name.
                        var name = entry.Name[BackupManifest.BlobPrefix.Length..];
                        BlobInfo info;
                        try
                        {
                            info = await blobs.PutAsync(data, name, ct: ct);
                        }
                        catch (LineageException ex) when (ex.Code == ErrorCode.InvalidParameterValue)
                        {
                            throw LineageException.Invalid("file", $"archive entry {entry.Name} does not hash to its name: the archive is damaged ({ex.Message})");
                        }
                        restored[info.Digest] = info.Size;
                    }
                    else if (entry.Name.StartsWith("database/", StringComparison.Ordinal))
                    {
                        var local = Path.Combine(work, $"{staged.Count}.part");
                        await using (var copy = File.Create(local)) await data.CopyToAsync(copy, ct);
                        staged[entry.Name] = local;
                        stagedDigests[entry.Name] = (new FileInfo(local).Length, await Sha256Async(local, ct));
                    }
                    else
                    {
                        throw LineageException.Invalid("file", $"unexpected entry '{entry.Name}' in the archive");
                    }
                }
            }
            if (manifest is null) throw LineageException.Invalid("file", "the archive has no manifest.json: it is incomplete or not a Lineage backup");
            if (manifest.Format != BackupManifest.CurrentFormat) throw LineageException.Invalid("file", $"backup format {manifest.Format} is not supported (this build reads {BackupManifest.CurrentFormat})");
            if ((manifest.Dialect == "postgres") != postgres)
                throw LineageException.Invalid("--db", $"the backup is of a {manifest.Dialect} store; restore it into the same kind of database");
            foreach (var f in manifest.Files)
            {
                if (!stagedDigests.TryGetValue(f.Path, out var got) || got.Size != f.Size || got.Sha256 != f.Sha256)
                    throw LineageException.Invalid("file", $"archive entry {f.Path} is missing or does not match its digest in the manifest");
            }
            if (staged.Keys.Except(manifest.Files.Select(f => f.Path)).FirstOrDefault() is { } extra)
                throw LineageException.Invalid("file", $"archive entry {extra} is not in the manifest");
            if (manifest.Blobs.FirstOrDefault(b => !restored.TryGetValue(b.Digest, out var size) || size != b.Size) is { } lost)
                throw LineageException.Invalid("file", $"blob sha256:{lost.Digest} listed in the manifest is missing from the archive");

            if (postgres)
                await PostgresSnapshot.RestoreAsync(connectionString!, manifest, staged, ct);
            else
                await SqliteSnapshot.RestoreAsync(staged[BackupManifest.SqliteEntry], target, ct);
            return new RestoreResult(manifest.Dialect, manifest.SchemaVersion, manifest.CreatedAt, restored.Count, restored.Values.Sum(), checkedArchive);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Where the data lives, without a password.</summary>
    private static string Describe(string target)
    {
        if (!Database.IsPostgres(target)) return $"sqlite:{Path.GetFullPath(target)}";
        var b = new Npgsql.NpgsqlConnectionStringBuilder(PostgresDatabase.ToConnectionString(target));
        return $"postgres://{b.Username}@{b.Host}:{b.Port}/{b.Database}";
    }

    private static async Task<string> Sha256Async(string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
