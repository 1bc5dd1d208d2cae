using Dapper;
using Lineage.Core.Registry;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Registry;

/// <summary>Data access for environments, deployments and their status events. Never commits.</summary>
internal static class DeploymentAccess
{
    private const string SelectDeployment = """
        SELECT d.id, p.name AS project, d.environment_id, e.name AS environment, d.model_id, m.name AS model, d.version_id, mv.version,
               d.endpoint_url, d.config, d.status, d.rollback_of, d.execution_id, d.created_at, d.created_by, d.updated_at, d.updated_by
        FROM deployments d
        JOIN environments e ON e.id = d.environment_id
        JOIN projects p ON p.id = e.project_id
        JOIN registered_models m ON m.id = d.model_id
        JOIN model_versions mv ON mv.id = d.version_id
        """;

    public static Task<long> EnvironmentAsync(DbSession s, long projectId, string name, long now) =>
        s.Connection.ExecuteScalarAsync<long>("""
            INSERT INTO environments (project_id, name, created_at) VALUES (@projectId, @name, @now)
            ON CONFLICT (project_id, name) DO UPDATE SET name = excluded.name RETURNING id
            """, new { projectId, name, now }, s.Transaction);

    public static Task<long?> FindEnvironmentAsync(DbSession s, long projectId, string name) =>
        s.Connection.ExecuteScalarAsync<long?>("SELECT id FROM environments WHERE project_id = @projectId AND name = @name", new { projectId, name },
            s.Transaction);

    /// <summary>The live deployment of a model in an environment, locked (PostgreSQL) for the caller's transition.</summary>
    public static Task<DeploymentRow?> LiveAsync(DbSession s, long environmentId, long modelId) =>
        s.Connection.QueryFirstOrDefaultAsync<DeploymentRow>(
            $"{SelectDeployment} WHERE d.environment_id = @environmentId AND d.model_id = @modelId AND d.status <> 'retired'{s.Dialect.ForUpdate.Replace("FOR UPDATE", "FOR UPDATE OF d")}",
            new { environmentId, modelId }, s.Transaction);

    /// <summary>Inserts a live deployment; null when another live one for (environment, model) won a race.</summary>
    public static Task<long?> InsertAsync(DbSession s, long environmentId, long modelId, long versionId, string? endpointUrl, string config,
        long? rollbackOf, long? executionId, string? user, long now) =>
        s.Connection.QueryFirstOrDefaultAsync<long?>("""
            INSERT INTO deployments (environment_id, model_id, version_id, endpoint_url, config, status, rollback_of, execution_id, created_at, created_by, updated_at, updated_by)
            VALUES (@environmentId, @modelId, @versionId, @endpointUrl, @config, 'pending', @rollbackOf, @executionId, @now, @user, @now, @user)
            ON CONFLICT (environment_id, model_id) WHERE status <> 'retired' DO NOTHING RETURNING id
            """, new { environmentId, modelId, versionId, endpointUrl, config, rollbackOf, executionId, now, user }, s.Transaction);

    public static Task<int> SetStatusAsync(DbSession s, long id, DeploymentStatus from, DeploymentStatus to, long now) =>
        s.Connection.ExecuteAsync("UPDATE deployments SET status = @to, updated_at = @now, updated_by = @by WHERE id = @id AND status = @from",
            new { id, from = RegistryRules.DeploymentText(from), to = RegistryRules.DeploymentText(to), now, by = s.Actor }, s.Transaction);

    public static Task AddEventAsync(DbSession s, long deploymentId, DeploymentStatus status, string? reason, string? actor, long now) =>
        s.Connection.ExecuteAsync("INSERT INTO deployment_events (deployment_id, status, reason, at, actor) VALUES (@deploymentId, @status, @reason, @now, @actor)",
            new { deploymentId, status = RegistryRules.DeploymentText(status), reason, now, actor }, s.Transaction);

    public static Task<DeploymentRow?> FindAsync(DbSession s, long id) =>
        s.Connection.QueryFirstOrDefaultAsync<DeploymentRow>($"{SelectDeployment} WHERE d.id = @id{s.Visible("e.project_id")}", new { id }, s.Transaction);

