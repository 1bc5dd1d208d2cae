using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.Dashboards;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>
/// Aggregates behind the web UI's dashboards, computed by the store so a chart never needs an unbounded list:
/// the metrics of a model's versions, and dataset / feature-set usage per time bucket. (Deployment success rate
/// by environment is <c>GET /environments/stats</c>.)
/// </summary>
public static class DashboardsApi
{
    private static readonly Dictionary<string, long> Buckets = new()
    {
        ["hour"] = 3_600_000, ["day"] = 86_400_000, ["week"] = 7 * 86_400_000L,
    };

    public static RouteGroupBuilder MapDashboards(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/dashboards").WithTags("Dashboards");

        group.MapGet("/model-metrics", async (HttpContext ctx, DashboardStore store) =>
            {
                var q = ctx.Request;
                var model = q.QueryText("model") ?? throw LineageException.Invalid("model", "'model' is required: the registered model's name");
                var versions = await store.ModelMetricsAsync(q.QueryText("project"), model, Validate.PageSize(q.QueryInt("limit")));
                return Results.Json(new ModelMetricsResponse(model,
                        versions.Select(v => new VersionMetricsDto(v.Version, v.Stage, v.RunId, v.CreatedAt, new Dictionary<string, double?>(v.Metrics))).ToList()),
                    LineageJson.Default.ModelMetricsResponse);
            })
            .Produces<ModelMetricsResponse>();

        group.MapGet("/usage", async (HttpContext ctx, DashboardStore store) =>
            {
                var q = ctx.Request;
                var type = Validate.Text(q.QueryText("type") ?? "dataset", "type", 200);
                var bucketName = q.QueryText("bucket") ?? "day";
                var bucket = Buckets.TryGetValue(bucketName, out var ms)
                    ? ms
                    : throw LineageException.Invalid("bucket", $"'bucket' must be one of {string.Join(", ", Buckets.Keys)}, got '{bucketName}'");
                var to = q.QueryLong("to") is { } t ? Validate.Timestamp(t, "to") : Clock.NowMs() + 1;
                var from = q.QueryLong("from") is { } f ? Validate.Timestamp(f, "from") : Math.Max(0, to - 30 * 86_400_000L);
                if (from >= to) throw LineageException.Invalid("to", $"'to' ({to}) must be after 'from' ({from})");
                if ((to - from) / bucket > DashboardStore.MaxBuckets)
                    throw LineageException.Invalid("bucket",
                        $"{(to - from) / bucket} {bucketName} buckets between 'from' and 'to'; at most {DashboardStore.MaxBuckets}: use a larger bucket or a shorter range");
                var counts = await store.UsageAsync(q.QueryText("project"), type, bucket, from, to);
                return Results.Json(new UsageResponse(type, bucket, from, to, counts.Select(c => new UsageCountDto(c.Name, c.Bucket, c.Count)).ToList()),
                    LineageJson.Default.UsageResponse);
            })
            .Produces<UsageResponse>();

        return api;
    }
}
