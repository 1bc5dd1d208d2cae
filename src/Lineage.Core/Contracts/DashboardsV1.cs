// Wire contracts for the dashboards' aggregates in the native API /api/v1.
namespace Lineage.Core.Contracts.V1;

/// <summary>One model version and the latest value of each metric of its producing run (null: NaN, ±Infinity).</summary>
public sealed record VersionMetricsDto(long Version, string Stage, string? RunId, long CreatedAt, Dictionary<string, double?> Metrics);

/// <summary>The newest versions of a model, oldest first.</summary>
public sealed record ModelMetricsResponse(string Model, List<VersionMetricsDto> Versions);

/// <summary>Inputs consumed from artifacts of one name in the bucket starting at <c>bucket</c> (Unix ms).</summary>
public sealed record UsageCountDto(string Name, long Bucket, long Count);

public sealed record UsageResponse(string Type, long BucketMs, long From, long To, List<UsageCountDto> Counts);
