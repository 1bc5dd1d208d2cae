using System.Text.Json;

// Wire contracts for the model registry, deployments, datasets and features in the native API /api/v1.
namespace Lineage.Core.Contracts.V1;

public sealed record CreateModelRequest(string? Name, string? Project = null, string? Description = null, Dictionary<string, string>? Tags = null,
    List<string>? Approvers = null);

public sealed record RegisteredModelDto(string Project, string Name, string? Description, long LatestVersion, Dictionary<string, string> Tags,
    Dictionary<string, long> Aliases, List<string> Approvers, long CreatedAt, string? CreatedBy, long UpdatedAt, string? UpdatedBy = null);

public sealed record ModelListResponse(List<RegisteredModelDto> Models, string? NextPageToken);

public sealed record UpdateModelRequest(string? Description);

public sealed record SetApproversRequest(List<string>? Approvers);

public sealed record FeatureSpecDto(string? Name, string? Dtype, List<int>? Shape = null);

/// <summary>
/// Register a model version from an artifact version (<c>artifact</c>: id, or name + version) — with <c>runId</c> the
/// artifact must have been produced by that run; a run's artifact can also be named as <c>artifact.name</c> + <c>runId</c>.
/// </summary>
public sealed record CreateModelVersionRequest(ArtifactRefDto? Artifact, string? RunId = null, string? Description = null,
    Dictionary<string, string>? Tags = null, string? Status = null, ArtifactRefDto? FeatureSet = null, List<FeatureSpecDto>? InputFeatures = null);

public sealed record ModelVersionDto(string Project, string Model, long Version, string Status, string? StatusMessage, string Stage, string? Description,
    ArtifactVersionDto Artifact, string? RunId, Dictionary<string, string> Tags, List<string> Aliases, ArtifactVersionDto? FeatureSet,
    List<FeatureSpecDto> InputFeatures, long CreatedAt, string? CreatedBy, long UpdatedAt, string? UpdatedBy = null);

public sealed record ModelVersionListResponse(List<ModelVersionDto> Versions, string? NextPageToken);

public sealed record UpdateModelVersionRequest(string? Description = null, string? Status = null, string? StatusMessage = null);

public sealed record TransitionStageRequest(string? Stage, bool? ArchiveExisting = null);

public sealed record RegistryChangeDto(string Id, string Kind, string? Name, long? Version, string? OldValue, string? NewValue, long ChangedAt,
    string? ChangedBy, string? RequestId);

public sealed record RegistryHistoryResponse(List<RegistryChangeDto> Changes);

/// <summary>A promotion request: exactly one of <c>alias</c> or <c>stage</c>.</summary>
public sealed record CreatePromotionRequest(long? Version, string? Alias = null, string? Stage = null, bool? ArchiveExisting = null, string? Comment = null);

public sealed record PromotionDto(string Id, string Project, string Model, long Version, string Kind, string Target, bool ArchiveExisting, string Status,
    string? Comment, long RequestedAt, string? RequestedBy, long? DecidedAt, string? DecidedBy, string? DecisionComment);

public sealed record PromotionListResponse(List<PromotionDto> Requests, string? NextPageToken);

public sealed record DecisionRequest(string? Comment = null);

public sealed record CreateDeploymentRequest(string? Environment, string? Model, long? Version, string? EndpointUrl = null, JsonElement? Config = null,
    string? Project = null);

public sealed record DeploymentEventDto(string Status, string? Reason, long At, string? Actor);

public sealed record DeploymentDto(string Id, string Project, string Environment, string Model, long Version, string? EndpointUrl, JsonElement Config,
    string Status, string? RollbackOf, string? ExecutionId, long CreatedAt, string? CreatedBy, long UpdatedAt, List<DeploymentEventDto> Events,
    string? UpdatedBy = null);

public sealed record DeploymentListResponse(List<DeploymentDto> Deployments, string? NextPageToken);

