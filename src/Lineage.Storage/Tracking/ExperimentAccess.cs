using System.Text;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Tracking;

/// <summary>Data access for projects and experiments. Runs statements in the caller's transaction; never commits.</summary>
internal static class ExperimentAccess
{
    private const string SelectExperiment = """
        SELECT e.id, e.project_id, p.name AS project_name, e.name, e.description, e.lifecycle,
               e.created_at, e.created_by, e.updated_at, e.updated_by, e.deleted_at
        FROM experiments e JOIN projects p ON p.id = e.project_id
        """;

    private const string SelectProject = "SELECT id, name, description, created_at, created_by, updated_at, updated_by FROM projects";

    public static async Task<Project?> FindProjectAsync(DbSession s, string name) =>
        (await s.Connection.QueryFirstOrDefaultAsync<ProjectRow>(
            $"{SelectProject} WHERE name = @name{s.Visible("id")}", new { name }, s.Transaction))?.ToModel();

    public static async Task<Project> RequireProjectAsync(DbSession s, string name) =>
        await FindProjectAsync(s, name) ?? throw LineageException.NotFound(
            $"project '{name}' does not exist; existing projects: {string.Join(", ", await ListProjectNamesAsync(s))}");

    public static async Task<IReadOnlyList<Project>> ListProjectsAsync(DbSession s) =>
        (await s.Connection.QueryAsync<ProjectRow>(
            $"{SelectProject} WHERE 1 = 1{s.Visible("id")} ORDER BY name", transaction: s.Transaction)).Select(p => p.ToModel()).ToList();

    private static async Task<IEnumerable<string>> ListProjectNamesAsync(DbSession s) =>
        (await ListProjectsAsync(s)).Select(p => p.Name).Take(20);

    /// <summary>Inserts a project; null when the name is taken.</summary>
    public static Task<long?> CreateProjectAsync(DbSession s, string name, string? description) =>
        s.Connection.QueryFirstOrDefaultAsync<long?>(
            """
            INSERT INTO projects (name, description, created_at, created_by, updated_at, updated_by) VALUES (@name, @description, @now, @by, @now, @by)
            ON CONFLICT (name) DO NOTHING RETURNING id
            """, new { name, description, now = Clock.NowMs(), by = s.Actor }, s.Transaction);

    /// <summary>Inserts an experiment; null when the name is taken in the project.</summary>
    public static Task<long?> CreateExperimentAsync(DbSession s, long projectId, string name, string? description, long now) =>
        s.Connection.QueryFirstOrDefaultAsync<long?>("""
            INSERT INTO experiments (project_id, name, description, lifecycle, created_at, created_by, updated_at, updated_by)
            VALUES (@projectId, @name, @description, 'active', @now, @by, @now, @by)
            ON CONFLICT (project_id, name) DO NOTHING RETURNING id
            """, new { projectId, name, description, now, by = s.Actor }, s.Transaction);

    public static Task<ExperimentRow?> FindAsync(DbSession s, long id) =>
        s.Connection.QueryFirstOrDefaultAsync<ExperimentRow>($"{SelectExperiment} WHERE e.id = @id{s.Visible("e.project_id")}", new { id }, s.Transaction);

    public static Task<ExperimentRow?> FindByNameAsync(DbSession s, long projectId, string name) =>
        s.Connection.QueryFirstOrDefaultAsync<ExperimentRow>(
            $"{SelectExperiment} WHERE e.project_id = @projectId AND e.name = @name{s.Visible("e.project_id")}", new { projectId, name }, s.Transaction);

    public static async Task<ExperimentRow> RequireAsync(DbSession s, long id) =>
        await FindAsync(s, id) ?? throw LineageException.NotFound($"experiment with id '{id}' does not exist");

    public static async Task<ExperimentRow> RequireActiveAsync(DbSession s, long id, string action)
    {
        var row = await RequireAsync(s, id);
        if (!row.IsActive)
            throw LineageException.Invalid("experimentId",
                $"cannot {action}: experiment '{row.Name}' (id {id}) is deleted; restore it first");
        return row;
    }

    public static async Task<IReadOnlyList<ExperimentRow>> ListAsync(DbSession s, long? projectId, ExperimentQuery q, long? afterId)
    {
        var sql = new StringBuilder(SelectExperiment).Append(" WHERE 1 = 1");
        if (projectId is not null) sql.Append(" AND e.project_id = @projectId");
        sql.Append(s.Visible("e.project_id"));
        if (q.Lifecycle != LifecycleFilter.All) sql.Append(" AND e.lifecycle = @lifecycle");
        if (!string.IsNullOrEmpty(q.NameContains)) sql.Append($" AND e.name {s.Dialect.LikeInsensitive} @pattern ESCAPE '\\'");
        if (afterId is not null) sql.Append(" AND e.id > @afterId");
        sql.Append(" ORDER BY e.id LIMIT @limit");
        return (await s.Connection.QueryAsync<ExperimentRow>(sql.ToString(), new
        {
            projectId,
            lifecycle = q.Lifecycle == LifecycleFilter.Deleted ? "deleted" : "active",
            pattern = "%" + EscapeLike(q.NameContains ?? "") + "%",
            afterId,
            limit = q.Limit + 1,
        }, s.Transaction)).ToList();
    }

