using System.Text.Json.Serialization;

// Wire contracts of the native REST API /api/v1, shared by the server and the C# SDK.
// They are not the stored entities (see Lineage.Core.Tracking); the server maps between them.
// Request fields are nullable so that a missing field is reported by name, not by a JSON error.
namespace Lineage.Core.Contracts.V1;

public sealed record ErrorResponse(
    [property: JsonPropertyName("error_code")] string ErrorCode,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("field")] string? Field = null);

public sealed record ProjectDto(string Name, string? Description, long CreatedAt, string? CreatedBy = null, long? UpdatedAt = null, string? UpdatedBy = null);
public sealed record CreateProjectRequest(string? Name, string? Description = null);
public sealed record ProjectListResponse(List<ProjectDto> Projects);

public sealed record ExperimentDto(
    string Id,
    string Project,
    string Name,
    string? Description,
    string Lifecycle,
    long CreatedAt,
    long UpdatedAt,
    Dictionary<string, string> Tags,
    string? CreatedBy = null,
    string? UpdatedBy = null);

public sealed record CreateExperimentRequest(
    string? Name,
    string? Project = null,
    string? Description = null,
    Dictionary<string, string>? Tags = null);

public sealed record UpdateExperimentRequest(string? Name = null, string? Description = null);
public sealed record ExperimentListResponse(List<ExperimentDto> Experiments, string? NextPageToken);

/// <summary><c>sensitive: true</c> stores the value encrypted whatever its key (docs/governance.md).</summary>
public sealed record SetTagRequest(string? Key, string? Value, bool? Sensitive = null);

public sealed record MetricDto(string Key, double Value, long Step, long Timestamp);

public sealed record RunDto(
    string RunId,
    string ExperimentId,
    string? Name,
    string Status,
    long StartTime,
    long? EndTime,
    string? User,
    string? ParentRunId,
    string Lifecycle,
    Dictionary<string, string> Params,
    Dictionary<string, string> Tags,
    List<MetricDto> Metrics,
    long? CreatedAt = null,
    string? CreatedBy = null,
    long? UpdatedAt = null,
    string? UpdatedBy = null);

public sealed record CreateRunRequest(
    string? ExperimentId,
    string? Name = null,
    long? StartTime = null,
    string? User = null,
    string? ParentRunId = null,
    string? Status = null,
    Dictionary<string, string>? Tags = null);

public sealed record UpdateRunRequest(string? Status = null, long? EndTime = null, string? Name = null);
public sealed record RunListResponse(List<RunDto> Runs, string? NextPageToken);

/// <summary>A metric point to log. Step defaults to 0, timestamp to the server's clock.</summary>
public sealed record LogMetricRequest(string? Key, double? Value, long? Step = null, long? Timestamp = null);
public sealed record LogParamRequest(string? Key, string? Value, bool? Sensitive = null);
public sealed record KeyValueDto(string? Key, string? Value, bool? Sensitive = null);

public sealed record BatchRequest(
    List<LogMetricRequest>? Metrics = null,
    List<KeyValueDto>? Params = null,
    List<KeyValueDto>? Tags = null);

public sealed record BatchResponse(int Metrics, int Params, int Tags);

public sealed record HistoryPointDto(double Value, long Step, long Timestamp);
public sealed record MetricHistoryResponse(string Key, List<HistoryPointDto> Points, string? NextPageToken, long? TotalPoints = null);

/// <summary><c>POST /api/v1/runs/metrics/history</c>: one metric of many runs, downsampled, for a chart across runs.</summary>
/// <remarks><c>format</c>: <c>points</c> (default: each run's series as <see cref="RunSeriesDto"/>) or <c>columns</c> (each run as
/// <c>{runId, steps: […], values: […], timestamps: […], totalPoints}</c>, index for index: about half the bytes).</remarks>
public sealed record MetricHistoriesRequest(string? Key, List<string>? RunIds, int? MaxPoints = null, string? Format = null, bool? Timestamps = null);
public sealed record RunSeriesDto(string RunId, List<HistoryPointDto> Points, long TotalPoints);
public sealed record MetricHistoriesResponse(string Key, List<RunSeriesDto> Series);

/// <summary><c>GET /api/v1/experiments/{id}/fields</c> and <c>…/fields/values</c>: what the runs search box completes.</summary>
public sealed record ExperimentFieldsResponse(IReadOnlyList<string> Params, IReadOnlyList<string> Metrics, IReadOnlyList<string> Tags);
public sealed record FieldValuesResponse(string Kind, string Key, IReadOnlyList<string> Values);

/// <summary><c>/health</c> and <c>/ready</c>. On <c>/ready</c> only server admins get more than <see cref="Status"/>.</summary>
public sealed record HealthResponse(string Status, string? Version = null, string? Database = null, IReadOnlyDictionary<string, string>? Checks = null);
