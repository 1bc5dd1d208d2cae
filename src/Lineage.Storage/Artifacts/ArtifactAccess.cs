using System.Text;
using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Artifacts;

/// <summary>Data access for artifact names, versions, manifests, tags, aliases and edits. Never commits.</summary>
internal static class ArtifactAccess
{
    public const string SelectVersion = """
        SELECT v.id, v.name_id, p.name AS project, n.name, v.version, v.type, v.kind, v.digest, v.size, v.external_uri,
               v.metadata, v.description, r.uuid AS producer_run_uuid, v.lifecycle, v.created_at, v.created_by, v.deleted_at,
               v.updated_at, v.updated_by,
               (SELECT COUNT(*) FROM artifact_files f WHERE f.version_id = v.id) AS file_count
        FROM artifact_versions v
        JOIN artifact_names n ON n.id = v.name_id
        JOIN projects p ON p.id = n.project_id
        LEFT JOIN runs r ON r.id = v.producer_run_id
        """;

    /// <summary>Takes the next version number of (project, name): an upsert, so concurrent writers serialize on the row.</summary>
    public static Task<NameRow> NextVersionAsync(DbSession s, long projectId, string name) =>
        s.Connection.QuerySingleAsync<NameRow>("""
            INSERT INTO artifact_names (project_id, name, latest_version, created_at) VALUES (@projectId, @name, 1, @now)
            ON CONFLICT (project_id, name) DO UPDATE SET latest_version = artifact_names.latest_version + 1
            RETURNING id, latest_version
            """, new { projectId, name, now = Clock.NowMs() }, s.Transaction);

    public static Task<NameRow?> FindNameAsync(DbSession s, long projectId, string name) =>
        s.Connection.QueryFirstOrDefaultAsync<NameRow>(
            $"SELECT id, latest_version FROM artifact_names WHERE project_id = @projectId AND name = @name{s.Visible("project_id")}",
            new { projectId, name }, s.Transaction);

    public static Task<long> InsertVersionAsync(DbSession s, long nameId, long version, string type, ArtifactKind kind, string digest,
        long size, string? externalUri, string metadata, string? description, long? producerRunId, string? user, long now) =>
        s.Connection.ExecuteScalarAsync<long>("""
            INSERT INTO artifact_versions (name_id, version, type, kind, digest, size, external_uri, metadata, description,
                                           producer_run_id, lifecycle, created_at, created_by, updated_at, updated_by)
            VALUES (@nameId, @version, @type, @kind, @digest, @size, @externalUri, @metadata, @description, @producerRunId, 'active', @now, @user, @now, @user)
            RETURNING id
            """, new { nameId, version, type, kind = VersionRow.Text(kind), digest, size, externalUri,
            metadata = s.Fields.SealMetadata(s, nameId, version, metadata), description, producerRunId, now, user }, s.Transaction);

    public static async Task InsertFilesAsync(DbSession s, long versionId, IReadOnlyList<ManifestEntry> files)
    {
        foreach (var f in files)
            await s.Connection.ExecuteAsync("INSERT INTO artifact_files (version_id, path, digest, size) VALUES (@versionId, @Path, @Digest, @Size)",
                new { versionId, f.Path, f.Digest, f.Size }, s.Transaction);
    }

    public static Task<VersionRow?> FindByIdAsync(DbSession s, long id) =>
        s.Connection.QueryFirstOrDefaultAsync<VersionRow>($"{SelectVersion} WHERE v.id = @id{s.Visible("n.project_id")}", new { id }, s.Transaction);

    public static Task<VersionRow?> FindAsync(DbSession s, long nameId, VersionRef reference)
    {
        if (reference.Number is { } number)
            return s.Connection.QueryFirstOrDefaultAsync<VersionRow>($"{SelectVersion} WHERE v.name_id = @nameId AND v.version = @number",
                new { nameId, number }, s.Transaction);
        if (reference.Alias is { } alias)
            return s.Connection.QueryFirstOrDefaultAsync<VersionRow>(
                $"{SelectVersion} JOIN artifact_aliases a ON a.name_id = v.name_id AND a.version = v.version WHERE v.name_id = @nameId AND a.alias = @alias",
                new { nameId, alias }, s.Transaction);
        return s.Connection.QueryFirstOrDefaultAsync<VersionRow>(
            $"{SelectVersion} WHERE v.name_id = @nameId AND v.lifecycle = 'active' ORDER BY v.version DESC LIMIT 1", new { nameId }, s.Transaction);
    }

