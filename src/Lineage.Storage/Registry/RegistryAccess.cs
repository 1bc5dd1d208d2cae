using System.Text;
using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Registry;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Registry;

/// <summary>Data access for registered models, versions, aliases, history and promotion requests. Never commits.</summary>
internal static class RegistryAccess
{
    internal const string SelectModel = """
        SELECT m.id, m.project_id, p.name AS project, m.name, m.description, m.latest_version, m.created_at, m.created_by, m.updated_at, m.updated_by
        FROM registered_models m JOIN projects p ON p.id = m.project_id
        """;

    internal const string SelectVersion = """
        SELECT mv.id, mv.model_id, p.name AS project, m.name AS model, mv.version, mv.artifact_id, r.uuid AS run_uuid, mv.status,
               mv.status_message, mv.stage, mv.description, mv.feature_set_id, mv.created_at, mv.created_by, mv.updated_at, mv.updated_by
        FROM model_versions mv
        JOIN registered_models m ON m.id = mv.model_id
        JOIN projects p ON p.id = m.project_id
        LEFT JOIN runs r ON r.id = mv.run_id
        """;

    private const string SelectPromotion = """
        SELECT q.id, q.model_id, p.name AS project, m.name AS model, q.version, q.kind, q.target, q.archive_existing, q.status, q.comment,
               q.requested_at, q.requested_by, q.decided_at, q.decided_by, q.decision_comment
        FROM promotion_requests q JOIN registered_models m ON m.id = q.model_id JOIN projects p ON p.id = m.project_id
        """;

    public static Task<long?> InsertModelAsync(DbSession s, long projectId, string name, string? description, string? user, long now) =>
        s.Connection.QueryFirstOrDefaultAsync<long?>("""
            INSERT INTO registered_models (project_id, name, description, latest_version, created_at, created_by, updated_at, updated_by)
            VALUES (@projectId, @name, @description, 0, @now, @user, @now, @user)
            ON CONFLICT (project_id, name) DO NOTHING RETURNING id
            """, new { projectId, name, description, user, now }, s.Transaction);

    /// <summary>The model row; with <paramref name="lockRow"/> it is locked (PostgreSQL) so registry changes of one model serialize.</summary>
    public static Task<ModelRow?> FindModelAsync(DbSession s, long projectId, string name, bool lockRow = false) =>
        s.Connection.QueryFirstOrDefaultAsync<ModelRow>(
            $"{SelectModel} WHERE m.project_id = @projectId AND m.name = @name{s.Visible("m.project_id")}{(lockRow ? s.Dialect.ForUpdate.Replace("FOR UPDATE", "FOR UPDATE OF m") : "")}",
            new { projectId, name }, s.Transaction);

