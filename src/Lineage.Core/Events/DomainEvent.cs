namespace Lineage.Core.Events;

/// <summary>
/// A committed change someone may want to hear about (issue 14). <see cref="Seq"/> is the public id: monotonic per store
/// in commit order. <see cref="Entity"/> is <c>kind:key</c>; <see cref="Payload"/> a JSON object with the changed facts.
/// </summary>
public sealed record DomainEvent(long Seq, string Type, string Project, long Time, string? Actor, string Entity, string Payload);

/// <summary>What to read from the event log: types (exact or <c>prefix.*</c>), one project, after a seq, at most a page.</summary>
public sealed record EventQuery(IReadOnlyList<string> Types, string? Project, long After, int Limit);

/// <summary>The event types the store emits. A type is <c>entity.verb</c>; filters match exactly or by <c>entity.*</c>.</summary>
public static class EventTypes
{
    public const string ExperimentCreated = "experiment.created";
    public const string RunCreated = "run.created";
    public const string RunFinished = "run.finished";
    public const string RunFailed = "run.failed";
    public const string RunKilled = "run.killed";
    public const string RunDataLogged = "run.logged";
    public const string ArtifactVersionCreated = "artifact_version.created";
    public const string ArtifactVersionDeleted = "artifact_version.deleted";
    public const string ArtifactVersionRestored = "artifact_version.restored";
    public const string ArtifactAliasMoved = "artifact_alias.moved";
    public const string RegisteredModelCreated = "registered_model.created";
    public const string ModelVersionCreated = "model_version.created";
    public const string ModelVersionTagSet = "model_version_tag.set";
    public const string ModelVersionTagDeleted = "model_version_tag.deleted";
    public const string ModelAliasMoved = "model_alias.moved";
    public const string ModelStageChanged = "model_version.stage_changed";
    public const string PromotionRequested = "promotion.requested";
    public const string PromotionApproved = "promotion.approved";
    public const string PromotionRejected = "promotion.rejected";
    public const string DeploymentCreated = "deployment.created";
    public const string DeploymentStatusChanged = "deployment.status_changed";
    public const string DeploymentRolledBack = "deployment.rolled_back";
    public const string DatasetValidationFailed = "dataset.validation_failed";
    public const string DatasetFactsRecorded = "dataset.facts_recorded";
    public const string OpenLineageRunCompleted = "openlineage_run.completed";
    public const string OpenLineageRunFailed = "openlineage_run.failed";
    public const string WebhookTest = "webhook.test";
    public const string AlertFired = "alert.fired";
    public const string AlertResolved = "alert.resolved";

    public static IReadOnlyList<string> All { get; } =
    [
        ExperimentCreated, RunCreated, RunFinished, RunFailed, RunKilled, RunDataLogged, ArtifactVersionCreated, ArtifactVersionDeleted,
        ArtifactVersionRestored, ArtifactAliasMoved, RegisteredModelCreated, ModelVersionCreated, ModelVersionTagSet, ModelVersionTagDeleted,
        ModelAliasMoved, ModelStageChanged, PromotionRequested, PromotionApproved, PromotionRejected, DeploymentCreated, DeploymentStatusChanged,
        DeploymentRolledBack, DatasetValidationFailed, DatasetFactsRecorded, OpenLineageRunCompleted, OpenLineageRunFailed, WebhookTest, AlertFired, AlertResolved,
    ];

    /// <summary>True when <paramref name="type"/> is matched by <paramref name="pattern"/>: <c>*</c>, an exact type, or <c>entity.*</c>.</summary>
    public static bool Matches(string pattern, string type) =>
        pattern == "*" || pattern == type
        || (pattern.EndsWith(".*", StringComparison.Ordinal) && type.Length > pattern.Length - 1
            && type.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal));

    /// <summary>A filter pattern is <c>*</c>, a known type, or <c>entity.*</c> for a known entity; anything else is a typo.</summary>
    public static bool IsValidPattern(string pattern) =>
        pattern == "*" || All.Contains(pattern) || (pattern.EndsWith(".*", StringComparison.Ordinal) && All.Any(t => Matches(pattern, t)));
}
