using Lineage.Core.Artifacts;

namespace Lineage.Core.Registry;

/// <summary>MLflow's model version stages; "None" is the initial stage.</summary>
public enum ModelStage { None, Staging, Production, Archived }

/// <summary>MLflow's model version statuses.</summary>
public enum ModelVersionStatus { PendingRegistration, Ready, FailedRegistration }

public enum PromotionStatus { Pending, Approved, Rejected }

/// <summary>Deployment states: pending → healthy / degraded / failed → retired.</summary>
public enum DeploymentStatus { Pending, Healthy, Degraded, Failed, Retired }

/// <summary>How a caller names an artifact version: by id, or by name and version reference.</summary>
public sealed record ArtifactPointer(long? Id, string? Project, string? Name, VersionRef Ref, string Field);

/// <summary>A named model in the registry (MLflow: RegisteredModel). Versions are numbered per model from 1.</summary>
public sealed record RegisteredModel(
    long Id,
    string Project,
    string Name,
    string? Description,
    long LatestVersion,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyDictionary<string, long> Aliases,
    IReadOnlyList<string> Approvers,
    long CreatedAt,
    string? CreatedBy,
    long UpdatedAt)
{
    /// <summary>Who changed the record last (provenance, migration 10); null when unknown.</summary>
    public string? UpdatedBy { get; init; }
}

/// <summary>A declared input feature of a model version: name, dtype, shape (empty shape = scalar).</summary>
public sealed record FeatureSpec(string Name, string Dtype, IReadOnlyList<int> Shape);

/// <summary>
/// One version of a registered model: a typed view over an artifact version (the model's bytes),
/// keeping the run that produced it; lineage to the data is the artifact's lineage.
/// </summary>
public sealed record ModelVersion(
    long Id,
    string Project,
    string Model,
    long Version,
    ModelVersionStatus Status,
    string? StatusMessage,
    ModelStage Stage,
    string? Description,
    ArtifactVersion Artifact,
    string? RunId,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<string> Aliases,
    ArtifactVersion? FeatureSet,
    IReadOnlyList<FeatureSpec> InputFeatures,
    long CreatedAt,
    string? CreatedBy,
    long UpdatedAt)
{
    /// <summary>Who changed the record last (provenance, migration 10); null when unknown.</summary>
    public string? UpdatedBy { get; init; }
}

/// <summary>What a caller gives to create a model version.</summary>
public sealed record ModelVersionRegistration(
    string? Project,
    string Model,
    ArtifactPointer? Artifact,
    string? RunId,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    ModelVersionStatus Status = ModelVersionStatus.Ready,
    ArtifactPointer? FeatureSet = null,
    IReadOnlyList<FeatureSpec>? InputFeatures = null);

/// <summary>One change of an alias or a stage: kind "alias" (Name = the alias) or "stage".</summary>
public sealed record RegistryChange(
    long Id,
    string Model,
    string Kind,
    string? Name,
    long? Version,
    string? OldValue,
    string? NewValue,
    long ChangedAt,
    string? ChangedBy,
    long? RequestId);

/// <summary>A request to point an alias at a version or move it to a stage, decided by an approver.</summary>
public sealed record PromotionRequest(
    long Id,
    string Project,
    string Model,
    long Version,
    string Kind,
    string Target,
    bool ArchiveExisting,
    PromotionStatus Status,
    string? Comment,
    long RequestedAt,
    string? RequestedBy,
    long? DecidedAt,
    string? DecidedBy,
    string? DecisionComment);

public sealed record ModelVersionQuery(
    string? Project = null,
    string? Model = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    ModelStage? Stage = null,
    ModelVersionStatus? Status = null,
    int Limit = 100,
    string? PageToken = null);

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

/// <summary>A column of a dataset schema.</summary>
public sealed record ColumnSpec(string Name, string Dtype, bool Nullable);

public sealed record DatasetSchema(string Project, string Name, long Version, IReadOnlyList<ColumnSpec> Columns, long CreatedAt, string? CreatedBy);

public sealed record ColumnProfile(double? MissingPct, double? Min, double? Max, double? Mean, long? DistinctCount);

public sealed record ValidationCheck(string Name, bool Passed, string? Details, long RunAt, string? RunBy);

/// <summary>What is known of a dataset version beyond its bytes.</summary>
public sealed record DatasetFacts(
    string? SourceUri,
    string? SourceSystem,
    long? IngestedAt,
    string? SchemaName,
    long? SchemaVersion,
    IReadOnlyList<ColumnSpec> Columns,
    long? RowCount,
    IReadOnlyDictionary<string, ColumnProfile> Profile,
    long CreatedAt,
    string? CreatedBy);

/// <summary>A dataset version: an artifact version of type dataset, with its facts and validation results.</summary>
public sealed record DatasetVersion(ArtifactVersion Artifact, DatasetFacts? Facts, IReadOnlyList<ValidationCheck> Validations);

public sealed record DatasetFactsInput(string? SourceUri, string? SourceSystem, long? IngestedAt, string? Schema, IReadOnlyList<ColumnSpec>? Columns,
    long? RowCount, IReadOnlyDictionary<string, ColumnProfile>? Profile);

public sealed record ColumnChange(string Column, string Change, string? From, string? To);

public sealed record SchemaDiff(string Name, long From, long To, IReadOnlyList<ColumnChange> Changes);

/// <summary>A feature definition inside a feature set version.</summary>
public sealed record FeatureDefinition(string Name, string Dtype, IReadOnlyList<int> Shape, string? Description, string? Transformation, string? Owner);

/// <summary>A feature set version: an artifact version of type feature_set whose content is its definitions.</summary>
public sealed record FeatureSet(ArtifactVersion Artifact, IReadOnlyList<FeatureDefinition> Features, IReadOnlyList<ArtifactVersion> DerivedFrom);

public sealed record FeatureSetRegistration(string? Project, string Name, string? Description, IReadOnlyList<FeatureDefinition> Features,
    IReadOnlyList<ArtifactPointer> DerivedFrom, string? RunId);

/// <summary>Where a feature is defined and which model versions consume it.</summary>
public sealed record FeatureUsage(string Feature, IReadOnlyList<ArtifactVersion> FeatureSets, IReadOnlyList<(string Model, long Version)> ModelVersions);
