using System.Text.Json;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Lineage;
using Lineage.Core.Registry;
using Lineage.Core.Tracking;
using Lineage.Core.Events;
using Lineage.Storage.Engine;
using Lineage.Storage.Events;
using Lineage.Storage.Lineage;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Registry;

/// <summary>
/// Deployments of model versions to environments, as part of the lineage graph: each deployment is an
/// execution of type <c>deployment</c> that consumed the model's artifact version, so impact queries reach
/// deployments from raw data. At most one live (non-retired) deployment per (environment, model), a database
/// rule: deploying again retires the previous one in the same transaction. Status moves
/// pending → healthy / degraded / failed → retired, each with time and actor; rollback redeploys the previous
/// version as a new deployment recorded as a rollback of the current one. Each public method is one transaction.
/// Errors: no environment, a version that is not READY → INVALID_PARAMETER_VALUE; unknown ids → RESOURCE_DOES_NOT_EXIST;
/// a transition the state machine forbids, nothing to roll back to → CONFLICT.
/// </summary>
public sealed class DeploymentStore(Database db)
{
    public Task<Deployment> DeployAsync(DeploymentRequest r)
    {
        var environment = RegistryRules.Environment(r.Environment);
        RegistryRules.ModelName(r.Model, "model");
        if (r.Version < 1) throw LineageException.Invalid("version", "'version' must be 1 or more");
        var url = RegistryRules.EndpointUrl(r.EndpointUrl);
        var config = ArtifactRules.Metadata(r.Config, "config");
        return db.WriteAsync(async s =>
        {
            var model = await RegistryAccess.RequireModelAsync(s, r.Project, r.Model);
            var version = await RegistryAccess.RequireVersionAsync(s, model, r.Version);
            var id = await DeployAsync(s, model, version, environment, url, config, null, s.Actor, $"replaced by {r.Model} v{r.Version}");
            return await LoadAsync(s, id);
        }, keyed: true);
    }

    private static async Task<long> DeployAsync(DbSession s, ModelRow model, ModelVersionRow version, string environment, string? url, string config,
        long? rollbackOf, string? user, string retireReason)
    {
        if (version.StatusValue != ModelVersionStatus.Ready)
            throw LineageException.Invalid("version", $"version {version.Version} of '{model.Name}' is {version.Status}; only a READY version can be deployed");
        var now = Clock.NowMs();
        var envId = await DeploymentAccess.EnvironmentAsync(s, model.ProjectId, environment, now);
        if (await DeploymentAccess.LiveAsync(s, envId, model.Id) is { } live)
            await MoveAsync(s, live, DeploymentStatus.Retired, retireReason, user, now);
        // The deployment consumed the model's artifact: a new execution, so the edge cannot close a cycle.
        var properties = JsonSerializer.Serialize(new Dictionary<string, string?>
            { ["environment"] = environment, ["endpointUrl"] = url, ["model"] = model.Name, ["version"] = version.Version.ToString() });
        var execution = await LineageAccess.CreateExecutionAsync(s, model.ProjectId, "deployment", $"deploy {model.Name} v{version.Version} to {environment}",
            ExecutionState.Running, now, null, properties, null, now);
        await LineageAccess.AddEventAsync(s, execution, version.ArtifactId, EventKind.Input, "model", now);
        var id = await DeploymentAccess.InsertAsync(s, envId, model.Id, version.Id, url, config, rollbackOf, execution, user, now)
                 ?? throw new RetryTransactionException($"another deployment of '{model.Name}' to '{environment}' committed first");
        await DeploymentAccess.AddEventAsync(s, id, DeploymentStatus.Pending, rollbackOf is null ? null : $"rollback of deployment {rollbackOf}", user, now);
        await EventOutbox.AppendAsync(s, rollbackOf is null ? EventTypes.DeploymentCreated : EventTypes.DeploymentRolledBack, model.ProjectId, $"deployment:{id}",
            new { deploymentId = id, environment, model = model.Name, version = version.Version, endpointUrl = url, rollbackOf, status = "pending" });
        return id;
    }

    /// <summary>Moves a deployment to a new status; the move is an event with time and actor.</summary>
    public Task<Deployment> SetStatusAsync(long id, DeploymentStatus status, string? reason)
    {
        Validate.Text(reason, "reason", Limits.MaxDescriptionLength, required: false);
        return db.WriteAsync(async s =>
        {
            var row = await RequireAsync(s, id);
            if (row.StatusValue == status) return await LoadAsync(s, id);
            if (!RegistryRules.CanMove(row.StatusValue, status))
                throw LineageException.Conflict($"deployment {id} is {row.Status}; it cannot move to {RegistryRules.DeploymentText(status)}");
            await MoveAsync(s, row, status, reason, s.Actor, Clock.NowMs());
            await EventOutbox.AppendAsync(s, EventTypes.DeploymentStatusChanged, EventProject.Named(row.Project), $"deployment:{id}",
                new { deploymentId = id, row.Environment, row.Model, row.Version, fromStatus = row.Status, toStatus = RegistryRules.DeploymentText(status), reason });
            return await LoadAsync(s, id);
        }, keyed: true);
    }

