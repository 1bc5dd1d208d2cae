using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

public static class RunsApi
{
    /// <summary>Points per run when a many-run history request does not say (1,000 runs × 1,000 is the cap).</summary>
    private const int DefaultChartPoints = 1_000;

    public static RouteGroupBuilder MapRuns(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/runs").WithTags("Runs");

        group.MapPost("/", async (HttpContext ctx, TrackingStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.CreateRunRequest);
                var run = await store.CreateRunAsync(
                    body.ExperimentId is null ? TrackingStore.DefaultExperimentId : Validate.ExperimentId(body.ExperimentId),
                    body.Name, body.StartTime, body.User, body.ParentRunId,
                    body.Status is null ? RunStatus.Running : Validate.RunStatus(body.Status), body.Tags);
                return Results.Json(run.ToDto(), LineageJson.Default.RunDto, statusCode: 201);
            })
            .Accepts<CreateRunRequest>("application/json").Produces<RunDto>(201);

        group.MapGet("/", async (HttpContext ctx, TrackingStore store) =>
            {
                var q = ctx.Request;
                var status = q.QueryText("status");
                var page = await store.ListRunsAsync(new RunQuery(
                    ExperimentIds: q.QueryList("experimentId").Select(id => Validate.ExperimentId(id)).ToList(),
                    Lifecycle: Validate.Lifecycle(q.QueryText("lifecycle")),
                    Status: status is null ? null : Validate.RunStatus(status),
                    ParentRunId: q.QueryText("parentRunId"),
                    User: q.QueryText("user"),
                    Limit: Validate.PageSize(q.QueryInt("limit")),
                    PageToken: q.QueryText("pageToken")));
                return Results.Json(new RunListResponse(page.Items.Select(r => r.ToDto()).ToList(), page.NextPageToken),
                    LineageJson.Default.RunListResponse);
            })
            .Produces<RunListResponse>();

        group.MapGet("/{runId}", async (string runId, TrackingStore store) => Ok(await store.GetRunAsync(runId)))
            .Produces<RunDto>();