    public static Task<long?> LatestActiveVersionAsync(DbSession s, long nameId) =>
        s.Connection.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM artifact_versions WHERE name_id = @nameId AND lifecycle = 'active'",
            new { nameId }, s.Transaction);

    public static async Task<IReadOnlyList<VersionRow>> ListAsync(DbSession s, ArtifactQuery q, long? projectId, long? beforeId)
    {
        var sql = new StringBuilder(SelectVersion).Append(" WHERE 1 = 1");
        var args = new DynamicParameters();
        if (projectId is not null) { sql.Append(" AND n.project_id = @projectId"); args.Add("projectId", projectId); }
        sql.Append(s.Visible("n.project_id"));
        if (q.Name is not null) { sql.Append(" AND n.name = @name"); args.Add("name", q.Name); }
        if (q.Type is not null) { sql.Append(" AND v.type = @type"); args.Add("type", q.Type); }
        var lifecycle = q.Lifecycle switch
        {
            LifecycleFilter.Active => " AND {0}.lifecycle = 'active'",
            LifecycleFilter.Deleted => " AND {0}.lifecycle <> 'active'",
            _ => "",
        };
        sql.Append(string.Format(lifecycle, "v"));
        // One row per name: its highest version among those the other filters let through (the list grouped by name).
        if (q.LatestOnly)
            sql.Append(" AND v.version = (SELECT MAX(l.version) FROM artifact_versions l WHERE l.name_id = v.name_id")
                .Append(q.Type is not null ? " AND l.type = @type" : "").Append(string.Format(lifecycle, "l")).Append(')');
        var i = 0;
        foreach (var (key, value) in q.Metadata ?? new Dictionary<string, string>())
        {
            if (s.Fields.IsSensitive(key))
                throw LineageException.Invalid($"metadata.{key}", $"metadata '{key}' is sensitive (stored encrypted, shown redacted) and cannot be matched by value");
            // Keys and values are parameters; only the generated parameter names enter the SQL text.
            sql.Append(" AND ").Append(s.Dialect.JsonField("v.metadata", $"mk{i}")).Append($" = @mv{i}");
            args.Add($"mk{i}", key);
            args.Add($"mv{i}", value);
            i++;
        }
        if (beforeId is not null) { sql.Append(" AND v.id < @beforeId"); args.Add("beforeId", beforeId); }
        sql.Append(" ORDER BY v.id DESC LIMIT @limit");
        args.Add("limit", q.Limit + 1);
        return (await s.Connection.QueryAsync<VersionRow>(sql.ToString(), args, s.Transaction)).ToList();
    }

    public static async Task<IReadOnlyList<ArtifactVersion>> LoadAsync(DbSession s, IReadOnlyList<VersionRow> rows)
    {
        if (rows.Count == 0) return [];
        var ids = rows.Select(r => r.Id).ToArray();
        var nameIds = rows.Select(r => r.NameId).Distinct().ToArray();
        var tags = (await s.Connection.QueryAsync<TagRow>(
                $"SELECT version_id, key, value FROM artifact_tags WHERE {s.Dialect.InSet("version_id", "ids")} ORDER BY key", new { ids = s.Dialect.Set(ids) }, s.Transaction))
            .ToLookup(t => t.VersionId);
        var aliases = (await s.Connection.QueryAsync<AliasRow>(
                $"SELECT name_id, alias, version FROM artifact_aliases WHERE {s.Dialect.InSet("name_id", "nameIds")} ORDER BY alias", new { nameIds = s.Dialect.Set(nameIds) },
                s.Transaction))
            .ToLookup(a => (a.NameId, a.Version), a => a.Alias);
        return rows.Select(r => r.ToModel(tags[r.Id].ToDictionary(t => t.Key, t => t.Value), aliases[(r.NameId, r.Version)].ToList()) with
        {
            Metadata = s.Fields.ShowMetadata(s, r.NameId, r.Version, $"artifact {r.Project}/{r.Name} v{r.Version}", r.Metadata),
        }).ToList();
    }

    public static async Task<IReadOnlyList<ManifestEntry>> FilesAsync(DbSession s, long versionId) =>
        (await s.Connection.QueryAsync<ManifestEntry>(
            "SELECT path, digest, size FROM artifact_files WHERE version_id = @versionId ORDER BY path", new { versionId }, s.Transaction)).ToList();

    /// <summary>Appends an edit to the version's history and stamps it as the version's last change (provenance).</summary>
    public static async Task RecordEditAsync(DbSession s, long versionId, string field, string? oldValue, string? newValue, string? user)
    {
        var now = Clock.NowMs();
        await s.Connection.ExecuteAsync("""
            INSERT INTO artifact_edits (version_id, field, old_value, new_value, edited_at, edited_by)
            VALUES (@versionId, @field, @oldValue, @newValue, @now, @user)
            """, new { versionId, field, oldValue, newValue, now, user }, s.Transaction);
        await s.Connection.ExecuteAsync("UPDATE artifact_versions SET updated_at = @now, updated_by = @user WHERE id = @versionId",
            new { versionId, now, user }, s.Transaction);
    }

    public static async Task<IReadOnlyList<ArtifactEdit>> EditsAsync(DbSession s, long versionId) =>
        (await s.Connection.QueryAsync<ArtifactEdit>(
            "SELECT field, old_value AS OldValue, new_value AS NewValue, edited_at AS EditedAt, edited_by AS EditedBy FROM artifact_edits WHERE version_id = @versionId ORDER BY id",
            new { versionId }, s.Transaction)).ToList();

    public static Task<string?> TagValueAsync(DbSession s, long versionId, string key) =>
        s.Connection.ExecuteScalarAsync<string?>("SELECT value FROM artifact_tags WHERE version_id = @versionId AND key = @key",
            new { versionId, key }, s.Transaction);

    public static Task SetTagAsync(DbSession s, long versionId, string key, string value) =>
        s.Connection.ExecuteAsync("""
            INSERT INTO artifact_tags (version_id, key, value) VALUES (@versionId, @key, @value)
            ON CONFLICT (version_id, key) DO UPDATE SET value = excluded.value
            """, new { versionId, key, value }, s.Transaction);

    public static Task<int> DeleteTagAsync(DbSession s, long versionId, string key) =>
        s.Connection.ExecuteAsync("DELETE FROM artifact_tags WHERE version_id = @versionId AND key = @key", new { versionId, key }, s.Transaction);

    public static Task<long?> AliasVersionAsync(DbSession s, long nameId, string alias) =>
        s.Connection.ExecuteScalarAsync<long?>("SELECT version FROM artifact_aliases WHERE name_id = @nameId AND alias = @alias",
            new { nameId, alias }, s.Transaction);

    public static async Task<IReadOnlyList<string>> AliasesOfAsync(DbSession s, long nameId, long version) =>
        (await s.Connection.QueryAsync<string>("SELECT alias FROM artifact_aliases WHERE name_id = @nameId AND version = @version ORDER BY alias",
            new { nameId, version }, s.Transaction)).ToList();

    public static async Task<IReadOnlyList<string>> AliasNamesAsync(DbSession s, long nameId) =>
        (await s.Connection.QueryAsync<string>("SELECT alias FROM artifact_aliases WHERE name_id = @nameId ORDER BY alias",
            new { nameId }, s.Transaction)).ToList();

    /// <summary>Points the alias at a version (one upsert: the move is atomic) and appends the move to its history.</summary>
    public static async Task MoveAliasAsync(DbSession s, long nameId, string alias, long? version, string? user)
    {
        var now = Clock.NowMs();
        if (version is null)
            await s.Connection.ExecuteAsync("DELETE FROM artifact_aliases WHERE name_id = @nameId AND alias = @alias", new { nameId, alias }, s.Transaction);
        else
            await s.Connection.ExecuteAsync("""
                INSERT INTO artifact_aliases (name_id, alias, version, created_at, created_by, updated_at, updated_by)
                VALUES (@nameId, @alias, @version, @now, @user, @now, @user)
                ON CONFLICT (name_id, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """, new { nameId, alias, version, now, user }, s.Transaction);
        await s.Connection.ExecuteAsync(
            "INSERT INTO artifact_alias_history (name_id, alias, version, changed_at, changed_by) VALUES (@nameId, @alias, @version, @now, @user)",
            new { nameId, alias, version, now, user }, s.Transaction);
    }

    public static async Task<IReadOnlyList<AliasChange>> AliasHistoryAsync(DbSession s, long nameId, string? alias) =>
        (await s.Connection.QueryAsync<AliasChange>($"""
            SELECT alias, version, changed_at AS ChangedAt, changed_by AS ChangedBy FROM artifact_alias_history
            WHERE name_id = @nameId {(alias is null ? "" : "AND alias = @alias")} ORDER BY id
            """, new { nameId, alias }, s.Transaction)).ToList();

    public static Task<int> SetLifecycleAsync(DbSession s, long versionId, string from, string to, long? deletedAt) =>
        s.Connection.ExecuteAsync("UPDATE artifact_versions SET lifecycle = @to, deleted_at = @deletedAt WHERE id = @versionId AND lifecycle = @from",
            new { versionId, from, to, deletedAt }, s.Transaction);

    public static Task<int> SetDescriptionAsync(DbSession s, long versionId, string? description) =>
        s.Connection.ExecuteAsync("UPDATE artifact_versions SET description = @description WHERE id = @versionId", new { versionId, description }, s.Transaction);

    /// <summary>"model vN" for every registered model version whose artifact or feature set this version is.</summary>
    public static async Task<IReadOnlyList<string>> ModelVersionsUsingAsync(DbSession s, long versionId) =>
        (await s.Connection.QueryAsync<string>("""
            SELECT m.name || ' v' || CAST(mv.version AS TEXT) FROM model_versions mv JOIN registered_models m ON m.id = mv.model_id
            WHERE mv.artifact_id = @versionId OR mv.feature_set_id = @versionId ORDER BY m.name, mv.version
            """, new { versionId }, s.Transaction)).ToList();

    public static LineageException NameNotFound(string project, string name) =>
        LineageException.NotFound($"artifact '{name}' does not exist in project '{project}'");
}
