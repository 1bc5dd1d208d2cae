using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.MLflow;

/// <summary>MLflow <c>metrics/get-history</c>, <c>get-history-bulk-interval</c> and the UI's <c>get-history-bulk</c>.</summary>
internal static class MetricsEndpoints
{
    /// <summary>MLflow's cap on the points per run of a bulk read (MAX_RESULTS_PER_RUN).</summary>
    public const int MaxResultsPerRun = 2500;
    public const int MaxBulkRuns = 100;
    public const int MaxBulkPoints = 25_000;

    public static void Map(RouteGroupBuilder g)
    {
        // MLflow 2.12 ignores max_results/page_token here and returns the whole series; so do we, read in one
        // transaction. An unknown run or key is an empty history (200 {}), as MLflow answers.
        g.MapGet("/metrics/get-history", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var runId = a.RunId();
            var key = a.RequiredString("metric_key");
            var points = await HistoryAsync(tracking, runId, key);
            return new HistoryResult(key, points);
        });

        g.MapGet("/metrics/get-history-bulk-interval", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var runIds = a.Strings("run_ids");
            if (runIds.Count == 0) throw MlflowErrors.Missing("run_ids");
            if (runIds.Count > MaxBulkRuns)
                throw LineageException.Invalid("run_ids", $"GetMetricHistoryBulkInterval request must specify at most {MaxBulkRuns} run_ids. Received {runIds.Count} run_ids.");
            var key = a.RequiredString("metric_key");
            var max = a.Int("max_results") ?? MaxResultsPerRun;
            if (max < 1 || max > MaxResultsPerRun) throw LineageException.Invalid("max_results", $"max_results must be between 1 and {MaxResultsPerRun}.");
            var start = a.Long("start_step");
            var end = a.Long("end_step");
            if ((start is null) != (end is null))
                throw LineageException.Invalid("start_step", "If either start step or end step are specified, both must be specified.");
            if (start > end)
                throw LineageException.Invalid("end_step", $"end_step must be greater than start_step. Found start_step={start} and end_step={end}.");

            var histories = new List<(string RunId, IReadOnlyList<SeriesPoint> Points)>();
            foreach (var runId in runIds) histories.Add((runId, await HistoryAsync(tracking, runId, key, requireRun: true)));
            var steps = SampledSteps(histories.Select(h => h.Points.Select(p => p.Step).ToList()).ToList(), start, end, max);
            var result = new List<MlMetric>();
            foreach (var (runId, points) in histories)
                result.AddRange(points.Where(p => steps.Contains(p.Step)).OrderBy(p => p.Step).ThenBy(p => p.Timestamp).ThenBy(p => p.Value)
                    .Select(p => new MlMetric(key, p.Value, p.Timestamp, p.Step, runId)));
            return Results.Json(new MlMetricsResponse(MlflowViews.NullIfEmpty(result)), MlflowJson.Default.MlMetricsResponse);
        });

        g.MapGet("/metrics/get-history-bulk", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var runIds = a.Strings("run_id");
            if (runIds.Count == 0) throw MlflowErrors.Missing("run_id");
            var key = a.RequiredString("metric_key");
            var max = a.Int("max_results") ?? MaxBulkPoints;
            var result = new List<MlMetric>();
            foreach (var runId in runIds)
                result.AddRange((await HistoryAsync(tracking, runId, key)).Select(p => new MlMetric(key, p.Value, p.Timestamp, p.Step, runId)));
            return Results.Json(new MlMetricsResponse(MlflowViews.NullIfEmpty(result.Take(max))), MlflowJson.Default.MlMetricsResponse);
        });
    }

    /// <summary>
    /// The whole series ordered as MLflow returns it (timestamp, step, value). Points logged in
    /// time order, the usual case, need no sort.
    /// </summary>
    private static async Task<IReadOnlyList<SeriesPoint>> HistoryAsync(TrackingStore tracking, string runId, string key, bool requireRun = false)
    {
        if (requireRun) runId = Validate.RunId(runId);
        var found = await tracking.FindMetricHistoryAsync(runId, key);
        if (found is null && requireRun) throw LineageException.NotFound($"run with id '{runId}' does not exist");
        if (found is null || found.Count == 0) return [];
        var all = found as List<SeriesPoint> ?? found.ToList();
        for (var i = 1; i < all.Count; i++)
        {
            if (Compare(all[i - 1], all[i]) > 0)
            {
                all.Sort(Compare);
                break;
            }
        }
        return all;
    }

    private static int Compare(SeriesPoint x, SeriesPoint y)
    {
        var c = x.Timestamp.CompareTo(y.Timestamp);
        if (c != 0) return c;
        c = x.Step.CompareTo(y.Step);
        return c != 0 ? c : x.Value.CompareTo(y.Value);
    }

    /// <summary>
    /// MLflow's step sampling for bulk-interval reads: over the union of steps in the range, about
    /// <paramref name="max"/> evenly spaced steps (MLflow's index bound counts from the start of the
    /// range, which thins ranges that do not start at the first step; kept so charts match), the last
    /// step of the range, and every run's first and last step inside the range.
    /// </summary>
    internal static HashSet<long> SampledSteps(IReadOnlyList<List<long>> runs, long? start, long? end, int max)
    {
        var all = runs.SelectMany(r => r).Distinct().Order().ToList();
        var from = start ?? 0;
        var to = end ?? (all.Count > 0 ? all[^1] : 0);
        var edges = runs.Where(r => r.Count > 0).SelectMany(r => new[] { r.Min(), r.Max() }).Where(s => s >= from && s <= to);
        var lo = all.FindIndex(s => s >= from);
        if (lo < 0) lo = all.Count;
        var hi = all.FindLastIndex(s => s <= to) + 1;
        var result = new HashSet<long>(edges);
        if (hi - lo <= max)
        {
            for (var i = lo; i < hi; i++) result.Add(all[i]);
            return result;
        }
        var count = hi - lo;
        var interval = (double)count / max;
        for (var i = 0; i < max; i++)
        {
            var index = lo + (int)(i * interval);
            if (index < count) result.Add(all[index]);
        }
        result.Add(all[hi - 1]);
        return result;
    }

    /// <summary>
    /// A history as <c>{"metrics": [{"key", "value", "timestamp", "step"}, …]}</c>, written straight to the
    /// response (a 100,000-point series is ~8 MB of JSON; no intermediate objects per point).
    /// </summary>
    internal sealed class HistoryResult(string key, IReadOnlyList<SeriesPoint> points) : IResult
    {
        // Names encoded once: written as strings they were transcoded and checked for escaping 400,000 times a 100,000-point series (issue 15).
        private static readonly System.Text.Json.JsonEncodedText Metrics = System.Text.Json.JsonEncodedText.Encode("metrics");
        private static readonly System.Text.Json.JsonEncodedText Key = System.Text.Json.JsonEncodedText.Encode("key");
        private static readonly System.Text.Json.JsonEncodedText Value = System.Text.Json.JsonEncodedText.Encode("value");
        private static readonly System.Text.Json.JsonEncodedText Timestamp = System.Text.Json.JsonEncodedText.Encode("timestamp");
        private static readonly System.Text.Json.JsonEncodedText Step = System.Text.Json.JsonEncodedText.Encode("step");

        public async Task ExecuteAsync(HttpContext ctx)
        {
            ctx.Response.ContentType = "application/json";
            await using var json = new System.Text.Json.Utf8JsonWriter(ctx.Response.BodyWriter);
            var name = System.Text.Json.JsonEncodedText.Encode(key);
            json.WriteStartObject();
            if (points.Count > 0)
            {
                json.WriteStartArray(Metrics);
                for (var i = 0; i < points.Count; i++)
                {
                    var p = points[i];
                    json.WriteStartObject();
                    json.WriteString(Key, name);
                    json.WritePropertyName(Value);
                    JsonAnswer.WriteDoubleValue(json, p.Value);
                    json.WriteNumber(Timestamp, p.Timestamp);
                    json.WriteNumber(Step, p.Step);
                    json.WriteEndObject();
                    if (json.BytesPending > JsonAnswer.FlushAt) await json.FlushAsync(ctx.RequestAborted);
                }
                json.WriteEndArray();
            }
            json.WriteEndObject();
            await json.FlushAsync(ctx.RequestAborted);
        }
    }
}
