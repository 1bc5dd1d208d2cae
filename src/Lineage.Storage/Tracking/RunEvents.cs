using Lineage.Core.Events;
using Lineage.Core.Tracking;

namespace Lineage.Storage.Tracking;

/// <summary>What the run operations put into their events (issue 14).</summary>
internal static class RunEvents
{
    /// <summary>At most this many metric keys are listed with their last value in a batch's event.</summary>
    public const int MaxMetricKeys = 100;

    /// <summary>The event type of a status change that ends a run, or null when the update does not end it.</summary>
    public static string? Ended(string before, RunStatus? after) =>
        after is not { } status || Rows.Text(status) == before ? null : status switch
        {
            RunStatus.Finished => EventTypes.RunFinished,
            RunStatus.Failed => EventTypes.RunFailed,
            RunStatus.Killed => EventTypes.RunKilled,
            _ => null,
        };

    public static object Logged(string runId, RunBatch batch)
    {
        Dictionary<string, double>? latest = null;
        if (batch.Metrics.Count > 0)
        {
            latest = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var m in batch.Metrics)
                if (latest.Count < MaxMetricKeys || latest.ContainsKey(m.Key)) latest[m.Key] = m.Value;
        }
        return new
        {
            runId,
            metricPoints = batch.Metrics.Count,
            @params = batch.Params.Count,
            tags = batch.Tags.Count,
            metrics = latest,
        };
    }
}
