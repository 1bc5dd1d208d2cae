using System.Text.Json;
using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Lineage.Storage.Governance;

namespace Lineage.Storage.Archive;

/// <summary>What to archive: content not read (and not registered) for <see cref="OlderThan"/>, optionally of one artifact type.</summary>
public sealed record ArchiveOptions(TimeSpan OlderThan, string? Type = null, bool DryRun = false, int Parallelism = 16);

/// <summary>A version whose content (all of it, or some files of a directory) moves to, or came back from, the archive.</summary>
public sealed record ArchivedVersion(string Project, string Name, long Version, string Type, long Bytes, long? LastReadAt, long CreatedAt);

/// <summary>The outcome of one archival run. <see cref="Missing"/>: digests a version references that the blob store did not have (see 'lineage verify').</summary>
public sealed record ArchiveReport(bool DryRun, string Location, IReadOnlyList<ArchivedVersion> Versions, int Blobs, long Bytes, IReadOnlyList<string> Missing);

public sealed record RestoreReport(string Project, string Name, long Version, int Blobs, long Bytes, IReadOnlyList<string> Locations);

/// <summary>Where an archived blob went, and one version that uses it (for the 409's restore hint).</summary>
public sealed record ArchivedBlob(string Digest, long Size, string Location, long ArchivedAt, string? Project, string? Name, long? Version);

/// <summary>
/// Archival to cold storage (issue 13): moves the content of versions nobody read (nor registered) for a while from the
/// blob store to an archive location (a second bucket/prefix or a folder, itself an <see cref="IBlobStore"/>), and brings
/// it back. Version rows, digests and lineage never change; only where the bytes live does, recorded in
/// <c>archived_blobs</c>.
/// </summary>
/// <remarks>
/// <para>A blob is archived only when every non-purged version using it qualifies (older than the cut-off, of the type
/// asked, not held by an alias or a registered model version) and no MLflow proxy file uses it, and when it was not read
/// since the cut-off (<c>blob_reads</c>, written by <see cref="ReadTracker"/>).</para>
/// <para>Order per batch: copy to the archive (the archive store re-hashes while writing, so a corrupt copy is refused),
/// record in <c>archived_blobs</c>, then delete from the blob store. A crash after the copy leaves an unrecorded copy in
/// the archive (harmless; the next run copies again, deduplicated); after the record, the content is served from wherever
/// it still is. Restore copies back verifying the digest, removes the record, then the archive copy.</para>
/// </remarks>
public sealed class Archiver(Database db, IBlobStore blobs)
{
    private const int BatchSize = 500;

