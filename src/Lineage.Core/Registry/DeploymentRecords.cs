namespace Lineage.Core.Registry;

/// <summary>Deployment states: pending → healthy / degraded / failed → retired.</summary>
public enum DeploymentStatus { Pending, Healthy, Degraded, Failed, Retired }

public sealed record DeploymentEvent(DeploymentStatus Status, string? Reason, long At, string? Actor);

/// <summary>A model version deployed to an environment. At most one non-retired deployment per (environment, model).</summary>
public sealed record Deployment(
    long Id,
    string Project,
    string Environment,
    string Model,
    long Version,
    string? EndpointUrl,
    string Config,
    DeploymentStatus Status,
    long? RollbackOf,
    long? ExecutionId,
    long CreatedAt,
    string? CreatedBy,
    long UpdatedAt,
    IReadOnlyList<DeploymentEvent> Events)
{
    /// <summary>Who changed the record last (provenance, migration 10); null when unknown.</summary>
    public string? UpdatedBy { get; init; }
}

public sealed record DeploymentRequest(string? Project, string? Environment, string Model, long Version, string? EndpointUrl, string? Config);

public sealed record EnvironmentStats(string Project, string Environment, long Deployments, long Succeeded, long Failed, long Rollbacks)
{
    /// <summary>Succeeded / (succeeded + failed): deployments that became healthy among those that reached a verdict.</summary>
    public double? SuccessRate => Succeeded + Failed == 0 ? null : (double)Succeeded / (Succeeded + Failed);
}
