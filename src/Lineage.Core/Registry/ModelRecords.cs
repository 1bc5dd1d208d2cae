using Lineage.Core.Artifacts;

namespace Lineage.Core.Registry;

/// <summary>MLflow's model version stages; "None" is the initial stage.</summary>
public enum ModelStage { None, Staging, Production, Archived }

/// <summary>MLflow's model version statuses.</summary>
public enum ModelVersionStatus { PendingRegistration, Ready, FailedRegistration }

public enum PromotionStatus { Pending, Approved, Rejected }

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
