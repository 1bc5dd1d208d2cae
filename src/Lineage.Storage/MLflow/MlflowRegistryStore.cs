using System.Security.Cryptography;
using System.Text;
using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Query;
using Lineage.Core.Registry;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Core.Events;
using Lineage.Storage.Engine;
using Lineage.Storage.Events;
using Lineage.Storage.Lineage;
using Lineage.Storage.Query;
using Lineage.Storage.Registry;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.MLflow;

/// <summary>A model version as MLflow shows it: the native version plus what the MLflow client gave.</summary>
/// <param name="Source">The source URI as given (runs:/…, mlflow-artifacts:/…); for a native version, its artifact's location.</param>
/// <param name="RunId">The run id as the client gave it ("" when none); for a native version, the linked run.</param>
public sealed record MlflowVersionView(ModelVersion Version, string Source, string RunId, string RunLink);

/// <summary>A registered model as MLflow shows it: the native model plus the latest version in each stage.</summary>
public sealed record MlflowModelView(RegisteredModel Model, IReadOnlyList<MlflowVersionView> LatestVersions);

/// <summary>
/// The model-registry operations MLflow's API needs beyond the native <see cref="RegistryStore"/>: versions created
/// from an MLflow source URI (linked to the run and to an artifact version in the lineage graph), rename,
/// delete, searches in the query language, MLflow's tolerant tag and alias deletes, and MLflow-shaped reads.
/// Writes that mean the same in both APIs (create model, description, tags, aliases, stages) go through
/// <see cref="RegistryStore"/>. Each public method is one transaction. Thread-safe.
/// <para>Errors: unknown model or version → RESOURCE_DOES_NOT_EXIST; a new name taken → RESOURCE_ALREADY_EXISTS;
/// a bad filter, order or page token → INVALID_PARAMETER_VALUE; deleting a model or version that is deployed → CONFLICT.</para>
/// </summary>
public sealed class MlflowRegistryStore(Database db)
{
    /// <summary>MLflow's limits: registered-model searches return 100 by default and at most 1,000; version searches 10,000 and 200,000.</summary>
    public const int DefaultModelResults = 100;
    public const int MaxModelResults = 1_000;
    public const int DefaultVersionResults = 10_000;
    public const int MaxVersionResults = 200_000;

    private const string ProxyScheme = "mlflow-artifacts:";

    // ---- registered models ------------------------------------------------------------------

    public Task<MlflowModelView> GetModelAsync(string name) =>
        db.ReadAsync(async s => (await ModelViewsAsync(s, [await RegistryAccess.RequireModelAsync(s, null, name)]))[0]);

