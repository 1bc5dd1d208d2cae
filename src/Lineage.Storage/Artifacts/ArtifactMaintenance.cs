using System.Security.Cryptography;
using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Artifacts;

public sealed record VersionName(string Project, string Name, long Version, string Reason);

public sealed record GcOptions(bool DryRun = false, TimeSpan? PurgeAfter = null, TimeSpan? UploadGrace = null)
{
    /// <summary>Deleted versions stay restorable this long before gc frees their content.</summary>
    public TimeSpan PurgeAfterOrDefault => PurgeAfter ?? TimeSpan.FromDays(7);

    /// <summary>Unreferenced blobs younger than this may belong to a registration in flight.</summary>
    public TimeSpan UploadGraceOrDefault => UploadGrace ?? TimeSpan.FromHours(1);
}

public sealed record GcReport(bool DryRun, IReadOnlyList<VersionName> RetentionDeleted, IReadOnlyList<VersionName> Purged,
    IReadOnlyList<BlobInfo> FreedBlobs)
{
    public long FreedBytes => FreedBlobs.Sum(b => b.Size);
}

public sealed record BlobProblem(string Digest, string Problem, IReadOnlyList<string> UsedBy);

public sealed record VerifyReport(long BlobsChecked, long BytesChecked, IReadOnlyList<BlobProblem> Problems);

public sealed record StorageStats(long MetadataBytes, long ArtifactBytes, long Blobs, long Versions, long LogicalBytes)
{
    /// <summary>Metadata as a share of all storage; the users' rule of thumb is under 5 %.</summary>
    public double MetadataShare => MetadataBytes + ArtifactBytes == 0 ? 0 : (double)MetadataBytes / (MetadataBytes + ArtifactBytes);
}

/// <summary>
/// Retention policies, garbage collection, integrity checks and storage accounting for artifacts.
/// gc never removes a version an alias points to, nor one a registered model version (and so a deployment) or
/// its feature set references (counted with the aliases as "holders"); it soft-deletes versions outside their policy,
/// purges versions deleted longer ago than the purge delay (the row stays for lineage, the content
/// goes), and frees blobs no surviving version references.
/// </summary>
public sealed class ArtifactMaintenance(Database db, IBlobStore blobs)
{
    public const string GcUser = "lineage-gc";