    public static async Task<IReadOnlyList<ModelRow>> ListModelsAsync(DbSession s, long? projectId, string? nameContains,
        IReadOnlyDictionary<string, string>? tags, long? beforeId, int limit)
    {
        var sql = new StringBuilder(SelectModel).Append(" WHERE 1 = 1");
        var args = new DynamicParameters();
        if (projectId is not null) { sql.Append(" AND m.project_id = @projectId"); args.Add("projectId", projectId); }
        sql.Append(s.Visible("m.project_id"));
        if (nameContains is not null)
        {
            sql.Append($" AND m.name {s.Dialect.LikeInsensitive} @pattern ESCAPE '\\'");
            args.Add("pattern", "%" + Tracking.ExperimentAccess.EscapeLike(nameContains) + "%");
        }
        var i = 0;
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            sql.Append($" AND EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.model_id = m.id AND t.key = @k{i} AND t.value = @v{i})");
            args.Add($"k{i}", key);
            args.Add($"v{i}", value);
            i++;
        }
        if (beforeId is not null) { sql.Append(" AND m.id < @beforeId"); args.Add("beforeId", beforeId); }
        sql.Append(" ORDER BY m.id DESC LIMIT @limit");
        args.Add("limit", limit);
        return (await s.Connection.QueryAsync<ModelRow>(sql.ToString(), args, s.Transaction)).ToList();
    }

    public static async Task<IReadOnlyList<RegisteredModel>> LoadModelsAsync(DbSession s, IReadOnlyList<ModelRow> rows)
    {
        if (rows.Count == 0) return [];
        var ids = rows.Select(r => r.Id).ToArray();
        var tags = (await s.Connection.QueryAsync<(long ModelId, string Key, string Value)>(
            $"SELECT model_id, key, value FROM registered_model_tags WHERE {s.Dialect.InSet("model_id", "ids")} ORDER BY key", new { ids = s.Dialect.Set(ids) }, s.Transaction))
            .ToLookup(t => t.ModelId);
        var aliases = (await s.Connection.QueryAsync<(long ModelId, string Alias, long Version)>(
            $"SELECT model_id, alias, version FROM model_aliases WHERE {s.Dialect.InSet("model_id", "ids")} ORDER BY alias", new { ids = s.Dialect.Set(ids) }, s.Transaction))
            .ToLookup(a => a.ModelId);
        var approvers = (await s.Connection.QueryAsync<(long ModelId, string User)>(
            $"SELECT model_id, user_name FROM model_approvers WHERE {s.Dialect.InSet("model_id", "ids")} ORDER BY user_name", new { ids = s.Dialect.Set(ids) }, s.Transaction))
            .ToLookup(a => a.ModelId, a => a.User);
        return rows.Select(r => new RegisteredModel(r.Id, r.Project, r.Name, r.Description, r.LatestVersion,
            tags[r.Id].ToDictionary(t => t.Key, t => t.Value), aliases[r.Id].ToDictionary(a => a.Alias, a => a.Version),
            approvers[r.Id].ToList(), r.CreatedAt, r.CreatedBy, r.UpdatedAt) { UpdatedBy = r.UpdatedBy }).ToList();
    }

    public static Task SetModelTagAsync(DbSession s, long modelId, string key, string value) =>
        s.Connection.ExecuteAsync("""
            INSERT INTO registered_model_tags (model_id, key, value) VALUES (@modelId, @key, @value)
            ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value
            """, new { modelId, key, value }, s.Transaction);

    public static Task<int> DeleteModelTagAsync(DbSession s, long modelId, string key) =>
        s.Connection.ExecuteAsync("DELETE FROM registered_model_tags WHERE model_id = @modelId AND key = @key", new { modelId, key }, s.Transaction);

    /// <summary>Marks a model as changed (MLflow's last_updated_timestamp moves when one of its versions changes).</summary>
    public static Task<int> TouchModelAsync(DbSession s, long modelId, long now) =>
        s.Connection.ExecuteAsync("UPDATE registered_models SET updated_at = @now, updated_by = @by WHERE id = @modelId", new { modelId, now, by = s.Actor }, s.Transaction);

    public static Task<int> SetModelDescriptionAsync(DbSession s, long modelId, string? description, long now) =>
        s.Connection.ExecuteAsync("UPDATE registered_models SET description = @description, updated_at = @now, updated_by = @by WHERE id = @modelId",
            new { modelId, description, now, by = s.Actor }, s.Transaction);

    public static async Task<IReadOnlyList<string>> ApproversAsync(DbSession s, long modelId) =>
        (await s.Connection.QueryAsync<string>("SELECT user_name FROM model_approvers WHERE model_id = @modelId ORDER BY user_name",
            new { modelId }, s.Transaction)).ToList();

    public static async Task ReplaceApproversAsync(DbSession s, long modelId, IReadOnlyList<string> users, string? by, long now)
    {
        await s.Connection.ExecuteAsync("DELETE FROM model_approvers WHERE model_id = @modelId", new { modelId }, s.Transaction);
        foreach (var user in users)
            await s.Connection.ExecuteAsync(
                "INSERT INTO model_approvers (model_id, user_name, added_at, added_by) VALUES (@modelId, @user, @now, @by)",
                new { modelId, user, now, by }, s.Transaction);
    }

    /// <summary>Takes the next version number: an UPDATE of the model row, so concurrent registrations serialize on it.</summary>
    public static Task<long> NextVersionAsync(DbSession s, long modelId, long now) =>
        s.Connection.ExecuteScalarAsync<long>(
            "UPDATE registered_models SET latest_version = latest_version + 1, updated_at = @now, updated_by = @by WHERE id = @modelId RETURNING latest_version",
            new { modelId, now, by = s.Actor }, s.Transaction);

    public static Task<long> InsertVersionAsync(DbSession s, long modelId, long version, long artifactId, long? runId, ModelVersionStatus status,
        string? description, long? featureSetId, string? user, long now) =>
        s.Connection.ExecuteScalarAsync<long>("""
            INSERT INTO model_versions (model_id, version, artifact_id, run_id, status, stage, description, feature_set_id, created_at, created_by, updated_at, updated_by)
            VALUES (@modelId, @version, @artifactId, @runId, @status, 'None', @description, @featureSetId, @now, @user, @now, @user)
            RETURNING id
            """, new { modelId, version, artifactId, runId, status = RegistryRules.StatusText(status), description, featureSetId, now, user },
            s.Transaction);

    public static async Task InsertInputFeaturesAsync(DbSession s, long versionId, IReadOnlyList<FeatureSpec> features)
    {
        foreach (var f in features)
            await s.Connection.ExecuteAsync("INSERT INTO model_version_features (version_id, name, dtype, shape) VALUES (@versionId, @Name, @Dtype, @shape)",
                new { versionId, f.Name, f.Dtype, shape = Shapes.Text(f.Shape) }, s.Transaction);
    }

    public static Task<ModelVersionRow?> FindVersionAsync(DbSession s, long modelId, VersionRef reference)
    {
        if (reference.Number is { } number)
            return s.Connection.QueryFirstOrDefaultAsync<ModelVersionRow>($"{SelectVersion} WHERE mv.model_id = @modelId AND mv.version = @number",
                new { modelId, number }, s.Transaction);
        if (reference.Alias is { } alias)
            return s.Connection.QueryFirstOrDefaultAsync<ModelVersionRow>(
                $"{SelectVersion} JOIN model_aliases a ON a.model_id = mv.model_id AND a.version = mv.version WHERE mv.model_id = @modelId AND a.alias = @alias",
                new { modelId, alias }, s.Transaction);
        return s.Connection.QueryFirstOrDefaultAsync<ModelVersionRow>(
            $"{SelectVersion} WHERE mv.model_id = @modelId ORDER BY mv.version DESC LIMIT 1", new { modelId }, s.Transaction);
    }

    public static Task<ModelVersionRow?> FindVersionByIdAsync(DbSession s, long id) =>
        s.Connection.QueryFirstOrDefaultAsync<ModelVersionRow>($"{SelectVersion} WHERE mv.id = @id", new { id }, s.Transaction);

    /// <summary>
    /// Versions matching the query, newest first. Each tag filter is one lookup on (key, value, version_id):
    /// the most selective filter's index range is walked in version order and the others are probed, so a page
    /// stops after <paramref name="limit"/> hits.
    /// </summary>
    public static async Task<IReadOnlyList<ModelVersionRow>> SearchVersionsAsync(DbSession s, ModelVersionQuery q, long? projectId, long? modelId,
        long? beforeId, int limit)
    {
        var args = new DynamicParameters();
        var tags = (q.Tags ?? new Dictionary<string, string>()).ToList();
        if (tags.Count > 1)
        {
            // Drive from the most selective filter: count each range, capped so unselective ones cost little.
            var sizes = new Dictionary<KeyValuePair<string, string>, long>();
            foreach (var tag in tags)
                sizes[tag] = await s.Connection.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM model_version_tags WHERE key = @Key AND value = @Value LIMIT 1000) x", new { tag.Key, tag.Value },
                    s.Transaction);
            tags = tags.OrderBy(t => sizes[t]).ToList();
        }
        var sql = new StringBuilder();
        string idColumn;
        if (tags.Count == 0)
        {
            sql.Append(SelectVersion).Append(" WHERE 1 = 1");
            idColumn = "mv.id";
        }
        else
        {
            // Driven from the tag index: t0 in version order, the other filters as primary-key probes.
            sql.Append(SelectVersion.Replace("FROM model_versions mv", "FROM model_version_tags t0 CROSS JOIN model_versions mv"));
            sql.Append(" WHERE t0.key = @k0 AND t0.value = @v0 AND mv.id = t0.version_id");
            args.Add("k0", tags[0].Key);
            args.Add("v0", tags[0].Value);
            for (var i = 1; i < tags.Count; i++)
            {
                sql.Append($" AND EXISTS (SELECT 1 FROM model_version_tags t{i} WHERE t{i}.version_id = t0.version_id AND t{i}.key = @k{i} AND t{i}.value = @v{i})");
                args.Add($"k{i}", tags[i].Key);
                args.Add($"v{i}", tags[i].Value);
            }
            idColumn = "t0.version_id";
        }
        if (projectId is not null) { sql.Append(" AND m.project_id = @projectId"); args.Add("projectId", projectId); }
        sql.Append(s.Visible("m.project_id"));
        if (modelId is not null) { sql.Append(" AND mv.model_id = @modelId"); args.Add("modelId", modelId); }
        if (q.Stage is { } stage) { sql.Append(" AND mv.stage = @stage"); args.Add("stage", RegistryRules.StageText(stage)); }
        if (q.Status is { } status) { sql.Append(" AND mv.status = @status"); args.Add("status", RegistryRules.StatusText(status)); }
        if (beforeId is not null) { sql.Append($" AND {idColumn} < @beforeId"); args.Add("beforeId", beforeId); }
        sql.Append($" ORDER BY {idColumn} DESC LIMIT @limit");
        args.Add("limit", limit);
        return (await s.Connection.QueryAsync<ModelVersionRow>(sql.ToString(), args, s.Transaction)).ToList();
    }

    public static async Task<IReadOnlyList<ModelVersion>> LoadVersionsAsync(DbSession s, IReadOnlyList<ModelVersionRow> rows)
    {
        if (rows.Count == 0) return [];
        var ids = rows.Select(r => r.Id).ToArray();
        var artifactIds = rows.Select(r => r.ArtifactId).Concat(rows.Where(r => r.FeatureSetId is not null).Select(r => r.FeatureSetId!.Value))
            .Distinct().ToArray();
        var artifactRows = (await s.Connection.QueryAsync<VersionRow>($"{ArtifactAccess.SelectVersion} WHERE {s.Dialect.InSet("v.id", "artifactIds")}",
            new { artifactIds = s.Dialect.Set(artifactIds) }, s.Transaction)).ToList();
        var artifacts = (await ArtifactAccess.LoadAsync(s, artifactRows)).ToDictionary(a => a.Id);
        var tags = (await s.Connection.QueryAsync<(long VersionId, string Key, string Value)>(
                $"SELECT version_id, key, value FROM model_version_tags WHERE {s.Dialect.InSet("version_id", "ids")} ORDER BY key", new { ids = s.Dialect.Set(ids) }, s.Transaction))
            .ToLookup(t => t.VersionId);
        var modelIds = rows.Select(r => r.ModelId).Distinct().ToArray();
        var aliases = (await s.Connection.QueryAsync<(long ModelId, string Alias, long Version)>(
                $"SELECT model_id, alias, version FROM model_aliases WHERE {s.Dialect.InSet("model_id", "modelIds")} ORDER BY alias", new { modelIds = s.Dialect.Set(modelIds) },
                s.Transaction))
            .ToLookup(a => (a.ModelId, a.Version), a => a.Alias);
        var features = (await s.Connection.QueryAsync<(long VersionId, string Name, string Dtype, string Shape)>(
                $"SELECT version_id, name, dtype, shape FROM model_version_features WHERE {s.Dialect.InSet("version_id", "ids")} ORDER BY name",
                new { ids = s.Dialect.Set(ids) }, s.Transaction))
            .ToLookup(f => f.VersionId, f => new FeatureSpec(f.Name, f.Dtype, Shapes.Parse(f.Shape)));
        return rows.Select(r => new ModelVersion(r.Id, r.Project, r.Model, r.Version, r.StatusValue, r.StatusMessage, r.StageValue, r.Description,
            artifacts[r.ArtifactId], r.RunUuid, tags[r.Id].ToDictionary(t => t.Key, t => t.Value), aliases[(r.ModelId, r.Version)].ToList(),
            r.FeatureSetId is { } fs ? artifacts[fs] : null, features[r.Id].ToList(), r.CreatedAt, r.CreatedBy, r.UpdatedAt) { UpdatedBy = r.UpdatedBy }).ToList();
    }

    public static Task SetVersionTagAsync(DbSession s, long versionId, string key, string value) =>
        s.Connection.ExecuteAsync("""
            INSERT INTO model_version_tags (version_id, key, value) VALUES (@versionId, @key, @value)
            ON CONFLICT (version_id, key) DO UPDATE SET value = excluded.value
            """, new { versionId, key, value }, s.Transaction);

    public static Task<int> DeleteVersionTagAsync(DbSession s, long versionId, string key) =>
        s.Connection.ExecuteAsync("DELETE FROM model_version_tags WHERE version_id = @versionId AND key = @key", new { versionId, key }, s.Transaction);

    public static Task<int> UpdateVersionAsync(DbSession s, long versionId, string? description, ModelVersionStatus status, string? statusMessage, long now) =>
        s.Connection.ExecuteAsync("""
            UPDATE model_versions SET description = @description, status = @status, status_message = @statusMessage, updated_at = @now, updated_by = @by
            WHERE id = @versionId
            """, new { versionId, description, status = RegistryRules.StatusText(status), statusMessage, now, by = s.Actor }, s.Transaction);

    public static Task<int> SetStageAsync(DbSession s, long versionId, ModelStage stage, long now) =>
        s.Connection.ExecuteAsync("UPDATE model_versions SET stage = @stage, updated_at = @now, updated_by = @by WHERE id = @versionId",
            new { versionId, stage = RegistryRules.StageText(stage), now, by = s.Actor }, s.Transaction);

    public static async Task<IReadOnlyList<ModelVersionRow>> VersionsInStageAsync(DbSession s, long modelId, ModelStage stage) =>
        (await s.Connection.QueryAsync<ModelVersionRow>($"{SelectVersion} WHERE mv.model_id = @modelId AND mv.stage = @stage ORDER BY mv.version",
            new { modelId, stage = RegistryRules.StageText(stage) }, s.Transaction)).ToList();

    public static Task<long?> AliasVersionAsync(DbSession s, long modelId, string alias) =>
        s.Connection.ExecuteScalarAsync<long?>("SELECT version FROM model_aliases WHERE model_id = @modelId AND alias = @alias",
            new { modelId, alias }, s.Transaction);

    public static async Task<IReadOnlyList<string>> AliasNamesAsync(DbSession s, long modelId) =>
        (await s.Connection.QueryAsync<string>("SELECT alias FROM model_aliases WHERE model_id = @modelId ORDER BY alias", new { modelId }, s.Transaction))
        .ToList();

    /// <summary>Points the alias at a version (one upsert: the move is atomic), or removes it when <paramref name="version"/> is null.</summary>
    public static Task MoveAliasAsync(DbSession s, long modelId, string alias, long? version, string? user, long now) =>
        version is null
            ? s.Connection.ExecuteAsync("DELETE FROM model_aliases WHERE model_id = @modelId AND alias = @alias", new { modelId, alias }, s.Transaction)
            : s.Connection.ExecuteAsync("""
                INSERT INTO model_aliases (model_id, alias, version, created_at, created_by, updated_at, updated_by) VALUES (@modelId, @alias, @version, @now, @user, @now, @user)
                ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """, new { modelId, alias, version, now, user }, s.Transaction);

    public static Task RecordChangeAsync(DbSession s, long modelId, string kind, string? name, long? version, string? oldValue, string? newValue,
        string? user, long now, long? requestId) =>
        s.Connection.ExecuteAsync("""
            INSERT INTO model_history (model_id, kind, name, version, old_value, new_value, changed_at, changed_by, request_id)
            VALUES (@modelId, @kind, @name, @version, @oldValue, @newValue, @now, @user, @requestId)
            """, new { modelId, kind, name, version, oldValue, newValue, now, user, requestId }, s.Transaction);

    public static async Task<IReadOnlyList<RegistryChange>> HistoryAsync(DbSession s, long modelId, string? kind, string? name, long? version) =>
        (await s.Connection.QueryAsync<HistoryRow>("""
            SELECT h.id, m.name AS model, h.kind, h.name, h.version, h.old_value, h.new_value, h.changed_at, h.changed_by, h.request_id
            FROM model_history h JOIN registered_models m ON m.id = h.model_id
            WHERE h.model_id = @modelId AND (@kind IS NULL OR h.kind = @kind) AND (@name IS NULL OR h.name = @name)
              AND (@version IS NULL OR h.version = @version)
            ORDER BY h.id
            """, new { modelId, kind, name, version }, s.Transaction)).Select(h => h.ToModel()).ToList();

    public static Task<long> InsertPromotionAsync(DbSession s, long modelId, long version, string kind, string target, bool archiveExisting,
        string? comment, string? user, long now) =>
        s.Connection.ExecuteScalarAsync<long>("""
            INSERT INTO promotion_requests (model_id, version, kind, target, archive_existing, status, comment, requested_at, requested_by)
            VALUES (@modelId, @version, @kind, @target, @archive, 'PENDING', @comment, @now, @user) RETURNING id
            """, new { modelId, version, kind, target, archive = archiveExisting ? 1 : 0, comment, now, user }, s.Transaction);

    public static Task<PromotionRow?> FindPromotionAsync(DbSession s, long id) =>
        s.Connection.QueryFirstOrDefaultAsync<PromotionRow>($"{SelectPromotion} WHERE q.id = @id{s.Visible("m.project_id")}", new { id }, s.Transaction);

    public static async Task<IReadOnlyList<PromotionRow>> ListPromotionsAsync(DbSession s, long? projectId, long? modelId, string? status, long? beforeId,
        int limit) =>
        (await s.Connection.QueryAsync<PromotionRow>($"""
            {SelectPromotion}
            WHERE (@projectId IS NULL OR m.project_id = @projectId){s.Visible("m.project_id")} AND (@modelId IS NULL OR q.model_id = @modelId)
              AND (@status IS NULL OR q.status = @status) AND (@beforeId IS NULL OR q.id < @beforeId)
            ORDER BY q.id DESC LIMIT @limit
            """, new { projectId, modelId, status, beforeId, limit }, s.Transaction)).ToList();

    /// <summary>Decides a pending request; 0 rows when it was decided meanwhile.</summary>
    public static Task<int> DecidePromotionAsync(DbSession s, long id, PromotionStatus status, string? user, string? comment, long now) =>
        s.Connection.ExecuteAsync("""
            UPDATE promotion_requests SET status = @status, decided_at = @now, decided_by = @user, decision_comment = @comment
            WHERE id = @id AND status = 'PENDING'
            """, new { id, status = RegistryRules.PromotionText(status), user, comment, now }, s.Transaction);

    /// <summary>Finds an artifact version by id or by (project, name, reference); the miss names the request field.</summary>
    public static async Task<VersionRow> ResolveArtifactAsync(DbSession s, ArtifactPointer pointer)
    {
        if (pointer.Id is { } id)
            return await ArtifactAccess.FindByIdAsync(s, id)
                   ?? throw new LineageException(ErrorCode.ResourceDoesNotExist, $"artifact version with id {id} does not exist", pointer.Field);
        var name = ArtifactRules.Name(pointer.Name, pointer.Field + ".name");
        var project = pointer.Project ?? OperationContext.DefaultProject;
        var p = await Tracking.ExperimentAccess.RequireProjectAsync(s, project);
        var nameRow = await ArtifactAccess.FindNameAsync(s, p.Id, name)
                      ?? throw new LineageException(ErrorCode.ResourceDoesNotExist, $"artifact '{name}' does not exist in project '{project}'", pointer.Field);
        return await ArtifactAccess.FindAsync(s, nameRow.Id, pointer.Ref)
               ?? throw new LineageException(ErrorCode.ResourceDoesNotExist, $"version {pointer.Ref} of artifact '{name}' not found", pointer.Field);
    }

    /// <summary>The newest version of an artifact name that a run produced.</summary>
    public static Task<VersionRow?> RunArtifactAsync(DbSession s, string project, string name, string runUuid) =>
        s.Connection.QueryFirstOrDefaultAsync<VersionRow>(
            $"{ArtifactAccess.SelectVersion} WHERE p.name = @project AND n.name = @name AND r.uuid = @runUuid ORDER BY v.version DESC LIMIT 1",
            new { project, name, runUuid }, s.Transaction);

    public static async Task<ArtifactVersion> LoadArtifactAsync(DbSession s, VersionRow row) => (await ArtifactAccess.LoadAsync(s, [row]))[0];

    /// <summary>
    /// Removes a model with its versions, tags, aliases, approvers, history and promotion requests (the audit log
    /// keeps the trail). Artifact versions stay: they are lineage. A model with deployments is refused (CONFLICT).
    /// </summary>
    public static async Task DeleteModelAsync(DbSession s, ModelRow m)
    {
        var args = new { m.Id };
        var deployed = await s.Connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deployments WHERE model_id = @Id", args, s.Transaction);
        if (deployed > 0)
            throw LineageException.Conflict($"registered model '{m.Name}' has {deployed} deployment(s); a deployed model cannot be deleted");
        const string versions = "SELECT id FROM model_versions WHERE model_id = @Id";
        foreach (var sql in new[]
                 {
                     $"DELETE FROM mlflow_model_versions WHERE version_id IN ({versions})",
                     $"DELETE FROM model_version_tags WHERE version_id IN ({versions})",
                     $"DELETE FROM model_version_features WHERE version_id IN ({versions})",
                     "DELETE FROM model_versions WHERE model_id = @Id",
                     "DELETE FROM model_aliases WHERE model_id = @Id",
                     "DELETE FROM registered_model_tags WHERE model_id = @Id",
                     "DELETE FROM model_approvers WHERE model_id = @Id",
                     "DELETE FROM model_history WHERE model_id = @Id",
                     "DELETE FROM promotion_requests WHERE model_id = @Id",
                     "DELETE FROM registered_models WHERE id = @Id",
                 })
            await s.Connection.ExecuteAsync(sql, args, s.Transaction);
    }

    /// <summary>
    /// Removes a version with its tags, the aliases naming it and the pending promotion requests for it (they could
    /// never be granted). The artifact version stays. A deployed version is refused (CONFLICT).
    /// </summary>
    public static async Task DeleteVersionAsync(DbSession s, ModelRow m, ModelVersionRow row)
    {
        var args = new { row.Id, ModelId = m.Id, row.Version, now = Clock.NowMs() };
        var deployed = await s.Connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deployments WHERE version_id = @Id", args, s.Transaction);
        if (deployed > 0)
            throw LineageException.Conflict($"version {row.Version} of '{m.Name}' has {deployed} deployment(s); a deployed version cannot be deleted");
        foreach (var sql in new[]
                 {
                     "DELETE FROM mlflow_model_versions WHERE version_id = @Id",
                     "DELETE FROM model_version_tags WHERE version_id = @Id",
                     "DELETE FROM model_version_features WHERE version_id = @Id",
                     "DELETE FROM model_aliases WHERE model_id = @ModelId AND version = @Version",
                     "DELETE FROM promotion_requests WHERE model_id = @ModelId AND version = @Version AND status = 'PENDING'",
                     "DELETE FROM model_versions WHERE id = @Id",
                 })
            await s.Connection.ExecuteAsync(sql, args, s.Transaction);
        await TouchModelAsync(s, m.Id, args.now);
    }

    // ---- lookups that fail with "not found" (shared by the registry, deployment, manifest and MLflow stores) ----

    internal static async Task<ModelVersion> LoadVersionAsync(DbSession s, long id) =>
        (await LoadVersionsAsync(s, [(await FindVersionByIdAsync(s, id))!]))[0];

    internal static async Task<ModelRow> RequireModelAsync(DbSession s, string? project, string name, bool lockRow = false)
    {
        project ??= s.RequestProject;
        RegistryRules.ModelName(name, "model");
        var p = await ExperimentAccess.RequireProjectAsync(s, project);
        return await FindModelAsync(s, p.Id, name, lockRow)
               ?? throw LineageException.NotFound($"registered model '{name}' does not exist in project '{project}'");
    }

    internal static async Task<ModelVersionRow> RequireVersionAsync(DbSession s, ModelRow m, long version) =>
        await FindVersionAsync(s, m.Id, new VersionRef(version, null))
        ?? throw LineageException.NotFound($"version {version} of registered model '{m.Name}' not found; " +
                                           (m.LatestVersion == 0 ? "it has no versions" : $"latest is {m.LatestVersion}"));

    /// <summary>A version by number, alias or "latest"; misses name what exists.</summary>
    internal static async Task<ModelVersionRow> ResolveVersionAsync(DbSession s, string? project, string model, VersionRef reference)
    {
        var m = await RequireModelAsync(s, project, model);
        var row = await FindVersionAsync(s, m.Id, reference);
        if (row is not null) return row;
        if (reference.Alias is { } alias) throw await AliasMissingAsync(s, m, alias);
        if (reference.Number is { } n) return await RequireVersionAsync(s, m, n);
        throw LineageException.NotFound($"registered model '{model}' has no versions yet");
    }

    internal static async Task<LineageException> AliasMissingAsync(DbSession s, ModelRow m, string alias)
    {
        var aliases = await AliasNamesAsync(s, m.Id);
        return LineageException.NotFound(
            $"alias '{alias}' of registered model '{m.Name}' not found; {(aliases.Count == 0 ? "it has no aliases" : "aliases: " + string.Join(", ", aliases))}");
    }

}
