using System.Globalization;
using Dapper;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Governance;

/// <summary>Kinds of entity a request can name by a server-wide id, whose project the access rules check.</summary>
public enum EntityKind { Project, Experiment, Run, Execution, Context, Deployment, Promotion, ArtifactVersion, OpenLineageRun, ProxyPath, Webhook, AlertRule, Alert }

/// <summary>
/// The project an entity belongs to: one indexed lookup by primary or unique key, for the access middleware
/// (issue 7: the role is checked on the entity's project, not on the request's). Unscoped on purpose: it
/// answers which project to check, and the answer is never shown to the caller. Thread-safe.
/// </summary>
public sealed class EntityProjects(Database db)
{
    /// <summary>(id, name) of the entity's project; null when the key is malformed or nothing has it.</summary>
    public async Task<(long Id, string Name)?> ProjectOfAsync(EntityKind kind, string key)
    {
        var (sql, arg) = Lookup(kind, key);
        if (sql is null) return null;
        var rows = await db.ReadAsync(async s => (await s.Connection.QueryAsync<(long Id, string Name)>(
            $"SELECT p.id, p.name FROM projects p WHERE p.id = ({sql})", new { key = arg }, s.Transaction)).ToList());
        return rows.Count == 0 ? null : rows[0];
    }

    private static (string? Sql, object? Arg) Lookup(EntityKind kind, string key) => kind switch
    {
        EntityKind.Project => ("SELECT id FROM projects WHERE name = @key", key),
        // Spelled as the stores spell them: run ids in lower case, OpenLineage run ids as canonical UUIDs.
        EntityKind.Run => ("SELECT e.project_id FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.uuid = @key", key.ToLowerInvariant()),
        EntityKind.OpenLineageRun => Guid.TryParse(key, out var uuid)
            ? ("SELECT x.project_id FROM openlineage_runs r JOIN executions x ON x.id = r.execution_id WHERE r.run_uuid = @key", uuid.ToString("D"))
            : (null, null),
        EntityKind.ProxyPath => ($"SELECT {MLflow.MlflowAccess.ProjectOfPath.Replace("@top", "@key")}", Number(key.Split('/', 2)[0])),
        _ => Number(key) is { } id ? (kind switch
        {
            EntityKind.Experiment => "SELECT project_id FROM experiments WHERE id = @key",
            EntityKind.Execution => "SELECT project_id FROM executions WHERE id = @key",
            EntityKind.Context => "SELECT project_id FROM contexts WHERE id = @key",
            EntityKind.Deployment => "SELECT e.project_id FROM deployments d JOIN environments e ON e.id = d.environment_id WHERE d.id = @key",
            EntityKind.Promotion => "SELECT m.project_id FROM promotion_requests q JOIN registered_models m ON m.id = q.model_id WHERE q.id = @key",
            EntityKind.ArtifactVersion => "SELECT n.project_id FROM artifact_versions v JOIN artifact_names n ON n.id = v.name_id WHERE v.id = @key",
            EntityKind.Webhook => "SELECT project_id FROM webhooks WHERE id = @key",
            EntityKind.AlertRule => "SELECT project_id FROM alert_rules WHERE id = @key",
            EntityKind.Alert => "SELECT r.project_id FROM alerts a JOIN alert_rules r ON r.id = a.rule_id WHERE a.id = @key",
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        }, id) : (null, null),
    };

    private static long? Number(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
}
