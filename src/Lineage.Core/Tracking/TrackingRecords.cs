namespace Lineage.Core.Tracking;

/// <summary>Soft-delete state shared by experiments and runs: a deleted item can be restored.</summary>
public enum Lifecycle { Active, Deleted }

/// <summary>Which lifecycle states a listing returns.</summary>
public enum LifecycleFilter { Active, Deleted, All }

public enum RunStatus { Running, Scheduled, Finished, Failed, Killed }

/// <summary>The tenancy unit. A project named <c>default</c> always exists.</summary>
public sealed record Project(long Id, string Name, string? Description, long CreatedAt)
{
    public Provenance? Provenance { get; init; }
}

public sealed record Experiment(
    long Id,
    string Project,
    string Name,
    string? Description,
    Lifecycle Lifecycle,
    long CreatedAt,
    long UpdatedAt,
    IReadOnlyDictionary<string, string> Tags)
{
    public Provenance? Provenance { get; init; }
}

public sealed record RunInfo(
    string RunId,
    long ExperimentId,
    string? Name,
    RunStatus Status,
    long StartTime,
    long? EndTime,
    string? User,
    string? ParentRunId,
    Lifecycle Lifecycle)
{
    public Provenance? Provenance { get; init; }
}

/// <summary>One logged value of a metric series. Value may be NaN or ±Infinity.</summary>
public readonly record struct MetricPoint(string Key, double Value, long Step, long Timestamp);

/// <summary>A point of a series whose key is known from context (history reads).</summary>
public readonly record struct SeriesPoint(double Value, long Step, long Timestamp);

/// <summary>The keys used in an experiment's runs, each list sorted.</summary>
public sealed record ExperimentFields(IReadOnlyList<string> Params, IReadOnlyList<string> Metrics, IReadOnlyList<string> Tags);

/// <summary>One run's series of a metric as a chart draws it (downsampled), with how many points it has in all.</summary>
public sealed record RunSeries(string RunId, IReadOnlyList<SeriesPoint> Points, long TotalPoints);

public sealed record Run(
    RunInfo Info,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<MetricPoint> LatestMetrics);

public readonly record struct KeyValue(string Key, string Value)
{
    /// <summary>Marked sensitive by the writer: stored encrypted whatever its key (docs/governance.md).</summary>
    public bool Sensitive { get; init; }
}

/// <summary>A validated batch: at most <see cref="Limits.MaxBatchMetrics"/> points etc.</summary>
public sealed record RunBatch(
    IReadOnlyList<MetricPoint> Metrics,
    IReadOnlyList<KeyValue> Params,
    IReadOnlyList<KeyValue> Tags);

/// <summary>What a batch wrote: counts, not an echo, so stored idempotent replays stay small.</summary>
public sealed record BatchResult(int Metrics, int Params, int Tags);

/// <summary>A page of results with an opaque token for the next page (null at the end).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextPageToken);

public sealed record ExperimentQuery(
    string? Project = null,
    LifecycleFilter Lifecycle = LifecycleFilter.Active,
    string? NameContains = null,
    int Limit = 100,
    string? PageToken = null);

public sealed record RunQuery(
    IReadOnlyList<long>? ExperimentIds = null,
    LifecycleFilter Lifecycle = LifecycleFilter.Active,
    RunStatus? Status = null,
    string? ParentRunId = null,
    string? User = null,
    int Limit = 100,
    string? PageToken = null);

/// <summary>Fields of a run that may change after creation; null means "leave as is".</summary>
public sealed record RunUpdate(RunStatus? Status = null, long? EndTime = null, string? Name = null);