    public static async Task<IReadOnlyList<DeploymentRow>> ListAsync(DbSession s, long? projectId, long? environmentId, long? modelId, string? status,
        bool liveOnly, long? beforeId, int limit) =>
        (await s.Connection.QueryAsync<DeploymentRow>($"""
            {SelectDeployment}
            WHERE (@projectId IS NULL OR e.project_id = @projectId){s.Visible("e.project_id")} AND (@environmentId IS NULL OR d.environment_id = @environmentId)
              AND (@modelId IS NULL OR d.model_id = @modelId) AND (@status IS NULL OR d.status = @status)
              {(liveOnly ? "AND d.status <> 'retired'" : "")} AND (@beforeId IS NULL OR d.id < @beforeId)
            ORDER BY {(liveOnly ? "e.name, m.name" : "d.id DESC")} LIMIT @limit
            """, new { projectId, environmentId, modelId, status, beforeId, limit }, s.Transaction)).ToList();

    /// <summary>An earlier deployment of the model in the environment with another version, preferring ones that became healthy.</summary>
    public static Task<DeploymentRow?> RollbackTargetAsync(DbSession s, DeploymentRow current) =>
        s.Connection.QueryFirstOrDefaultAsync<DeploymentRow>($"""
            {SelectDeployment}
            WHERE d.environment_id = @EnvironmentId AND d.model_id = @ModelId AND d.id < @Id AND d.version_id <> @VersionId
            ORDER BY CASE WHEN EXISTS (SELECT 1 FROM deployment_events x WHERE x.deployment_id = d.id AND x.status = 'healthy') THEN 0 ELSE 1 END, d.id DESC
            LIMIT 1
            """, new { current.EnvironmentId, current.ModelId, current.Id, current.VersionId }, s.Transaction);

    public static async Task<IReadOnlyList<Deployment>> LoadAsync(DbSession s, IReadOnlyList<DeploymentRow> rows)
    {
        if (rows.Count == 0) return [];
        var ids = rows.Select(r => r.Id).ToArray();
        var events = (await s.Connection.QueryAsync<DeploymentEventRow>(
            $"SELECT deployment_id, status, reason, at, actor FROM deployment_events WHERE {s.Dialect.InSet("deployment_id", "ids")} ORDER BY id",
            new { ids = s.Dialect.Set(ids) }, s.Transaction)).ToLookup(e => e.DeploymentId, e => e.ToModel());
        return rows.Select(r => r.ToModel(events[r.Id].ToList())).ToList();
    }

    public static async Task<IReadOnlyList<EnvironmentStats>> StatsAsync(DbSession s, long? projectId) =>
        (await s.Connection.QueryAsync<(string Project, string Environment, long Total, long Succeeded, long Failed, long Rollbacks)>($"""
            SELECT p.name, e.name, COUNT(*),
                   SUM(CASE WHEN EXISTS (SELECT 1 FROM deployment_events x WHERE x.deployment_id = d.id AND x.status = 'healthy') THEN 1 ELSE 0 END),
                   SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM deployment_events x WHERE x.deployment_id = d.id AND x.status = 'healthy')
                             AND EXISTS (SELECT 1 FROM deployment_events x WHERE x.deployment_id = d.id AND x.status = 'failed') THEN 1 ELSE 0 END),
                   SUM(CASE WHEN d.rollback_of IS NULL THEN 0 ELSE 1 END)
            FROM deployments d JOIN environments e ON e.id = d.environment_id JOIN projects p ON p.id = e.project_id
            WHERE (@projectId IS NULL OR e.project_id = @projectId){s.Visible("e.project_id")}
            GROUP BY p.name, e.name ORDER BY p.name, e.name
            """, new { projectId }, s.Transaction)).Select(r => new EnvironmentStats(r.Project, r.Environment, r.Total, r.Succeeded, r.Failed, r.Rollbacks))
        .ToList();
}
