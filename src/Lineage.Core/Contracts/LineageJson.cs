using System.Text.Json;
using System.Text.Json.Serialization;
using Lineage.Core.Contracts.V1;

namespace Lineage.Core.Contracts;

/// <summary>
/// One JSON shape for every native surface: camelCase, nulls omitted, NaN and ±Infinity
/// written as the strings "NaN", "Infinity", "-Infinity" (JSON has no literal for them),
/// unknown fields rejected so a typo is a 400 naming it rather than a silent default, and a key given
/// twice in one object rejected (which of the two would win is not something a client should rely on).
/// Source-generated: the batch endpoint parses millions of points a second.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(ProjectDto))]
[JsonSerializable(typeof(CreateProjectRequest))]
[JsonSerializable(typeof(ProjectListResponse))]
[JsonSerializable(typeof(ExperimentDto))]
[JsonSerializable(typeof(CreateExperimentRequest))]
[JsonSerializable(typeof(UpdateExperimentRequest))]
[JsonSerializable(typeof(ExperimentListResponse))]
[JsonSerializable(typeof(SetTagRequest))]
[JsonSerializable(typeof(RunDto))]
[JsonSerializable(typeof(CreateRunRequest))]
[JsonSerializable(typeof(UpdateRunRequest))]
[JsonSerializable(typeof(RunListResponse))]
[JsonSerializable(typeof(LogMetricRequest))]
[JsonSerializable(typeof(LogParamRequest))]
[JsonSerializable(typeof(BatchRequest))]
[JsonSerializable(typeof(BatchResponse))]
[JsonSerializable(typeof(MetricHistoryResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(OpenLineageIngestResponse))]
[JsonSerializable(typeof(ExecutionDto))]
[JsonSerializable(typeof(CreateExecutionRequest))]
[JsonSerializable(typeof(UpdateExecutionRequest))]
[JsonSerializable(typeof(AddEventsRequest))]
[JsonSerializable(typeof(ExecutionListResponse))]
[JsonSerializable(typeof(ContextDto))]
[JsonSerializable(typeof(CreateContextRequest))]
[JsonSerializable(typeof(ContextMembersRequest))]
[JsonSerializable(typeof(ContextMembersResponse))]
[JsonSerializable(typeof(GraphResponse))]
[JsonSerializable(typeof(ImpactResponse))]
[JsonSerializable(typeof(ProvenanceResponse))]
[JsonSerializable(typeof(EventRequest))]
[JsonSerializable(typeof(BlobDto))]
[JsonSerializable(typeof(RegisterArtifactRequest))]
[JsonSerializable(typeof(ArtifactVersionDto))]
[JsonSerializable(typeof(ArtifactListResponse))]
[JsonSerializable(typeof(ManifestResponse))]
[JsonSerializable(typeof(SetAliasRequest))]
[JsonSerializable(typeof(UpdateArtifactRequest))]
[JsonSerializable(typeof(AliasHistoryResponse))]
[JsonSerializable(typeof(ArtifactEditsResponse))]
[JsonSerializable(typeof(RetentionPolicyDto))]
[JsonSerializable(typeof(RetentionPolicyListResponse))]
// Registry, deployments, datasets, features (issue 5).
[JsonSerializable(typeof(CreateModelRequest))]
[JsonSerializable(typeof(RegisteredModelDto))]
[JsonSerializable(typeof(ModelListResponse))]
[JsonSerializable(typeof(UpdateModelRequest))]
[JsonSerializable(typeof(SetApproversRequest))]
[JsonSerializable(typeof(CreateModelVersionRequest))]
[JsonSerializable(typeof(ModelVersionDto))]
[JsonSerializable(typeof(ModelVersionListResponse))]
[JsonSerializable(typeof(UpdateModelVersionRequest))]
[JsonSerializable(typeof(TransitionStageRequest))]
[JsonSerializable(typeof(RegistryHistoryResponse))]
[JsonSerializable(typeof(CreatePromotionRequest))]
[JsonSerializable(typeof(PromotionDto))]
[JsonSerializable(typeof(PromotionListResponse))]
[JsonSerializable(typeof(DecisionRequest))]
[JsonSerializable(typeof(CreateDeploymentRequest))]
[JsonSerializable(typeof(DeploymentDto))]
[JsonSerializable(typeof(DeploymentListResponse))]
[JsonSerializable(typeof(DeploymentStatusRequest))]
[JsonSerializable(typeof(RollbackRequest))]
[JsonSerializable(typeof(EnvironmentStatsResponse))]
[JsonSerializable(typeof(CreateSchemaRequest))]
[JsonSerializable(typeof(DatasetSchemaDto))]
[JsonSerializable(typeof(DatasetFactsRequest))]
[JsonSerializable(typeof(ValidationsRequest))]
[JsonSerializable(typeof(DatasetVersionDto))]
[JsonSerializable(typeof(SchemaDiffResponse))]
[JsonSerializable(typeof(CreateFeatureSetRequest))]
[JsonSerializable(typeof(FeatureSetDto))]
[JsonSerializable(typeof(FeatureUsageResponse))]
[JsonSerializable(typeof(VerifyManifestResponse))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonObject))]
public sealed partial class LineageJson : JsonSerializerContext;