    /// <summary>Renames a model; its versions, aliases and history follow (they hang off the model's id).</summary>
    public Task<bool> RenameModelAsync(string name, string newName)
    {
        RegistryRules.ModelName(newName, "new_name");
        return db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, null, name, lockRow: true);
            if (m.Name == newName) return true;
            var changed = await s.Connection.ExecuteAsync("""
                UPDATE registered_models SET name = @newName, updated_at = @now, updated_by = @by
                WHERE id = @Id AND NOT EXISTS (SELECT 1 FROM registered_models o WHERE o.project_id = @ProjectId AND o.name = @newName)
                """, new { m.Id, m.ProjectId, newName, now = Clock.NowMs(), by = s.Actor }, s.Transaction);
            if (changed == 0) throw LineageException.AlreadyExists($"Registered Model (name={newName}) already exists.");
            await s.Connection.ExecuteAsync("UPDATE model_versions SET updated_at = @now, updated_by = @by WHERE model_id = @Id",
                new { m.Id, now = Clock.NowMs(), by = s.Actor }, s.Transaction);
            return true;
        }, keyed: true);
    }

    /// <summary>
    /// Deletes a model with its versions, tags, aliases, approvers, history and promotion requests. The artifact
    /// versions stay (they are lineage); a model with deployments is refused (CONFLICT): retire and remove them first.
    /// </summary>
    public Task<bool> DeleteModelAsync(string name) =>
        db.WriteAsync(async s =>
        {
            await RegistryAccess.DeleteModelAsync(s, await RegistryAccess.RequireModelAsync(s, null, name, lockRow: true));
            return true;
        }, keyed: true);

    /// <summary>Deletes a model tag; a tag that is not there is fine (MLflow answers 200).</summary>
    public Task<bool> DeleteModelTagAsync(string name, string key) =>
        db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, null, name, lockRow: true);
            await s.Connection.ExecuteAsync("DELETE FROM registered_model_tags WHERE model_id = @Id AND key = @key", new { m.Id, key }, s.Transaction);
            return true;
        }, keyed: true);

    /// <summary>Registered models of the request's project matching the query; default order: name ascending.</summary>
    public Task<Page<MlflowModelView>> SearchModelsAsync(SearchQuery query, int? maxResults, string? pageToken)
    {
        var limit = CheckMax(maxResults, DefaultModelResults, MaxModelResults);
        var scope = $"registered-models|{query}";
        var offset = SearchToken.Decode(pageToken, scope);
        return db.ReadAsync(async s =>
        {
            var ids = await SearchIdsAsync(s, SearchTarget.RegisteredModels, query, "m.name ASC, m.id ASC", "m.id",
                "registered_models m", limit, offset);
            var page = ids.Take(limit).ToArray();
            var rows = (await s.Connection.QueryAsync<ModelRow>($"{RegistryAccess.SelectModel} WHERE {s.Dialect.InSet("m.id", "page")}", new { page = s.Dialect.Set(page) }, s.Transaction))
                .ToDictionary(r => r.Id);
            return new Page<MlflowModelView>(await ModelViewsAsync(s, page.Select(id => rows[id]).ToList()),
                ids.Count > limit ? SearchToken.Encode(offset + limit, scope) : null);
        });
    }

    /// <summary>The latest version in each of the given stages (all stages when none), by version number.</summary>
    public Task<IReadOnlyList<MlflowVersionView>> LatestVersionsAsync(string name, IReadOnlyList<string> stages)
    {
        var wanted = stages.Select(t => RegistryRules.StageText(RegistryRules.Stage(t, "stages"))).ToHashSet();
        return db.ReadAsync<IReadOnlyList<MlflowVersionView>>(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, null, name);
            var latest = await LatestRowsAsync(s, [m.Id]);
            return await VersionViewsAsync(s, latest.Where(r => wanted.Count == 0 || wanted.Contains(r.Stage)).OrderBy(r => r.Version).ToList());
        });
    }

    // ---- aliases ----------------------------------------------------------------------------

    /// <summary>The version an alias names; a missing alias is INVALID_PARAMETER_VALUE, as in MLflow.</summary>
    public Task<MlflowVersionView> GetByAliasAsync(string name, string alias) =>
        db.ReadAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, null, name);
            var row = await RegistryAccess.FindVersionAsync(s, m.Id, new VersionRef(null, alias))
                      ?? throw LineageException.Invalid("alias", $"Registered model alias {alias} not found.");
            return (await VersionViewsAsync(s, [row]))[0];
        });

    /// <summary>Removes an alias (recorded in the model's history); an alias that is not there is fine, as in MLflow.</summary>
    public Task<bool> DeleteAliasAsync(string name, string alias) =>
        db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, null, name, lockRow: true);
            var old = await RegistryAccess.AliasVersionAsync(s, m.Id, alias);
            if (old is null) return true;
            var approvers = await RegistryAccess.ApproversAsync(s, m.Id);
            if (approvers.Count > 0 && (s.Actor is null || !approvers.Contains(s.Actor)))
                throw new LineageException(ErrorCode.PermissionDenied, $"user '{s.Actor ?? "(anonymous)"}' may not move aliases of '{m.Name}': it needs the approver role");
            var now = Clock.NowMs();
            await RegistryAccess.MoveAliasAsync(s, m.Id, alias, null, s.Actor, now);
            await RegistryAccess.RecordChangeAsync(s, m.Id, "alias", alias, old, old.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), null,
                s.Actor, now, null);
            await EventOutbox.AppendAsync(s, EventTypes.ModelAliasMoved, m.ProjectId, $"registered_model:{m.Project}/{m.Name}",
                new { name = m.Name, alias, fromVersion = old, toVersion = (long?)null });
            return true;
        }, keyed: true);

    // ---- model versions ---------------------------------------------------------------------

    /// <summary>
    /// Creates the next version of a model from an MLflow source. A source inside this server's artifact proxy
    /// (<c>runs:/&lt;run&gt;/&lt;path&gt;</c> or <c>mlflow-artifacts:/…</c>) becomes a directory (or file) artifact version of type
    /// model over the files already stored there, produced by the run whose folder it is (an output edge of the
    /// run's execution); registering the same content from the same run again reuses that artifact version. Any
    /// other source becomes an external artifact pointing at the URI. The version links to the given run, else to
    /// the run of the source folder.
    /// </summary>
    public Task<long> CreateVersionAsync(string name, string source, string? runId, string? description, IReadOnlyList<KeyValue> tags,
        string? runLink)
    {
        Validate.Text(source, "source", 4000);
        Validate.NotSealedLooking(source, "source");
        Validate.Text(description, "description", Limits.MaxDescriptionLength, required: false);
        Validate.Text(runLink, "run_link", 4000, required: false);
        foreach (var t in tags)
        {
            Validate.Key(t.Key, "tags.key");
            Validate.Text(t.Value, "tags.value", Limits.MaxTagValueLength);
        }
        var givenRun = string.IsNullOrEmpty(runId) ? null : runId.ToLowerInvariant();
        return db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, null, name, lockRow: true);
            var now = Clock.NowMs();
            var linkedRun = givenRun is { Length: 32 } && givenRun.All(char.IsAsciiHexDigit) ? await RunAccess.FindAsync(s, givenRun) : null;
            var (folder, sourceRun) = await ProxyFolderAsync(s, source);
            var artifactId = await ModelArtifactAsync(s, m, source, folder, sourceRun ?? linkedRun, s.Actor, now);
            var version = await RegistryAccess.NextVersionAsync(s, m.Id, now);
            var id = await RegistryAccess.InsertVersionAsync(s, m.Id, version, artifactId, (linkedRun ?? sourceRun)?.Id, ModelVersionStatus.Ready,
                description, null, s.Actor, now);
            foreach (var t in tags) await RegistryAccess.SetVersionTagAsync(s, id, t.Key, t.Value);
            await s.Connection.ExecuteAsync(
                "INSERT INTO mlflow_model_versions (version_id, source, run_id, run_link) VALUES (@id, @source, @runId, @runLink)",
                new { id, source, runId = runId ?? "", runLink = runLink ?? "" }, s.Transaction);
            await EventOutbox.AppendAsync(s, EventTypes.ModelVersionCreated, m.ProjectId, $"model_version:{m.Project}/{m.Name}/{version}",
                RegistryEvents.VersionCreated(m.Name, version, (linkedRun ?? sourceRun)?.Uuid, source, description, tags.Select(t => KeyValuePair.Create(t.Key, t.Value)), s.Actor));
            return version;
        }, keyed: true);
    }

    public Task<MlflowVersionView> GetVersionAsync(string name, long version) =>
        db.ReadAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, null, name);
            return (await VersionViewsAsync(s, [await RequireVersionAsync(s, m, version)]))[0];
        });

    /// <summary>Deletes a version, its tags and the aliases naming it; the artifact version stays. A deployed version is refused (CONFLICT).</summary>
    public Task<bool> DeleteVersionAsync(string name, long version) =>
        db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, null, name, lockRow: true);
            await RegistryAccess.DeleteVersionAsync(s, m, await RequireVersionAsync(s, m, version));
            return true;
        }, keyed: true);

    /// <summary>Deletes a version tag; a tag that is not there is fine (MLflow answers 200).</summary>
    public Task<bool> DeleteVersionTagAsync(string name, long version, string key) =>
        db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, null, name);
            var row = await RequireVersionAsync(s, m, version);
            if (await s.Connection.ExecuteAsync("DELETE FROM model_version_tags WHERE version_id = @Id AND key = @key", new { row.Id, key }, s.Transaction) > 0)
                await EventOutbox.AppendAsync(s, EventTypes.ModelVersionTagDeleted, m.ProjectId, $"model_version:{m.Project}/{m.Name}/{version}",
                    new { name = m.Name, version = $"{version}", key });
            return true;
        }, keyed: true);

    /// <summary>Versions of the request's project matching the query; default order: last update newest first, then name, then version newest first.</summary>
    public Task<Page<MlflowVersionView>> SearchVersionsAsync(SearchQuery query, int? maxResults, string? pageToken)
    {
        var limit = CheckMax(maxResults, DefaultVersionResults, MaxVersionResults);
        var scope = $"model-versions|{query}";
        var offset = SearchToken.Decode(pageToken, scope);
        return db.ReadAsync(async s =>
        {
            var ids = await SearchIdsAsync(s, SearchTarget.ModelVersions, query, "mv.updated_at DESC, m.name ASC, mv.version DESC", "mv.id",
                "model_versions mv JOIN registered_models m ON m.id = mv.model_id LEFT JOIN mlflow_model_versions mx ON mx.version_id = mv.id LEFT JOIN runs mr ON mr.id = mv.run_id",
                limit, offset);
            var page = ids.Take(limit).ToArray();
            var rows = (await RowsByIdAsync(s, page)).ToDictionary(r => r.Id);
            return new Page<MlflowVersionView>(await VersionViewsAsync(s, page.Select(id => rows[id]).ToList()),
                ids.Count > limit ? SearchToken.Encode(offset + limit, scope) : null);
        });
    }

    /// <summary>The artifact-proxy folder a version's source names (for the UI's get-artifact); RESOURCE_DOES_NOT_EXIST when it is not served here.</summary>
    public Task<string> SourceFolderAsync(string name, long version) =>
        db.ReadAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, null, name);
            var view = (await VersionViewsAsync(s, [await RequireVersionAsync(s, m, version)]))[0];
            var (folder, _) = await ProxyFolderAsync(s, view.Source);
            return folder ?? throw LineageException.NotFound($"the source of version {version} of '{name}' ({view.Source}) is not served by this server");
        });

    // ---- internals --------------------------------------------------------------------------

    /// <summary>
    /// Ids of one search page plus one more (to tell whether a next page exists), in the request's project.
    /// <paramref name="from"/> names the registered model as <c>m</c>; the filter and order are parameterised SQL.
    /// </summary>
    private static async Task<List<long>> SearchIdsAsync(DbSession s, SearchTarget target, SearchQuery query, string defaultOrder, string id,
        string from, int limit, int offset)
    {
        var project = await ExperimentAccess.RequireProjectAsync(s, s.RequestProject);
        var sql = new FilterSql(target, s.Dialect);
        var where = sql.Where(query.Filter);
        var order = sql.OrderBy(query.OrderBy, defaultOrder);
        var p = sql.Parameters;
        p.Add("projectId", project.Id);
        p.Add("limit", limit + 1);
        p.Add("offset", offset);
        return (await s.Connection.QueryAsync<long>($"""
            SELECT {id} FROM {from}{sql.Joins}
            WHERE m.project_id = @projectId AND {where}
            ORDER BY {order}
            LIMIT @limit OFFSET @offset
            """, p, s.Transaction)).ToList();
    }

    private static async Task<IReadOnlyList<ModelVersionRow>> RowsByIdAsync(DbSession s, long[] ids) =>
        ids.Length == 0
            ? []
            : (await s.Connection.QueryAsync<ModelVersionRow>($"{RegistryAccess.SelectVersion} WHERE {s.Dialect.InSet("mv.id", "ids")}", new { ids = s.Dialect.Set(ids) }, s.Transaction))
            .ToList();

    /// <summary>For each model, the highest version in each stage (MLflow's latest_versions).</summary>
    private static async Task<IReadOnlyList<ModelVersionRow>> LatestRowsAsync(DbSession s, long[] modelIds) =>
        modelIds.Length == 0
            ? []
            : (await s.Connection.QueryAsync<ModelVersionRow>($"""
                {RegistryAccess.SelectVersion}
                WHERE {s.Dialect.InSet("mv.model_id", "modelIds")}
                  AND mv.version = (SELECT MAX(x.version) FROM model_versions x WHERE x.model_id = mv.model_id AND x.stage = mv.stage)
                ORDER BY mv.model_id, mv.version
                """, new { modelIds = s.Dialect.Set(modelIds) }, s.Transaction)).ToList();

    private static async Task<ModelVersionRow> RequireVersionAsync(DbSession s, ModelRow m, long version) =>
        await RegistryAccess.FindVersionAsync(s, m.Id, new VersionRef(version, null))
        ?? throw LineageException.NotFound($"Model Version (name={m.Name}, version={version}) not found");

    private static async Task<IReadOnlyList<MlflowModelView>> ModelViewsAsync(DbSession s, IReadOnlyList<ModelRow> rows)
    {
        var models = await RegistryAccess.LoadModelsAsync(s, rows);
        var latest = await VersionViewsAsync(s, await LatestRowsAsync(s, rows.Select(r => r.Id).ToArray()));
        var byModel = latest.ToLookup(v => (v.Version.Project, v.Version.Model));
        return models.Select(m => new MlflowModelView(m, byModel[(m.Project, m.Name)].ToList())).ToList();
    }

    private static async Task<IReadOnlyList<MlflowVersionView>> VersionViewsAsync(DbSession s, IReadOnlyList<ModelVersionRow> rows)
    {
        if (rows.Count == 0) return [];
        var versions = await RegistryAccess.LoadVersionsAsync(s, rows);
        var ids = rows.Select(r => r.Id).ToArray();
        var facts = (await s.Connection.QueryAsync<(long VersionId, string Source, string RunId, string RunLink)>(
                $"SELECT version_id, source, run_id, run_link FROM mlflow_model_versions WHERE {s.Dialect.InSet("version_id", "ids")}", new { ids = s.Dialect.Set(ids) },
                s.Transaction))
            .ToDictionary(f => f.VersionId);
        return versions.Select(v => facts.TryGetValue(v.Id, out var f)
            ? new MlflowVersionView(v, f.Source, f.RunId, f.RunLink)
            : new MlflowVersionView(v, NativeSource(v.Artifact), v.RunId ?? "", "")).ToList();
    }

    /// <summary>Where a version registered through the native API lives: its external URI, or its Lineage artifact.</summary>
    public static string NativeSource(ArtifactVersion a) =>
        a.ExternalUri ?? $"lineage-artifacts:/{a.Project}/{a.Name}/{a.Version}";

    /// <summary>
    /// The artifact-proxy path a source points at, and the run whose artifact folder holds it (when it exists here).
    /// Null path: the source is not served by this server.
    /// </summary>
    private static async Task<(string? Folder, RunRow? Run)> ProxyFolderAsync(DbSession s, string source)
    {
        var (folder, run) = await NamedFolderAsync(s, source);
        // Stored content is resolved with the caller's rights on the project that owns it: a folder of a project the
        // caller cannot read is as missing as an unknown experiment, so no version can copy its files (issue 17).
        if (folder is not null && !await MlflowAccess.VisibleAsync(s, MlflowAccess.Top(folder)))
            throw LineageException.NotFound($"No Experiment with id={MlflowAccess.Top(folder)} exists");
        return (folder, run);
    }

    private static async Task<(string? Folder, RunRow? Run)> NamedFolderAsync(DbSession s, string source)
    {
        if (source.StartsWith("runs:/", StringComparison.Ordinal))
        {
            var rest = source["runs:/".Length..].TrimStart('/');
            var slash = rest.IndexOf('/');
            var uuid = (slash < 0 ? rest : rest[..slash]).ToLowerInvariant();
            var path = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
            if (uuid.Length != 32 || !uuid.All(char.IsAsciiHexDigit)) return (null, null);
            // A run this caller cannot see (another project's, or none) is missing: the source names nothing here.
            var run = await RunAccess.FindAsync(s, uuid) ?? throw LineageException.NotFound($"Run with id={uuid} not found");
            var location = (await ExperimentAccess.LocationsAsync(s, [run.ExperimentId]))[run.ExperimentId];
            if (!location.StartsWith(ProxyScheme, StringComparison.Ordinal)) return (null, run);
            var root = $"{location[ProxyScheme.Length..].Trim('/')}/{run.Uuid}/artifacts";
            return (path.Length == 0 ? root : $"{root}/{path}", run);
        }
        if (source.StartsWith(ProxyScheme, StringComparison.Ordinal))
        {
            var path = source[ProxyScheme.Length..].Trim('/');
            // mlflow-artifacts:/<experiment>/<run>/artifacts/…: the run's own folder.
            var parts = path.Split('/');
            RunRow? run = null;
            if (parts.Length >= 3 && parts[2] == "artifacts" && parts[1].Length == 32 && parts[1].All(char.IsAsciiHexDigit))
                run = await RunAccess.FindAsync(s, parts[1].ToLowerInvariant());
            return (path, run);
        }
        return (null, null);
    }

    /// <summary>The artifact version (type model) holding a new model version's content; see <see cref="CreateVersionAsync"/>.</summary>
    private static async Task<long> ModelArtifactAsync(DbSession s, ModelRow m, string source, string? folder, RunRow? producer, string? user, long now)
    {
        ArtifactKind kind;
        string digest;
        long size;
        string? uri = null;
        IReadOnlyList<ManifestEntry> files = [];
        var stored = folder is null
            ? []
            : (await s.Connection.QueryAsync<(string Path, string Digest, long Size)>(
                "SELECT path, digest, size FROM proxy_files WHERE path = @folder OR (path > @lo AND path < @hi) ORDER BY path",
                new { folder, lo = folder + "/", hi = folder + "0" }, s.Transaction)).ToList();
        if (stored.Count == 1 && stored[0].Path == folder)
            (kind, digest, size) = (ArtifactKind.File, stored[0].Digest, stored[0].Size);
        else if (stored.Count > 0)
        {
            files = stored.Select(f => new ManifestEntry(f.Path[(folder!.Length + 1)..], f.Digest, f.Size)).ToList();
            (kind, digest, size) = (ArtifactKind.Directory, Manifests.Digest(files), files.Sum(f => f.Size));
        }
        else
        {
            // Content this server does not hold: the URI is the reference; its digest is the URI's own (no bytes to hash).
            (kind, digest, size, uri) = (ArtifactKind.External, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source))), 0, source);
        }

        var nameRow = await ArtifactAccess.FindNameAsync(s, m.ProjectId, m.Name);
        if (nameRow is not null)
        {
            var same = await s.Connection.ExecuteScalarAsync<long?>($"""
                SELECT id FROM artifact_versions
                WHERE name_id = @Id AND digest = @digest AND type = 'model' AND lifecycle = 'active'
                  AND {(producer is null ? "producer_run_id IS NULL" : "producer_run_id = @run")}
                ORDER BY version DESC LIMIT 1
                """, new { nameRow.Id, digest, run = producer?.Id ?? 0 }, s.Transaction);
            if (same is { } reuse) return reuse;
        }
        var name = await ArtifactAccess.NextVersionAsync(s, m.ProjectId, m.Name);
        var metadata = $$"""{"mlflow_source":{{System.Text.Json.JsonSerializer.Serialize(source)}}}""";
        var id = await ArtifactAccess.InsertVersionAsync(s, name.Id, name.LatestVersion, "model", kind, digest, size, uri, metadata,
            null, producer?.Id, user, now);
        await ArtifactAccess.InsertFilesAsync(s, id, files);
        if (producer is not null) await LineageAccess.RecordRunOutputAsync(s, producer.Id, id, now);
        return id;
    }

    private static int CheckMax(int? maxResults, int fallback, int max)
    {
        var value = maxResults ?? fallback;
        if (value < 1 || value > max)
            throw LineageException.Invalid("max_results", $"Invalid value {value} for parameter 'max_results' supplied: it must be between 1 and {max}");
        return value;
    }
}
