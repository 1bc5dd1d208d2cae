using System.Text.Json.Serialization;

namespace Lineage.Server.MLflow;

// MLflow's wire shapes (mlflow/protos/service.proto, mlflow_artifacts.proto) as protobuf JSON:
// snake_case names, ids as strings, times and steps as numbers, fields at their default left out
// (null here), so an empty search answers {} and the last page has no next_page_token.

public sealed record MlTag(string Key, string Value);

public sealed record MlExperiment(string ExperimentId, string Name, string ArtifactLocation, string LifecycleStage,
    long LastUpdateTime, long CreationTime, List<MlTag>? Tags);

public sealed record MlRunInfo(string RunUuid, string ExperimentId, string RunName, string UserId, string Status, long StartTime,
    long? EndTime, string ArtifactUri, string LifecycleStage, string RunId);

public sealed record MlMetric(string Key, double Value, long Timestamp, long Step, string? RunId = null);

public sealed record MlRunData(List<MlMetric>? Metrics, List<MlTag>? Params, List<MlTag>? Tags);

public sealed record MlDataset(string Name, string Digest, string SourceType, string Source, string? Schema, string? Profile);

public sealed record MlDatasetInput(List<MlTag>? Tags, MlDataset Dataset);

public sealed record MlRunInputs(List<MlDatasetInput>? DatasetInputs);

public sealed record MlRun(MlRunInfo Info, MlRunData Data, MlRunInputs? Inputs);

public sealed record MlFileInfo(string Path, bool IsDir, long? FileSize);

public sealed record MlExperimentResponse(MlExperiment Experiment);

public sealed record MlCreateExperimentResponse(string ExperimentId);

public sealed record MlSearchExperimentsResponse(List<MlExperiment>? Experiments, string? NextPageToken);

public sealed record MlRunResponse(MlRun Run);

public sealed record MlUpdateRunResponse(MlRunInfo RunInfo);

public sealed record MlMetricsResponse(List<MlMetric>? Metrics, string? NextPageToken = null);

public sealed record MlListArtifactsResponse(string? RootUri, List<MlFileInfo>? Files, string? NextPageToken = null);

public sealed record MlEmpty;

public sealed record MlError(string ErrorCode, string Message);

/// <summary>Source-generated JSON for the MLflow surface: snake_case, nulls omitted, NaN/±Infinity as strings.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MlExperimentResponse))]
[JsonSerializable(typeof(MlCreateExperimentResponse))]
[JsonSerializable(typeof(MlSearchExperimentsResponse))]
[JsonSerializable(typeof(MlRunResponse))]
[JsonSerializable(typeof(MlUpdateRunResponse))]
[JsonSerializable(typeof(MlMetricsResponse))]
[JsonSerializable(typeof(MlListArtifactsResponse))]
[JsonSerializable(typeof(MlEmpty))]
[JsonSerializable(typeof(MlError))]
public sealed partial class MlflowJson : JsonSerializerContext;