    public static async Task<Dictionary<long, Dictionary<string, string>>> TagsAsync(DbSession s, IReadOnlyCollection<long> ids)
    {
        var result = ids.ToDictionary(id => id, _ => new Dictionary<string, string>(StringComparer.Ordinal));
        if (ids.Count == 0) return result;
        var rows = await s.Connection.QueryAsync<KeyValueRow>(
            $"SELECT experiment_id AS owner_id, key, value FROM experiment_tags WHERE {s.Dialect.InSet("experiment_id", "ids")} ORDER BY key",
            new { ids = s.Dialect.Set(ids) }, s.Transaction);
        foreach (var row in rows)
            result[row.OwnerId][row.Key] = s.Fields.Show(s, TagBinding(row.OwnerId, row.Key), $"experiment {row.OwnerId} tag {row.Key}", row.Key, row.Value);
        return result;
    }

    public static Task SetTagAsync(DbSession s, long id, string key, string value, bool sensitive = false) =>
        s.Connection.ExecuteAsync("""
            INSERT INTO experiment_tags (experiment_id, key, value) VALUES (@id, @key, @value)
            ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value
            """, new { id, key, value = s.Fields.Seal(s, TagBinding(id, key), key, value, sensitive, $"tags.{key}") }, s.Transaction);

    /// <summary>What a sealed tag is bound to (AES-GCM associated data).</summary>
    internal static string TagBinding(long experimentId, string key) => $"experiment_tags/{experimentId}/{key}";

    public static Task<int> DeleteTagAsync(DbSession s, long id, string key) =>
        s.Connection.ExecuteAsync("DELETE FROM experiment_tags WHERE experiment_id = @id AND key = @key",
            new { id, key }, s.Transaction);

    public static Task<int> UpdateAsync(DbSession s, long id, string? name, string? description, long now) =>
        s.Connection.ExecuteAsync("""
            UPDATE experiments SET name = COALESCE(@name, name), description = COALESCE(@description, description), updated_at = @now, updated_by = @by
            WHERE id = @id
            """, new { id, name, description, now, by = s.Actor }, s.Transaction);

    /// <summary>
    /// Soft-deletes an active experiment and, with the same timestamp, its active runs. That timestamp is
    /// what restore matches on, so it is made later than any run of the experiment deleted before
    /// (a run deleted in the same millisecond must not come back with the experiment).
    /// </summary>
    public static async Task DeleteAsync(DbSession s, long id, long now)
    {
        var lastRunDeletion = await s.Connection.ExecuteScalarAsync<long?>(
            "SELECT MAX(deleted_at) FROM runs WHERE experiment_id = @id AND lifecycle = 'deleted'", new { id }, s.Transaction);
        if (lastRunDeletion >= now) now = lastRunDeletion.Value + 1;
        var changed = await s.Connection.ExecuteAsync(
            "UPDATE experiments SET lifecycle = 'deleted', deleted_at = @now, updated_at = @now, updated_by = @by WHERE id = @id AND lifecycle = 'active'",
            new { id, now, by = s.Actor }, s.Transaction);
        if (changed > 0)
            await s.Connection.ExecuteAsync(
                "UPDATE runs SET lifecycle = 'deleted', deleted_at = @now, updated_at = @now, updated_by = @by WHERE experiment_id = @id AND lifecycle = 'active'",
                new { id, now, by = s.Actor }, s.Transaction);
    }

    /// <summary>Restores a deleted experiment and exactly the runs its deletion took with it.</summary>
    public static async Task RestoreAsync(DbSession s, ExperimentRow row, long now)
    {
        if (row.IsActive) return;
        await s.Connection.ExecuteAsync(
            "UPDATE runs SET lifecycle = 'active', deleted_at = NULL, updated_at = @now, updated_by = @by WHERE experiment_id = @Id AND lifecycle = 'deleted' AND deleted_at = @DeletedAt",
            new { row.Id, row.DeletedAt, now, by = s.Actor }, s.Transaction);
        await s.Connection.ExecuteAsync(
            "UPDATE experiments SET lifecycle = 'active', deleted_at = NULL, updated_at = @now, updated_by = @by WHERE id = @id",
            new { id = row.Id, now, by = s.Actor }, s.Transaction);
    }

    public static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    /// <summary>Each experiment's artifact location: its own, else MLflow's default <c>mlflow-artifacts:/&lt;id&gt;</c>.</summary>
    public static async Task<Dictionary<long, string>> LocationsAsync(DbSession s, long[] experimentIds)
    {
        var result = experimentIds.ToDictionary(id => id, id => $"mlflow-artifacts:/{id}");
        if (experimentIds.Length == 0) return result;
        var rows = await s.Connection.QueryAsync<(long Id, string Location)>(
            $"SELECT id, artifact_location FROM experiments WHERE {s.Dialect.InList("id", "ids")} AND artifact_location IS NOT NULL",
            new { ids = experimentIds }, s.Transaction);
        foreach (var (id, location) in rows) result[id] = location;
        return result;
    }

}