        group.MapPatch("/{runId}", async (string runId, HttpContext ctx, TrackingStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.UpdateRunRequest);
                var update = new RunUpdate(body.Status is null ? null : Validate.RunStatus(body.Status), body.EndTime, body.Name);
                return Ok(await store.UpdateRunAsync(runId, update));
            })
            .Accepts<UpdateRunRequest>("application/json").Produces<RunDto>();

        group.MapDelete("/{runId}", async (string runId, HttpContext ctx, TrackingStore store) =>
                Ok(await store.DeleteRunAsync(runId)))
            .Produces<RunDto>();

        group.MapPost("/{runId}/restore", async (string runId, HttpContext ctx, TrackingStore store) =>
                Ok(await store.RestoreRunAsync(runId)))
            .Produces<RunDto>();

        group.MapPost("/{runId}/metrics", async (string runId, HttpContext ctx, TrackingStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.LogMetricRequest);
                var point = ToPoint(body, "", Clock.NowMs());
                await store.LogBatchAsync(runId, new RunBatch([point], [], []));
                return Results.NoContent();
            })
            .Accepts<LogMetricRequest>("application/json").Produces(204);

        group.MapPost("/{runId}/params", async (string runId, HttpContext ctx, TrackingStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.LogParamRequest);
                await store.LogBatchAsync(runId, new RunBatch([], [ToKeyValue(body.Key, body.Value, body.Sensitive, "")], []));
                return Results.NoContent();
            })
            .Accepts<LogParamRequest>("application/json").Produces(204);

        group.MapPost("/{runId}/tags", async (string runId, HttpContext ctx, TrackingStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.SetTagRequest);
                await store.LogBatchAsync(runId, new RunBatch([], [], [ToKeyValue(body.Key, body.Value, body.Sensitive, "")]));
                return Results.NoContent();
            })
            .Accepts<SetTagRequest>("application/json").Produces(204);

        group.MapDelete("/{runId}/tags/{**key}", async (string runId, string key, HttpContext ctx, TrackingStore store) =>
            {
                await store.DeleteRunTagAsync(runId, key);
                return Results.NoContent();
            })
            .Produces(204);

        group.MapPost("/{runId}/batch", async (string runId, HttpContext ctx, TrackingStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.BatchRequest);
                var now = Clock.NowMs();
                var batch = new RunBatch(
                    body.Metrics?.Select((m, i) => ToPoint(m, $"metrics[{i}].", now)).ToList() ?? [],
                    body.Params?.Select((p, i) => ToKeyValue(p.Key, p.Value, p.Sensitive, $"params[{i}].")).ToList() ?? [],
                    body.Tags?.Select((t, i) => ToKeyValue(t.Key, t.Value, t.Sensitive, $"tags[{i}].")).ToList() ?? []);
                var result = await store.LogBatchAsync(runId, batch);
                return Results.Json(new BatchResponse(result.Metrics, result.Params, result.Tags), LineageJson.Default.BatchResponse);
            })
            .Accepts<BatchRequest>("application/json").Produces<BatchResponse>();

        // Many runs' histories of one metric in one request (the runs table's chart panel): a read sent as POST
        // because 1,000 run ids do not fit in a URL.
        group.MapPost("/metrics/history", async (HttpContext ctx, TrackingStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.MetricHistoriesRequest);
                var key = body.Key ?? throw LineageException.Invalid("key", "'key' is required");
                var columns = body.Format switch
                {
                    null or MetricHistoryAnswers.Points => false,
                    MetricHistoryAnswers.Columns => true,
                    _ => throw LineageException.Invalid("format",
                        $"'format' must be '{MetricHistoryAnswers.Points}' or '{MetricHistoryAnswers.Columns}', got '{Validate.Shorten(body.Format)}'"),
                };
                // A chart over steps needs no timestamps: leaving them out is 40% fewer bytes for 1,000 runs.
                var timestamps = body.Timestamps ?? true;
                if (!timestamps && !columns)
                    throw LineageException.Invalid("timestamps", $"'timestamps': false is for the '{MetricHistoryAnswers.Columns}' format only");
                var series = await store.GetMetricHistoriesDownsampledAsync(body.RunIds, key, body.MaxPoints ?? DefaultChartPoints);
                return MetricHistoryAnswers.Histories(key, series, columns, timestamps);
            })
            .Accepts<MetricHistoriesRequest>("application/json").Produces<MetricHistoriesResponse>();

        group.MapGet("/{runId}/metrics/history", async (string runId, HttpContext ctx, TrackingStore store) =>
            {
                var key = ctx.Request.QueryText("key") ?? throw LineageException.Invalid("key", "query parameter 'key' is required");
                if (ctx.Request.QueryInt("maxPoints") is { } maxPoints)
                {
                    // Chart view: the whole series, min/max-bucketed down to maxPoints (no paging).
                    var (points, total) = await store.GetMetricHistoryDownsampledAsync(runId, key, maxPoints);
                    return MetricHistoryAnswers.History(key, points, null, total);
                }
                var page = await store.GetMetricHistoryAsync(runId, key, ctx.Request.QueryInt("limit"), ctx.Request.QueryText("pageToken"));
                return MetricHistoryAnswers.History(key, page.Items, page.NextPageToken, null);
            })
            .Produces<MetricHistoryResponse>();

        return api;
    }

    private static IResult Ok(Run run) => Results.Json(run.ToDto(), LineageJson.Default.RunDto);

    private static MetricPoint ToPoint(LogMetricRequest m, string prefix, long now)
    {
        if (m is null) throw LineageException.Invalid(prefix.TrimEnd('.'), $"'{prefix.TrimEnd('.')}' must be an object");
        if (m.Value is not { } value) throw LineageException.Invalid(prefix + "value", $"'{prefix}value' is required");
        return new MetricPoint(Validate.Key(m.Key, prefix + "key"), value, m.Step ?? 0, m.Timestamp ?? now);
    }

    private static KeyValue ToKeyValue(string? key, string? value, bool? sensitive, string prefix)
    {
        Validate.Key(key, prefix + "key");
        if (value is null) throw LineageException.Invalid(prefix + "value", $"'{prefix}value' is required");
        return new KeyValue(key!, value) { Sensitive = sensitive == true };
    }
}
