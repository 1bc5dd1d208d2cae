using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Storage.Blobs;
using Lineage.Core.Events;
using Lineage.Storage.Engine;
using Lineage.Storage.Events;
using Lineage.Storage.Lineage;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Artifacts;

/// <summary>
/// Versioned, immutable artifacts over a content-addressed <see cref="IBlobStore"/>. Each public
/// method is one transaction. Content and metadata of a version never change; description, tags,
/// aliases and lifecycle may, and every such change is recorded with who and when.
/// Errors: unknown name/version/alias → RESOURCE_DOES_NOT_EXIST naming what exists; bad input,
/// missing blobs → INVALID_PARAMETER_VALUE; deleting a version an alias points to → CONFLICT.
/// Thread-safe.
/// </summary>
public sealed class ArtifactStore(Database db, IBlobStore blobs)
{
    public Database Database => db;

    public IBlobStore Blobs => blobs;

    /// <summary>Registers the next version of (project, name). Uploaded content must already be in the blob store.</summary>
    public async Task<ArtifactVersion> RegisterAsync(ArtifactRegistration r)
    {
        var project = r.Project ?? OperationContext.DefaultProject;
        ArtifactRules.Name(r.Name);
        ArtifactRules.Type(r.Type);
        var metadata = ArtifactRules.Metadata(r.Metadata);
        Validate.Text(r.Description, "description", Limits.MaxDescriptionLength, required: false);
        var tags = (r.Tags ?? new Dictionary<string, string>()).Select(t =>
        {
            Validate.Key(t.Key, $"tags.{t.Key}");
            Validate.Text(t.Value, $"tags.{t.Key}", Limits.MaxTagValueLength);
            return t;
        }).ToList();
        var runId = r.RunId is null ? null : Validate.RunId(r.RunId, "runId");
        var (kind, digest, size, uri, files) = CheckContent(r.Content);
        // Outside the transaction: the blob store may be remote (S3), and no version is registered without its bytes.
        if (kind == ArtifactKind.File) await RequireBlobAsync(digest, size, "digest");
        else if (kind == ArtifactKind.Directory) await RequireBlobsAsync(files);

        return await db.WriteAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project);
            long? producer = null;
            if (runId is not null)
                producer = (await RunAccess.RequireActiveAsync(s, runId, "register an artifact from the run")).Id;
            var now = Clock.NowMs();
            var name = await ArtifactAccess.NextVersionAsync(s, p.Id, r.Name);
            var id = await ArtifactAccess.InsertVersionAsync(s, name.Id, name.LatestVersion, r.Type, kind, digest, size, uri, metadata,
                r.Description, producer, s.Actor, now);
            await ArtifactAccess.InsertFilesAsync(s, id, files);
            foreach (var (key, value) in tags) await ArtifactAccess.SetTagAsync(s, id, key, value);
            // Registered from a run: the run's execution produced it (lineage captured without asking).
            if (producer is { } runRow) await LineageAccess.RecordRunOutputAsync(s, runRow, id, now);
            await EventOutbox.AppendAsync(s, EventTypes.ArtifactVersionCreated, p.Id, $"artifact_version:{project}/{r.Name}/{name.LatestVersion}",
                new { artifactVersionId = id, name = r.Name, version = name.LatestVersion, type = r.Type, digest, size, runId });
            // Built from what was just written (a new version has no aliases yet): no read-back on the hot path.
            var shown = s.Fields.ShowMetadata(s, name.Id, name.LatestVersion, $"artifact {project}/{r.Name} v{name.LatestVersion}", metadata);
            s.OnCommitted(() => db.Metrics.Ingested("artifact_versions", 1));
            return new ArtifactVersion(id, project, r.Name, name.LatestVersion, r.Type, kind, digest, size, uri, shown, r.Description,
                tags.ToDictionary(t => t.Key, t => t.Value), [], runId, VersionLifecycle.Active, now, s.Actor, files.Count);
        }, keyed: true);
    }

    private (ArtifactKind, string Digest, long Size, string? Uri, IReadOnlyList<ManifestEntry> Files) CheckContent(ArtifactContent content)
    {
        switch (content)
        {
            case ArtifactContent.File f:
            {
                var digest = Digests.Normalize(f.Digest, "digest");
                return (ArtifactKind.File, digest, f.Size, null, []);
            }
            case ArtifactContent.Directory d:
            {
                if (d.Files.Count > ArtifactRules.MaxFilesPerDirectory)
                    throw LineageException.Invalid("files", $"a directory artifact holds at most {ArtifactRules.MaxFilesPerDirectory:N0} files");
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var files = new List<ManifestEntry>(d.Files.Count);
                for (var i = 0; i < d.Files.Count; i++)
                {
                    var path = Manifests.SafePath(d.Files[i].Path, $"files[{i}].path");
                    if (!seen.Add(path)) throw LineageException.Invalid($"files[{i}].path", $"path '{path}' appears twice");
                    var digest = Digests.Normalize(d.Files[i].Digest, $"files[{i}].digest");
                    files.Add(new ManifestEntry(path, digest, d.Files[i].Size));
                }
                // A path that is also a folder of another path cannot be materialized as a tree.
                foreach (var f in files)
                    for (var cut = f.Path.LastIndexOf('/'); cut > 0; cut = f.Path.LastIndexOf('/', cut - 1))
                        if (seen.Contains(f.Path[..cut]))
                            throw LineageException.Invalid("files", $"'{f.Path[..cut]}' is both a file and a folder");
                return (ArtifactKind.Directory, Manifests.Digest(files), files.Sum(f => f.Size), null, files);
            }
            case ArtifactContent.External e:
            {
                if (!Uri.TryCreate(e.Uri, UriKind.Absolute, out var uri) || uri.Scheme.Length < 2)
                    throw LineageException.Invalid("externalUri", $"'externalUri' must be an absolute URI such as s3://bucket/key, got '{Validate.Shorten(e.Uri ?? "")}'");
                if (e.Size < 0) throw LineageException.Invalid("size", "'size' must not be negative");
                return (ArtifactKind.External, Digests.Normalize(e.Digest, "digest"), e.Size, e.Uri, []);
            }
            default:
                throw LineageException.Invalid("content", "an artifact needs uploaded content or an external reference");
        }
    }

    /// <summary>Every file's content must be stored with its size; distinct digests are checked 16 at a time (HEADs on S3).</summary>
    private async Task RequireBlobsAsync(IReadOnlyList<ManifestEntry> files)
    {
        var fields = files.Select((f, i) => (f.Digest, f.Size, Field: $"files[{i}].digest")).DistinctBy(f => (f.Digest, f.Size)).ToList();
        await Parallel.ForEachAsync(fields, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (f, _) => await RequireBlobAsync(f.Digest, f.Size, f.Field));
    }

    private async Task RequireBlobAsync(string digest, long size, string field)
    {
        var stored = await blobs.SizeOfAsync(digest);
        if (stored is null)
            throw LineageException.Invalid(field, $"no uploaded content has digest {digest}; upload it first (PUT /api/v1/blobs)");
        if (stored != size)
            throw LineageException.Invalid(field, $"content {digest} is {stored} bytes, not {size}");
    }

    public Task<ArtifactVersion> GetAsync(string? project, string name, VersionRef reference) =>
        db.ReadAsync(async s => (await ArtifactAccess.LoadAsync(s, [await ResolveAsync(s, project, name, reference)]))[0]);

    public Task<ArtifactVersion> GetByIdAsync(long id) =>
        db.ReadAsync(async s => (await ArtifactAccess.LoadAsync(s,
            [await ArtifactAccess.FindByIdAsync(s, id) ?? throw LineageException.NotFound($"artifact version with id {id} does not exist")]))[0]);

    /// <summary>The files of a directory version (empty for files and external references).</summary>
    public Task<IReadOnlyList<ManifestEntry>> ManifestAsync(long versionId) => db.ReadAsync(s => ArtifactAccess.FilesAsync(s, versionId));

    public Task<Page<ArtifactVersion>> ListAsync(ArtifactQuery query)
    {
        Validate.PageSize(query.Limit);
        if (query.Name is not null) ArtifactRules.Name(query.Name);
        if (query.Type is not null) ArtifactRules.Type(query.Type);
        var before = PageToken.DecodeOne(query.PageToken);
        return db.ReadAsync(async s =>
        {
            long? projectId = query.Project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, query.Project)).Id;
            var rows = await ArtifactAccess.ListAsync(s, query, projectId, before);
            var page = rows.Take(query.Limit).ToList();
            return new Page<ArtifactVersion>(await ArtifactAccess.LoadAsync(s, page), rows.Count > query.Limit ? PageToken.Encode(page[^1].Id) : null);
        });
    }

    /// <summary>Points <paramref name="alias"/> at a version (moving it if it pointed elsewhere); the move is kept in history.</summary>
    public Task<ArtifactVersion> SetAliasAsync(string? project, string name, string alias, long version)
    {
        ArtifactRules.Alias(alias);
        return db.WriteAsync(async s =>
        {
            var row = await ResolveAsync(s, project, name, new VersionRef(version, null));
            if (row.Lifecycle != "active")
                throw LineageException.Invalid("version", $"version {version} of '{name}' is {row.Lifecycle}; an alias must point to an active version");
            if (await ArtifactAccess.AliasVersionAsync(s, row.NameId, alias) is var from && from != version)
            {
                await ArtifactAccess.MoveAliasAsync(s, row.NameId, alias, version, s.Actor);
                await EventOutbox.AppendAsync(s, EventTypes.ArtifactAliasMoved, EventProject.Named(row.Project), $"artifact:{row.Project}/{name}",
                    new { name, alias, fromVersion = from, toVersion = version });
            }
            return (await ArtifactAccess.LoadAsync(s, [row]))[0];
        }, keyed: true);
    }

    public Task<bool> DeleteAliasAsync(string? project, string name, string alias)
    {
        ArtifactRules.Alias(alias);
        return db.WriteAsync(async s =>
        {
            var nameRow = await RequireNameAsync(s, project, name);
            if (await ArtifactAccess.AliasVersionAsync(s, nameRow.Id, alias) is not { } from)
                throw await AliasMissingAsync(s, nameRow.Id, name, alias);
            await ArtifactAccess.MoveAliasAsync(s, nameRow.Id, alias, null, s.Actor);
            var projectName = project ?? OperationContext.DefaultProject;
            await EventOutbox.AppendAsync(s, EventTypes.ArtifactAliasMoved, EventProject.Named(projectName), $"artifact:{projectName}/{name}",
                new { name, alias, fromVersion = from, toVersion = (long?)null });
            return true;
        }, keyed: true);
    }

    public Task<IReadOnlyList<AliasChange>> AliasHistoryAsync(string? project, string name, string? alias) =>
        db.ReadAsync(async s => await ArtifactAccess.AliasHistoryAsync(s, (await RequireNameAsync(s, project, name)).Id, alias));

    public Task<ArtifactVersion> SetDescriptionAsync(string? project, string name, long version, string? description)
    {
        Validate.Text(description, "description", Limits.MaxDescriptionLength, required: false);
        return Edit(project, name, version, async (s, row) =>
        {
            if (row.Description == description) return;
            await ArtifactAccess.SetDescriptionAsync(s, row.Id, description);
            await ArtifactAccess.RecordEditAsync(s, row.Id, "description", row.Description, description, s.Actor);
        });
    }

    public Task<ArtifactVersion> SetTagAsync(string? project, string name, long version, string key, string value)
    {
        Validate.Key(key, "key");
        Validate.Text(value, "value", Limits.MaxTagValueLength);
        return Edit(project, name, version, async (s, row) =>
        {
            var old = await ArtifactAccess.TagValueAsync(s, row.Id, key);
            if (old == value) return;
            await ArtifactAccess.SetTagAsync(s, row.Id, key, value);
            await ArtifactAccess.RecordEditAsync(s, row.Id, $"tags.{key}", old, value, s.Actor);
        });
    }

    public Task<ArtifactVersion> DeleteTagAsync(string? project, string name, long version, string key) =>
        Edit(project, name, version, async (s, row) =>
        {
            var old = await ArtifactAccess.TagValueAsync(s, row.Id, key)
                      ?? throw LineageException.NotFound($"version {version} of '{name}' has no tag '{key}'");
            await ArtifactAccess.DeleteTagAsync(s, row.Id, key);
            await ArtifactAccess.RecordEditAsync(s, row.Id, $"tags.{key}", old, null, s.Actor);
        });

    /// <summary>Soft delete: the version disappears from "latest" and listings but can be restored until gc purges it.</summary>
    public Task<ArtifactVersion> DeleteVersionAsync(string? project, string name, long version) =>
        Edit(project, name, version, async (s, row) =>
        {
            if (row.Lifecycle != "active") return;
            var aliases = await ArtifactAccess.AliasesOfAsync(s, row.NameId, row.Version);
            if (aliases.Count > 0)
                throw LineageException.Conflict(
                    $"version {version} of '{name}' holds alias{(aliases.Count > 1 ? "es" : "")} {string.Join(", ", aliases.Select(a => $"'{a}'"))}; move or delete the alias first");
            if (await ArtifactAccess.ModelVersionsUsingAsync(s, row.Id) is { Count: > 0 } models)
                throw LineageException.Conflict(
                    $"version {version} of '{name}' is registered as {string.Join(", ", models)}; a registered model version keeps its artifact");
            await ArtifactAccess.SetLifecycleAsync(s, row.Id, "active", "deleted", Clock.NowMs());
            await ArtifactAccess.RecordEditAsync(s, row.Id, "lifecycle", "active", "deleted", s.Actor);
            await EventOutbox.AppendAsync(s, EventTypes.ArtifactVersionDeleted, EventProject.Named(row.Project), $"artifact_version:{row.Project}/{name}/{version}",
                new { artifactVersionId = row.Id, name, version });
        });

    public Task<ArtifactVersion> RestoreVersionAsync(string? project, string name, long version) =>
        Edit(project, name, version, async (s, row) =>
        {
            if (row.Lifecycle == "purged")
                throw LineageException.Invalid("version", $"version {version} of '{name}' was purged by gc; its content is gone and it cannot be restored");
            if (row.Lifecycle != "deleted") return;
            await ArtifactAccess.SetLifecycleAsync(s, row.Id, "deleted", "active", null);
            await ArtifactAccess.RecordEditAsync(s, row.Id, "lifecycle", "deleted", "active", s.Actor);
            await EventOutbox.AppendAsync(s, EventTypes.ArtifactVersionRestored, EventProject.Named(row.Project), $"artifact_version:{row.Project}/{name}/{version}",
                new { artifactVersionId = row.Id, name, version });
        });

    public Task<IReadOnlyList<ArtifactEdit>> EditsAsync(string? project, string name, long version) =>
        db.ReadAsync(async s => await ArtifactAccess.EditsAsync(s, (await ResolveAsync(s, project, name, new VersionRef(version, null))).Id));

    private Task<ArtifactVersion> Edit(string? project, string name, long version, Func<DbSession, VersionRow, Task> change) =>
        db.WriteAsync(async s =>
        {
            var row = await ResolveAsync(s, project, name, new VersionRef(version, null));
            await change(s, row);
            return (await ArtifactAccess.LoadAsync(s, [(await ArtifactAccess.FindByIdAsync(s, row.Id))!]))[0];
        }, keyed: true);

    private static async Task<NameRow> RequireNameAsync(DbSession s, string? project, string name)
    {
        project ??= OperationContext.DefaultProject;
        ArtifactRules.Name(name);
        var p = await ExperimentAccess.RequireProjectAsync(s, project);
        return await ArtifactAccess.FindNameAsync(s, p.Id, name) ?? throw ArtifactAccess.NameNotFound(project, name);
    }

    /// <summary>Finds a version or explains the miss with what does exist.</summary>
    private static async Task<VersionRow> ResolveAsync(DbSession s, string? project, string name, VersionRef reference)
    {
        var nameRow = await RequireNameAsync(s, project, name);
        var row = await ArtifactAccess.FindAsync(s, nameRow.Id, reference);
        if (row is not null) return row;
        if (reference.Alias is { } alias) throw await AliasMissingAsync(s, nameRow.Id, name, alias);
        var latest = await ArtifactAccess.LatestActiveVersionAsync(s, nameRow.Id);
        var exists = latest is null ? "it has no active version" : $"latest is {latest}";
        throw LineageException.NotFound(reference.Number is { } n
            ? $"version {n} of '{name}' not found; {exists}"
            : $"'{name}' has no active version (all {nameRow.LatestVersion} are deleted)");
    }

    private static async Task<LineageException> AliasMissingAsync(DbSession s, long nameId, string name, string alias)
    {
        var aliases = await ArtifactAccess.AliasNamesAsync(s, nameId);
        return LineageException.NotFound(
            $"alias '{alias}' of '{name}' not found; {(aliases.Count == 0 ? "it has no aliases" : "aliases: " + string.Join(", ", aliases))}");
    }
}