    public Task<RetentionPolicy> SetPolicyAsync(string? project, string scope, string target, int? keepLast, int? keepDays)
    {
        project ??= OperationContext.DefaultProject;
        if (scope is not ("name" or "type")) throw LineageException.Invalid("scope", "'scope' must be 'name' or 'type'");
        if (scope == "name") ArtifactRules.Name(target, "target"); else ArtifactRules.Type(target, "target");
        if (keepLast is null && keepDays is null) throw LineageException.Invalid("keepLast", "give 'keepLast', 'keepDays' or both");
        if (keepLast is < 1) throw LineageException.Invalid("keepLast", "'keepLast' must be 1 or more");
        if (keepDays is < 1) throw LineageException.Invalid("keepDays", "'keepDays' must be 1 or more");
        return db.WriteAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project);
            await s.Connection.ExecuteAsync("""
                INSERT INTO retention_policies (project_id, scope, target, keep_last, keep_days, created_at)
                VALUES (@projectId, @scope, @target, @keepLast, @keepDays, @now)
                ON CONFLICT (project_id, scope, target) DO UPDATE SET keep_last = excluded.keep_last, keep_days = excluded.keep_days
                """, new { projectId = p.Id, scope, target, keepLast, keepDays, now = Clock.NowMs() }, s.Transaction);
            return new RetentionPolicy(project, scope, target, keepLast, keepDays);
        });
    }

    public Task<IReadOnlyList<RetentionPolicy>> ListPoliciesAsync() =>
        db.ReadAsync<IReadOnlyList<RetentionPolicy>>(async s => (await s.Connection.QueryAsync<PolicyRow>($"""
            SELECT p.name AS project, r.scope, r.target, r.keep_last, r.keep_days, r.project_id
            FROM retention_policies r JOIN projects p ON p.id = r.project_id WHERE 1 = 1{s.Visible("r.project_id")} ORDER BY p.name, r.scope, r.target
            """)).Select(r => r.ToModel()).ToList());

    public Task<bool> DeletePolicyAsync(string? project, string scope, string target) =>
        db.WriteAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project ?? OperationContext.DefaultProject);
            var n = await s.Connection.ExecuteAsync("DELETE FROM retention_policies WHERE project_id = @id AND scope = @scope AND target = @target",
                new { id = p.Id, scope, target }, s.Transaction);
            return n > 0 ? true : throw LineageException.NotFound($"no retention policy for {scope} '{target}' in project '{p.Name}'");
        });

    public async Task<GcReport> CollectAsync(GcOptions options, CancellationToken ct = default)
    {
        var now = Clock.NowMs();
        // 1 + 2. Retention and purge decisions, applied (or only listed) in one transaction.
        var (retention, purged) = await db.WriteAsync(async s =>
        {
            var policies = (await s.Connection.QueryAsync<PolicyRow>(
                "SELECT p.name AS project, r.scope, r.target, r.keep_last, r.keep_days, r.project_id FROM retention_policies r JOIN projects p ON p.id = r.project_id",
                transaction: s.Transaction)).ToList();
            var expired = new Dictionary<long, VersionName>();
            foreach (var policy in policies)
                foreach (var (id, name) in await OutsidePolicyAsync(s, policy, now))
                    expired.TryAdd(id, name);
            var toPurge = (await s.Connection.QueryAsync<CandidateRow>($"""
                {CandidateSelect} WHERE v.lifecycle = 'deleted' AND v.deleted_at < @cutoff
                  AND NOT EXISTS (SELECT 1 FROM model_versions mv WHERE mv.artifact_id = v.id OR mv.feature_set_id = v.id)
                """, new { cutoff = now - (long)options.PurgeAfterOrDefault.TotalMilliseconds }, s.Transaction)).ToList();
            if (!options.DryRun)
            {
                foreach (var id in expired.Keys)
                {
                    await ArtifactAccess.SetLifecycleAsync(s, id, "active", "deleted", now);
                    await ArtifactAccess.RecordEditAsync(s, id, "lifecycle", "active", "deleted", $"{GcUser} ({expired[id].Reason})");
                }
                foreach (var v in toPurge)
                {
                    await ArtifactAccess.SetLifecycleAsync(s, v.Id, "deleted", "purged", v.DeletedAt);
                    await ArtifactAccess.RecordEditAsync(s, v.Id, "lifecycle", "deleted", "purged", GcUser);
                }
            }
            return ((IReadOnlyList<VersionName>)expired.Values.ToList(),
                (IReadOnlyList<VersionName>)toPurge.Select(v => v.ToName("deleted longer ago than the purge delay")).ToList());
        }, ct: ct);

        // 3. Blobs referenced by no surviving version, older than the upload grace period.
        var referenced = await ReferencedDigestsAsync(options.DryRun ? purged : [], ct);
        var graceCutoff = DateTime.UtcNow - options.UploadGraceOrDefault;
        var freed = new List<BlobInfo>();
        // The write time comes from the store (file mtime, S3 LastModified or its touch marker), so the grace period
        // holds for uploads through any server sharing the store.
        await foreach (var blob in blobs.ListAsync(ct))
        {
            if (referenced.Contains(blob.Digest) || blob.LastWrittenUtc > graceCutoff) continue;
            freed.Add(blob.Info);
        }
        if (!options.DryRun)
        {
            // Re-check each blob against the database right before deleting: a registration may have just claimed it.
            var stillReferenced = await ReferencedDigestsAsync([], ct);
            freed = freed.Where(b => !stillReferenced.Contains(b.Digest)).ToList();
            foreach (var b in freed) await blobs.DeleteAsync(b.Digest, ct);
        }
        return new GcReport(options.DryRun, retention, purged, freed);
    }

    /// <summary>
    /// Checks that every blob a version references is present with the recorded size (one listing of the store), and with
    /// <paramref name="deep"/> re-hashes every present blob. Null: the store's default (<see cref="IBlobStore.RehashByDefault"/>:
    /// a local folder re-hashes, an object store does not read every byte unless asked).
    /// </summary>
    public async Task<VerifyReport> VerifyAsync(IProgress<(long Done, long Total)>? progress = null, bool? deep = null, CancellationToken ct = default)
    {
        var rehash = deep ?? blobs.RehashByDefault;
        var rows = await db.ReadAsync(async s => (await s.Connection.QueryAsync<(string Digest, long Size, string Name)>($"""
            SELECT v.digest, v.size, n.name || ' v' || CAST(v.version AS TEXT) FROM artifact_versions v JOIN artifact_names n ON n.id = v.name_id
            WHERE v.kind = 'file' AND v.lifecycle <> 'purged'
            UNION ALL
            SELECT f.digest, f.size, n.name || ' v' || CAST(v.version AS TEXT) || ':' || f.path FROM artifact_files f
            JOIN artifact_versions v ON v.id = f.version_id JOIN artifact_names n ON n.id = v.name_id WHERE v.lifecycle <> 'purged'
            """)).ToList(), ct);
        var users = rows.ToLookup(x => x.Digest, x => x.Name);
        var recordedSize = rows.GroupBy(r => r.Digest).ToDictionary(g => g.Key, g => g.First().Size);
        var present = new List<BlobInfo>();
        await foreach (var blob in blobs.ListAsync(ct)) present.Add(blob.Info);
        var total = rehash ? present.Sum(b => b.Size) : present.Count;
        var problems = new List<BlobProblem>();
        long done = 0, count = 0;
        var buffer = new byte[1 << 20];
        foreach (var blob in present)
        {
            ct.ThrowIfCancellationRequested();
            if (recordedSize.TryGetValue(blob.Digest, out var expected) && expected != blob.Size)
                problems.Add(new BlobProblem(blob.Digest, $"corrupt: {blob.Size:N0} bytes stored, {expected:N0} recorded", users[blob.Digest].ToList()));
            else if (rehash)
            {
                await using var stream = await blobs.OpenReadAsync(blob.Digest, ct);
                if (stream is null) continue; // deleted meanwhile
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                int read;
                while ((read = await stream.ReadAsync(buffer, ct)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    done += read;
                    progress?.Report((done, total));
                }
                var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (actual != blob.Digest)
                    problems.Add(new BlobProblem(blob.Digest, $"corrupt: content hashes to {actual}", users[blob.Digest].ToList()));
            }
            if (!rehash)
            {
                done++;
                progress?.Report((done, total));
            }
            count++;
        }
        var presentSet = present.Select(b => b.Digest).ToHashSet();
        // Content moved to cold storage by 'lineage archive' is absent here on purpose.
        presentSet.UnionWith(await db.ReadAsync(async s => (await s.Connection.QueryAsync<string>("SELECT digest FROM archived_blobs")).ToList(), ct));
        foreach (var group in users.Where(g => !presentSet.Contains(g.Key)))
            problems.Add(new BlobProblem(group.Key, "missing", group.ToList()));
        return new VerifyReport(count, rehash ? done : present.Sum(b => b.Size), problems);
    }

    public async Task<StorageStats> StatsAsync(CancellationToken ct = default)
    {
        var metadata = await db.SizeOnDiskAsync(ct);
        var present = new List<StoredBlob>();
        await foreach (var blob in blobs.ListAsync(ct)) present.Add(blob);
        var (versions, logical) = await db.ReadAsync(async s => await s.Connection.QuerySingleAsync<(long, long)>(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM artifact_versions WHERE lifecycle <> 'purged' AND kind <> 'external'"), ct);
        return new StorageStats(metadata, present.Sum(b => b.Size), present.Count, versions, logical);
    }

    private Task<HashSet<string>> ReferencedDigestsAsync(IReadOnlyList<VersionName> alsoGone, CancellationToken ct) =>
        db.ReadAsync(async s =>
        {
            var gone = alsoGone.Select(v => (v.Project, v.Name, v.Version)).ToHashSet();
            var rows = await s.Connection.QueryAsync<(string Digest, string Project, string Name, long Version)>("""
                SELECT v.digest, p.name, n.name, v.version FROM artifact_versions v
                JOIN artifact_names n ON n.id = v.name_id JOIN projects p ON p.id = n.project_id
                WHERE v.kind = 'file' AND v.lifecycle <> 'purged'
                UNION ALL
                SELECT f.digest, p.name, n.name, v.version FROM artifact_files f JOIN artifact_versions v ON v.id = f.version_id
                JOIN artifact_names n ON n.id = v.name_id JOIN projects p ON p.id = n.project_id
                WHERE v.lifecycle <> 'purged'
                UNION ALL
                SELECT digest, '', 'mlflow-artifacts', 0 FROM proxy_files
                """);
            return rows.Where(r => !gone.Contains((r.Project, r.Name, r.Version))).Select(r => r.Digest).ToHashSet();
        }, ct);

    private const string CandidateSelect = """
        SELECT v.id, p.name AS project, n.name, v.version, v.created_at, v.deleted_at,
               (SELECT COUNT(*) FROM artifact_aliases a WHERE a.name_id = v.name_id AND a.version = v.version)
               + (SELECT COUNT(*) FROM model_versions mv WHERE mv.artifact_id = v.id OR mv.feature_set_id = v.id) AS alias_count
        FROM artifact_versions v JOIN artifact_names n ON n.id = v.name_id JOIN projects p ON p.id = n.project_id
        """;

    /// <summary>Active versions a policy no longer keeps: beyond the newest N and older than D days, never alias holders.</summary>
    private static async Task<IEnumerable<(long Id, VersionName Name)>> OutsidePolicyAsync(DbSession s, PolicyRow policy, long now)
    {
        var column = policy.Scope == "name" ? "n.name" : "v.type"; // one of two constants
        var candidates = (await s.Connection.QueryAsync<CandidateRow>(
            $"{CandidateSelect} WHERE n.project_id = @ProjectId AND {column} = @Target AND v.lifecycle = 'active' ORDER BY n.name, v.version DESC",
            new { policy.ProjectId, policy.Target }, s.Transaction)).ToList();
        var result = new List<(long, VersionName)>();
        foreach (var perName in candidates.GroupBy(c => c.Name))
        {
            var rank = 0;
            foreach (var v in perName)
            {
                rank++;
                var keptByCount = policy.KeepLast is { } n && rank <= n;
                var keptByAge = policy.KeepDays is { } d && now - v.CreatedAt < d * 86_400_000L;
                if (keptByCount || keptByAge || v.AliasCount > 0) continue;
                result.Add((v.Id, v.ToName($"retention {policy.Scope} '{policy.Target}': keep last {policy.KeepLast?.ToString() ?? "-"}, younger than {policy.KeepDays?.ToString() ?? "-"} days")));
            }
        }
        return result;
    }

    private sealed class PolicyRow
    {
        public string Project { get; set; } = "";
        public string Scope { get; set; } = "";
        public string Target { get; set; } = "";
        public long? KeepLast { get; set; }
        public long? KeepDays { get; set; }
        public long ProjectId { get; set; }

        public RetentionPolicy ToModel() => new(Project, Scope, Target, (int?)KeepLast, (int?)KeepDays);
    }

    private sealed class CandidateRow
    {
        public long Id { get; set; }
        public string Project { get; set; } = "";
        public string Name { get; set; } = "";
        public long Version { get; set; }
        public long CreatedAt { get; set; }
        public long? DeletedAt { get; set; }
        public long AliasCount { get; set; }

        public VersionName ToName(string reason) => new(Project, Name, Version, reason);
    }
}