public sealed record DeploymentStatusRequest(string? Status, string? Reason = null);

public sealed record RollbackRequest(string? Reason = null);

public sealed record EnvironmentStatsDto(string Project, string Environment, long Deployments, long Succeeded, long Failed, long Rollbacks,
    double? SuccessRate);

public sealed record EnvironmentStatsResponse(List<EnvironmentStatsDto> Environments);

public sealed record ColumnSpecDto(string? Name, string? Dtype, bool? Nullable = null);

public sealed record CreateSchemaRequest(string? Name, List<ColumnSpecDto>? Columns, string? Project = null);

public sealed record DatasetSchemaDto(string Project, string Name, long Version, List<ColumnSpecDto> Columns, long CreatedAt, string? CreatedBy);

public sealed record DatasetSourceDto(string? Uri = null, string? System = null, long? IngestedAt = null);

public sealed record ColumnProfileDto(double? MissingPct = null, double? Min = null, double? Max = null, double? Mean = null, long? DistinctCount = null,
    ColumnHistogramDto? Histogram = null, ColumnQuantilesDto? Quantiles = null, Dictionary<string, double>? Frequencies = null);

/// <summary>Bin edges (strictly increasing) and one count per bin: what PSI drift rules compare.</summary>
public sealed record ColumnHistogramDto(List<double>? Edges, List<double>? Counts);

/// <summary>Quantile values at increasing probabilities: what KS drift rules compare.</summary>
public sealed record ColumnQuantilesDto(List<double>? Probabilities, List<double>? Values);

/// <summary>The facts of a dataset version; <c>schema</c> ("name@version") declares a schema the columns must match.</summary>
public sealed record DatasetFactsRequest(List<ColumnSpecDto>? Columns, DatasetSourceDto? Source = null, string? Schema = null, long? RowCount = null,
    Dictionary<string, ColumnProfileDto>? Profile = null);

public sealed record ValidationCheckDto(string? Name, bool? Passed, string? Details = null, long? RunAt = null, string? RunBy = null);

public sealed record ValidationsRequest(List<ValidationCheckDto>? Checks);

public sealed record DatasetFactsDto(DatasetSourceDto Source, string? Schema, List<ColumnSpecDto> Columns, long? RowCount,
    Dictionary<string, ColumnProfileDto> Profile, long CreatedAt, string? CreatedBy);

public sealed record DatasetVersionDto(ArtifactVersionDto Artifact, DatasetFactsDto? Facts, List<ValidationCheckDto> Validations);

public sealed record FailingDatasetDto(string Name, long Version, int FailedChecks);

/// <summary><c>GET /api/v1/datasets/failing</c>: dataset versions whose latest result of some check failed, newest first.</summary>
public sealed record FailingDatasetsResponse(List<FailingDatasetDto> Versions);

public sealed record ColumnChangeDto(string Column, string Change, string? From, string? To);

public sealed record SchemaDiffResponse(string Name, long From, long To, List<ColumnChangeDto> Changes);

public sealed record FeatureDefinitionDto(string? Name, string? Dtype, List<int>? Shape = null, string? Description = null, string? Transformation = null,
    string? Owner = null);

public sealed record CreateFeatureSetRequest(string? Name, List<FeatureDefinitionDto>? Features, string? Project = null, string? Description = null,
    List<ArtifactRefDto>? DerivedFrom = null, string? RunId = null);

public sealed record FeatureSetDto(ArtifactVersionDto Artifact, List<FeatureDefinitionDto> Features, List<ArtifactVersionDto> DerivedFrom);

public sealed record ModelVersionRefDto(string Model, long Version);

public sealed record FeatureUsageResponse(string Feature, List<ArtifactVersionDto> FeatureSets, List<ModelVersionRefDto> ModelVersions);

public sealed record DigestCheckDto(string Project, string Name, long Version, string Digest, string Status, string? Detail);

public sealed record VerifyManifestResponse(bool Ok, List<DigestCheckDto> Checks);
