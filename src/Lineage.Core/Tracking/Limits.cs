namespace Lineage.Core.Tracking;

/// <summary>Size rules every surface enforces (native API, SDK, MLflow API).</summary>
public static class Limits
{
    public const int MaxKeyLength = 250;
    public const int MaxParamValueLength = 6000;
    public const int MaxTagValueLength = 8000;
    public const int MaxNameLength = 500;
    public const int MaxDescriptionLength = 20_000;
    public const int MaxBatchMetrics = 10_000;
    public const int MaxBatchParams = 1_000;
    public const int MaxBatchTags = 1_000;
    public const int MaxPageSize = 1_000;
    /// <summary>OpenLineage events in one <c>POST /api/v1/lineage/batch</c> (the body is also bounded: 16 MiB by default).</summary>
    public const int MaxLineageBatchEvents = 1_000;
    public const int MaxIdempotencyKeyLength = 255;
}