    /// <summary>Redeploys the previous version of the model in the environment; the current deployment is retired.</summary>
    public Task<Deployment> RollbackAsync(long id, string? reason)
    {
        Validate.Text(reason, "reason", Limits.MaxDescriptionLength, required: false);
        return db.WriteAsync(async s =>
        {
            var current = await RequireAsync(s, id);
            if (current.StatusValue == DeploymentStatus.Retired)
                throw LineageException.Conflict($"deployment {id} is retired; roll back the live deployment of '{current.Model}' in '{current.Environment}'");
            var target = await DeploymentAccess.RollbackTargetAsync(s, current)
                         ?? throw LineageException.Conflict($"'{current.Model}' has no earlier version deployed to '{current.Environment}' to roll back to");
            var model = await RegistryAccess.RequireModelAsync(s, current.Project, current.Model);
            var version = await RegistryAccess.RequireVersionAsync(s, model, target.Version);
            var newId = await DeployAsync(s, model, version, current.Environment, target.EndpointUrl, target.Config, current.Id, s.Actor,
                reason is null ? $"rolled back to v{target.Version}" : $"rolled back to v{target.Version}: {reason}");
            return await LoadAsync(s, newId);
        }, keyed: true);
    }

    public Task<Deployment> GetAsync(long id) => db.ReadAsync(async s => { await RequireAsync(s, id); return await LoadAsync(s, id); });

    /// <summary>Deployments newest first; <paramref name="liveOnly"/> gives "what is deployed where right now".</summary>
    public Task<Page<Deployment>> ListAsync(string? project, string? environment, string? model, DeploymentStatus? status, bool liveOnly,
        int limit = 100, string? pageToken = null)
    {
        Validate.PageSize(limit);
        var before = PageToken.DecodeOne(pageToken);
        return db.ReadAsync(async s =>
        {
            long? projectId = project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, project)).Id;
            long? envId = null, modelId = null;
            if (environment is not null)
            {
                var pid = projectId ?? (await ExperimentAccess.RequireProjectAsync(s, OperationContext.DefaultProject)).Id;
                envId = await DeploymentAccess.FindEnvironmentAsync(s, pid, environment)
                        ?? throw LineageException.NotFound($"environment '{environment}' has never had a deployment");
            }
            if (model is not null) modelId = (await RegistryAccess.RequireModelAsync(s, project, model)).Id;
            var rows = await DeploymentAccess.ListAsync(s, projectId, envId, modelId, status is { } st ? RegistryRules.DeploymentText(st) : null, liveOnly,
                liveOnly ? null : before, liveOnly ? Limits.MaxPageSize + 1 : limit + 1);
            var take = liveOnly ? rows.Count : Math.Min(rows.Count, limit);
            var page = rows.Take(take).ToList();
            return new Page<Deployment>(await DeploymentAccess.LoadAsync(s, page),
                !liveOnly && rows.Count > limit ? PageToken.Encode(page[^1].Id) : null);
        });
    }

    public Task<IReadOnlyList<EnvironmentStats>> StatsAsync(string? project) =>
        db.ReadAsync(async s =>
        {
            long? projectId = project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, project)).Id;
            return await DeploymentAccess.StatsAsync(s, projectId);
        });

    private static async Task MoveAsync(DbSession s, DeploymentRow row, DeploymentStatus to, string? reason, string? user, long now)
    {
        if (await DeploymentAccess.SetStatusAsync(s, row.Id, row.StatusValue, to, now) == 0)
            throw new RetryTransactionException($"deployment {row.Id} changed concurrently");
        await DeploymentAccess.AddEventAsync(s, row.Id, to, reason, user, now);
        if (row.ExecutionId is { } execution)
        {
            ExecutionState? state = to switch
            {
                DeploymentStatus.Healthy or DeploymentStatus.Degraded => ExecutionState.Complete,
                DeploymentStatus.Failed => ExecutionState.Failed,
                DeploymentStatus.Pending => ExecutionState.Running,
                _ => null,
            };
            if (state is { } st) await LineageAccess.UpdateExecutionAsync(s, execution, st, st == ExecutionState.Running ? null : now);
        }
    }

    private static async Task<DeploymentRow> RequireAsync(DbSession s, long id) =>
        await DeploymentAccess.FindAsync(s, id) ?? throw LineageException.NotFound($"deployment {id} does not exist");

    private static async Task<Deployment> LoadAsync(DbSession s, long id) => (await DeploymentAccess.LoadAsync(s, [(await DeploymentAccess.FindAsync(s, id))!]))[0];
}