    public async Task<ArchiveReport> ArchiveAsync(ArchiveOptions options, IBlobStore archive, string actor, CancellationToken ct = default)
    {
        if (options.OlderThan < TimeSpan.Zero) throw LineageException.Invalid("older-than", "--older-than must not be negative");
        if (options.Type is not null) ArtifactRules.Type(options.Type, "type");
        if (SameStore(archive)) throw LineageException.Invalid("archive", $"the archive location {archive.Location} is the blob store itself");
        var cutoff = Clock.NowMs() - (long)options.OlderThan.TotalMilliseconds;
        var (candidates, versions) = await FindCandidatesAsync(cutoff, options.Type, ct);
        if (options.DryRun)
            return new ArchiveReport(true, archive.Location, versions, candidates.Count, candidates.Sum(c => c.Size), []);

        var missing = new List<string>();
        var archivedDigests = new HashSet<string>(StringComparer.Ordinal);
        long bytes = 0;
        foreach (var batch in candidates.Chunk(BatchSize))
        {
            var copied = new List<(string Digest, long Size)>();
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = ct }, async (c, token) =>
            {
                await using var content = await blobs.OpenReadAsync(c.Digest, token);
                if (content is null)
                {
                    lock (missing) missing.Add(c.Digest);
                    return;
                }
                var stored = await archive.PutAsync(content, c.Digest, ct: token);
                lock (copied) copied.Add((stored.Digest, stored.Size));
            });
            var now = Clock.NowMs();
            await db.WriteAsync(async s =>
            {
                await s.Connection.ExecuteAsync("""
                    INSERT INTO archived_blobs (digest, size, location, archived_at) VALUES (@Digest, @Size, @location, @now)
                    ON CONFLICT (digest) DO NOTHING
                    """, copied.Select(c => new { c.Digest, c.Size, location = archive.Location, now }), s.Transaction);
                return 0;
            }, ct: ct);
            await Parallel.ForEachAsync(copied, new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = ct },
                async (c, token) => await blobs.DeleteAsync(c.Digest, token));
            foreach (var c in copied)
            {
                archivedDigests.Add(c.Digest);
                bytes += c.Size;
            }
        }
        var done = missing.Count == 0 ? versions : await VersionsUsingAsync(archivedDigests, ct);
        await new AuditLog(db).AppendAsync(new AuditRecord(actor, null, "artifacts.archive", $"archive:{archive.Location}", 200,
            JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["olderThanDays"] = options.OlderThan.TotalDays, ["type"] = options.Type, ["versions"] = done.Count,
                ["blobs"] = archivedDigests.Count, ["bytes"] = bytes, ["missing"] = missing.Count,
            })));
        return new ArchiveReport(false, archive.Location, done, archivedDigests.Count, bytes, missing);
    }

    /// <summary>
    /// Brings back the archived content of one version, verified by digest as it is written into the blob store.
    /// <paramref name="openArchive"/> opens the location recorded for each blob (or the one the caller overrides it with).
    /// </summary>
    public async Task<RestoreReport> RestoreAsync(string? project, string name, VersionRef reference, Func<string, Task<IBlobStore>> openArchive,
        string actor, int parallelism = 16, CancellationToken ct = default)
    {
        var artifacts = new ArtifactStore(db, blobs);
        var version = await artifacts.GetAsync(project, name, reference);
        if (version.Lifecycle == VersionLifecycle.Purged)
            throw LineageException.NotFound($"version {version.Version} of '{version.Name}' was purged by gc; its content is gone");
        var digests = version.Kind switch
        {
            ArtifactKind.File => [version.Digest],
            ArtifactKind.Directory => (await artifacts.ManifestAsync(version.Id)).Select(f => f.Digest).Distinct().ToList(),
            _ => throw LineageException.Invalid("version", $"version {version.Version} of '{version.Name}' is an external reference; Lineage holds no content for it"),
        };
        var archived = await FindAsync(digests, ct);
        if (archived.Count == 0)
            throw LineageException.Invalid("version", $"version {version.Version} of '{version.Name}' is not archived; its content is in {blobs.Location}");

        var stores = new Dictionary<string, IBlobStore>();
        try
        {
            foreach (var location in archived.Select(a => a.Location).Distinct()) stores[location] = await openArchive(location);
            await Parallel.ForEachAsync(archived, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = ct }, async (a, token) =>
            {
                await using var content = await stores[a.Location].OpenReadAsync(a.Digest, token)
                    ?? throw new LineageException(ErrorCode.Unavailable,
                        $"archived content sha256:{a.Digest} is not in the archive {stores[a.Location].Location}; nothing was restored for it");
                await blobs.PutAsync(content, a.Digest, ct: token); // re-hashed: a damaged archive copy is refused (400), the record stays
            });
            await db.WriteAsync(async s =>
            {
                await s.Connection.ExecuteAsync($"DELETE FROM archived_blobs WHERE {s.Dialect.InSet("digest", "digests")}",
                    new { digests = s.Dialect.Set(archived.Select(a => a.Digest)) }, s.Transaction);
                await AuditLog.AppendAsync(s, new AuditRecord(actor, null, "artifacts.restore", $"artifact:{version.Project}/{version.Name}@{version.Version}", 200,
                    JsonSerializer.Serialize(new Dictionary<string, object> { ["blobs"] = archived.Count, ["bytes"] = archived.Sum(a => a.Size) })));
                return 0;
            }, ct: ct);
            // The archive copy goes only when no other archived version still needs it.
            var stillArchived = await FindAsync(archived.Select(a => a.Digest).ToList(), ct);
            foreach (var a in archived.Where(a => stillArchived.All(s => s.Digest != a.Digest)))
                await stores[a.Location].DeleteAsync(a.Digest, ct);
        }
        finally
        {
            foreach (var store in stores.Values) (store as IDisposable)?.Dispose();
        }
        return new RestoreReport(version.Project, version.Name, version.Version, archived.Count, archived.Sum(a => a.Size),
            archived.Select(a => a.Location).Distinct().ToList());
    }

    /// <summary>The archived ones among <paramref name="digests"/>, each with one version using it (for the restore hint).</summary>
    public Task<IReadOnlyList<ArchivedBlob>> FindAsync(IReadOnlyCollection<string> digests, CancellationToken ct = default) =>
        FindAsync(db, digests, ct);

    public static Task<IReadOnlyList<ArchivedBlob>> FindAsync(Database db, IReadOnlyCollection<string> digests, CancellationToken ct = default) =>
        db.ReadAsync<IReadOnlyList<ArchivedBlob>>(async s => (await s.Connection.QueryAsync<ArchivedRow>($"""
            SELECT a.digest, a.size, a.location, a.archived_at, p.name AS project, n.name, v.version
            FROM archived_blobs a
            LEFT JOIN artifact_versions v ON v.id = (SELECT MIN(u.id) FROM (
                SELECT x.id FROM artifact_versions x WHERE x.digest = a.digest AND x.kind = 'file'
                UNION ALL SELECT f.version_id FROM artifact_files f WHERE f.digest = a.digest) u)
            LEFT JOIN artifact_names n ON n.id = v.name_id LEFT JOIN projects p ON p.id = n.project_id
            WHERE {s.Dialect.InSet("a.digest", "digests")}
            """, new { digests = s.Dialect.Set(digests) }, s.Transaction)).Select(r => r.ToModel()).ToList(), ct);

    private bool SameStore(IBlobStore archive) =>
        string.Equals(archive.Location.TrimEnd('/'), blobs.Location.TrimEnd('/'), StringComparison.Ordinal);

    /// <summary>Blobs whose every user qualifies, and the versions using them; one read transaction.</summary>
    private Task<(List<(string Digest, long Size)> Blobs, IReadOnlyList<ArchivedVersion> Versions)> FindCandidatesAsync(long cutoff, string? type,
        CancellationToken ct) =>
        db.ReadAsync(async s =>
        {
            var typeOk = type is null ? "1 = 1" : "r.type = @type";
            var blobsFound = (await s.Connection.QueryAsync<(string Digest, long Size)>($"""
                WITH refs AS (
                    SELECT v.id, v.name_id, v.version, v.digest, v.size, v.type, v.created_at FROM artifact_versions v
                    WHERE v.kind = 'file' AND v.lifecycle <> 'purged'
                    UNION ALL
                    SELECT v.id, v.name_id, v.version, f.digest, f.size, v.type, v.created_at FROM artifact_files f
                    JOIN artifact_versions v ON v.id = f.version_id WHERE v.lifecycle <> 'purged'
                )
                SELECT r.digest, MAX(r.size) AS size FROM refs r
                WHERE NOT EXISTS (SELECT 1 FROM archived_blobs a WHERE a.digest = r.digest)
                GROUP BY r.digest
                HAVING MAX(r.created_at) < @cutoff
                   AND COALESCE((SELECT b.last_read_at FROM blob_reads b WHERE b.digest = r.digest), 0) < @cutoff
                   AND NOT EXISTS (SELECT 1 FROM proxy_files pf WHERE pf.digest = r.digest)
                   AND SUM(CASE WHEN {typeOk}
                                 AND NOT EXISTS (SELECT 1 FROM artifact_aliases al WHERE al.name_id = r.name_id AND al.version = r.version)
                                 AND NOT EXISTS (SELECT 1 FROM model_versions mv WHERE mv.artifact_id = r.id OR mv.feature_set_id = r.id)
                            THEN 0 ELSE 1 END) = 0
                ORDER BY r.digest
                """, new { cutoff, type }, s.Transaction)).ToList();
            return (blobsFound, await VersionsUsingAsync(s, blobsFound.Select(b => b.Digest).ToList()));
        }, ct);

    private Task<IReadOnlyList<ArchivedVersion>> VersionsUsingAsync(IReadOnlyCollection<string> digests, CancellationToken ct) =>
        db.ReadAsync(s => VersionsUsingAsync(s, digests), ct);

    private static async Task<IReadOnlyList<ArchivedVersion>> VersionsUsingAsync(DbSession s, IReadOnlyCollection<string> digests)
    {
        if (digests.Count == 0) return [];
        var set = s.Dialect.Set(digests);
        var rows = await s.Connection.QueryAsync<VersionRow>($"""
            SELECT p.name AS project, n.name, v.version, v.type, u.size, v.created_at, u.digest
            FROM (SELECT v.id AS version_id, v.digest, v.size FROM artifact_versions v
                  WHERE v.kind = 'file' AND v.lifecycle <> 'purged' AND {s.Dialect.InSet("v.digest", "digests")}
                  UNION ALL
                  SELECT f.version_id, f.digest, f.size FROM artifact_files f JOIN artifact_versions v ON v.id = f.version_id
                  WHERE v.lifecycle <> 'purged' AND {s.Dialect.InSet("f.digest", "digests")}) u
            JOIN artifact_versions v ON v.id = u.version_id JOIN artifact_names n ON n.id = v.name_id JOIN projects p ON p.id = n.project_id
            """, new { digests = set }, s.Transaction);
        var reads = (await s.Connection.QueryAsync<(string Digest, long At)>(
                $"SELECT digest, last_read_at FROM blob_reads WHERE {s.Dialect.InSet("digest", "digests")}", new { digests = set }, s.Transaction))
            .ToDictionary(r => r.Digest, r => r.At);
        return rows.GroupBy(r => (r.Project, r.Name, r.Version))
            .Select(g => new ArchivedVersion(g.Key.Project, g.Key.Name, g.Key.Version, g.First().Type, g.Sum(r => r.Size),
                g.Select(r => reads.TryGetValue(r.Digest, out var at) ? at : (long?)null).Max(), g.First().CreatedAt))
            .OrderBy(v => v.Project, StringComparer.Ordinal).ThenBy(v => v.Name, StringComparer.Ordinal).ThenBy(v => v.Version)
            .ToList();
    }

    private sealed class VersionRow
    {
        public string Project { get; set; } = "";
        public string Name { get; set; } = "";
        public long Version { get; set; }
        public string Type { get; set; } = "";
        public long Size { get; set; }
        public long CreatedAt { get; set; }
        public string Digest { get; set; } = "";
    }

    private sealed class ArchivedRow
    {
        public string Digest { get; set; } = "";
        public long Size { get; set; }
        public string Location { get; set; } = "";
        public long ArchivedAt { get; set; }
        public string? Project { get; set; }
        public string? Name { get; set; }
        public long? Version { get; set; }

        public ArchivedBlob ToModel() => new(Digest, Size, Location, ArchivedAt, Project, Name, Version);
    }
}
