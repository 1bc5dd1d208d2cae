using System.Text.Json;
using Lineage.Core.Errors;
using Lineage.Core.Query;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.MLflow;
using Lineage.Storage.Query;
using Lineage.Storage.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.MLflow;

/// <summary>
/// MLflow <c>runs/*</c>. Writes go to the same <see cref="TrackingStore"/> operations as the native
/// API, so an MLflow run is a Lineage run; MLflow's own rules (batch limits, value truncation,
/// duplicate keys, generated run names) are applied here first.
/// </summary>
internal static class RunsEndpoints
{
    // MLflow's limits (mlflow/utils/validation.py).
    public const int MaxBatchMetrics = 1000;
    public const int MaxBatchParams = 100;
    public const int MaxBatchTags = 100;
    public const int MaxParamValue = 6000;
    public const int MaxTagValue = 5000;

    public static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/runs/create", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var experimentId = a.Body.TryGetProperty("experiment_id", out var e) && e.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)
                ? throw MlflowErrors.WrongType("experiment_id", e)
                : MlflowViews.ExperimentId(a.RequiredString("experiment_id"));
            var tags = Truncate(a.KeyValues("tags"));
            var name = a.String("run_name") is { Length: > 0 } n ? n
                : tags.LastOrDefault(t => t.Key == MlflowStore.RunNameTag).Value is { Length: > 0 } tagged ? tagged
                : RunNames.Generate();
            var tagMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var t in tags) tagMap[t.Key] = t.Value;
            tagMap[MlflowStore.RunNameTag] = name;
            var parent = tagMap.TryGetValue("mlflow.parentRunId", out var p) && p.Length == 32 && p.All(char.IsAsciiHexDigit) ? p : null;
            var view = await tracking.CreateRunViewAsync(experimentId, name, a.Long("start_time") ?? 0, a.String("user_id") ?? "", parent,
                RunStatus.Running, tagMap);
            return Results.Json(new MlRunResponse(view.ToMl(withInputs: false)), MlflowJson.Default.MlRunResponse);
        });

        g.MapGet("/runs/get", async (HttpContext ctx, SearchStore search) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var view = await search.GetRunAsync(RunId(a));
            return Results.Json(new MlRunResponse(view.ToMl()), MlflowJson.Default.MlRunResponse);
        });

        g.MapPost("/runs/update", async (HttpContext ctx, MlflowStore mlflow) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var view = await mlflow.UpdateRunAsync(RunId(a), MlflowViews.Status(a.String("status")), a.Long("end_time"), a.String("run_name"));
            return Results.Json(new MlUpdateRunResponse(view.Info()), MlflowJson.Default.MlUpdateRunResponse);
        });

        g.MapPost("/runs/delete", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            await tracking.DeleteRunAsync(RunId(a));
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/runs/restore", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            await tracking.RestoreRunAsync(RunId(a));
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/runs/log-metric", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var runId = RunId(a);
            var point = Metric(a.Body, "");
            await tracking.LogBatchAsync(runId, new RunBatch([point], [], []));
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/runs/log-parameter", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var runId = RunId(a);
            var param = new KeyValue(ParamKey(a.RequiredString("key"), "key"), Cut(a.String("value") ?? "", MaxParamValue));
            await tracking.LogBatchAsync(runId, new RunBatch([], [param], []));
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/runs/set-tag", async (HttpContext ctx, MlflowStore mlflow) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var runId = RunId(a);
            await mlflow.SetRunTagAsync(runId, a.RequiredString("key"), Cut(a.String("value") ?? "", MaxTagValue));
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/runs/delete-tag", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var runId = RunId(a);
            await tracking.DeleteRunTagAsync(runId, a.RequiredString("key"));
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/runs/log-batch", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var runId = RunId(a);
            var metrics = a.Objects("metrics");
            var parameters = a.KeyValues("params");
            var tags = a.KeyValues("tags");
            if (metrics.Count > MaxBatchMetrics)
                throw LineageException.Invalid("metrics", $"A batch logging request can contain at most {MaxBatchMetrics} metrics. Got {metrics.Count} metrics. Please split up metrics across multiple requests and try again.");
            if (parameters.Count > MaxBatchParams)
                throw LineageException.Invalid("params", $"A batch logging request can contain at most {MaxBatchParams} params. Got {parameters.Count} params. Please split up params across multiple requests and try again.");
            if (tags.Count > MaxBatchTags)
                throw LineageException.Invalid("tags", $"A batch logging request can contain at most {MaxBatchTags} tags. Got {tags.Count} tags. Please split up tags across multiple requests and try again.");
            if (metrics.Count + parameters.Count + tags.Count > MaxBatchMetrics)
                throw LineageException.Invalid("metrics", $"A batch logging request can contain at most {MaxBatchMetrics} metrics, params and tags in total.");
            var duplicates = parameters.GroupBy(p => p.Key).Where(grp => grp.Count() > 1).Select(grp => grp.Key).ToList();
            if (duplicates.Count > 0)
                throw LineageException.Invalid("params", $"Duplicate parameter keys have been submitted: {string.Join(", ", duplicates)}. Please ensure the request contains only one param value per param key.");
            var points = metrics.Select((m, i) => Metric(m, $"metrics[{i}].")).ToList();
            var batch = new RunBatch(points,
                parameters.Select((p, i) => new KeyValue(ParamKey(p.Key, $"params[{i}].key"), Cut(p.Value, MaxParamValue))).ToList(),
                tags.Select(t => new KeyValue(t.Key, Cut(t.Value, MaxTagValue))).ToList());
            // mlflow.runName in a batch renames the run, as set-tag does: in the batch's own transaction.
            await tracking.LogBatchAsync(runId, batch, namingTag: MlflowStore.RunNameTag);
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/runs/log-inputs", async (HttpContext ctx, MlflowStore mlflow) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var runId = RunId(a);
            var datasets = a.Objects("datasets").Select((d, i) =>
            {
                var path = $"datasets[{i}]";
                if (!d.TryGetProperty("dataset", out var ds) || ds.ValueKind != JsonValueKind.Object)
                    throw MlflowErrors.Missing($"{path}.dataset");
                var tags = d.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Array
                    ? t.EnumerateArray().Select((x, j) => new KeyValue(
                        MlflowArgs.Field(x, "key", $"{path}.tags[{j}].key") ?? throw MlflowErrors.Missing($"{path}.tags[{j}].key"),
                        MlflowArgs.Field(x, "value", $"{path}.tags[{j}].value") ?? "")).ToList()
                    : [];
                return new DatasetInput(
                    MlflowArgs.Field(ds, "name", $"{path}.dataset.name") ?? throw MlflowErrors.Missing($"{path}.dataset.name"),
                    MlflowArgs.Field(ds, "digest", $"{path}.dataset.digest") ?? throw MlflowErrors.Missing($"{path}.dataset.digest"),
                    MlflowArgs.Field(ds, "source_type", $"{path}.dataset.source_type") ?? throw MlflowErrors.Missing($"{path}.dataset.source_type"),
                    MlflowArgs.Field(ds, "source", $"{path}.dataset.source") ?? throw MlflowErrors.Missing($"{path}.dataset.source"),
                    MlflowArgs.Field(ds, "schema", $"{path}.dataset.schema"),
                    MlflowArgs.Field(ds, "profile", $"{path}.dataset.profile"),
                    tags);
            }).ToList();
            await mlflow.LogInputsAsync(runId, datasets);
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/runs/log-model", async (HttpContext ctx, MlflowStore mlflow) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var runId = RunId(a);
            await mlflow.LogModelAsync(runId, a.RequiredString("model_json"));
            return MlflowResults.EmptyResponse();
        });

        g.MapMethods("/runs/search", ["GET", "POST"], async (HttpContext ctx, SearchStore search) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var ids = a.Strings("experiment_ids").Select(MlflowViews.ExperimentId).ToList();
            var query = QueryParser.Parse(SearchTarget.Runs, a.String("filter"), a.Strings("order_by"));
            var page = await search.SearchRunsAsync(ids, a.ViewType("run_view_type"), query, a.Int("max_results"), a.String("page_token"));
            return MlflowWriter.SearchRuns(page.Items, page.NextPageToken);
        });
    }

    internal static string RunId(MlflowArgs a)
    {
        var id = a.RunId();
        return id.Length == 32 && id.All(char.IsAsciiHexDigit)
            ? id.ToLowerInvariant()
            : throw LineageException.NotFound($"Run with id={id} not found");
    }

    private static MetricPoint Metric(JsonElement m, string path)
    {
        var key = MlflowArgs.Field(m, "key", path + "key") ?? throw MlflowErrors.Missing(path + "key");
        var value = MlflowArgs.Double(m, "value", path + "value") ?? throw MlflowErrors.Missing(path + "value");
        var timestamp = MlflowArgs.Long(m, "timestamp", path + "timestamp") ?? throw MlflowErrors.Missing(path + "timestamp");
        var step = MlflowArgs.Long(m, "step", path + "step") ?? 0;
        return new MetricPoint(key, value, step, timestamp);
    }

    private static string ParamKey(string key, string field) =>
        key.Length > Limits.MaxKeyLength
            ? throw LineageException.Invalid(field, $"Param key '{Validate.Shorten(key)}' had length {key.Length}, which exceeded length limit of {Limits.MaxKeyLength}")
            : key;

    private static string Cut(string value, int max) => value.Length > max ? value[..max] : value;

    private static IReadOnlyList<KeyValue> Truncate(IReadOnlyList<KeyValue> tags) =>
        tags.Select(t => new KeyValue(t.Key, Cut(t.Value, MaxTagValue))).ToList();
}

/// <summary>MLflow-style generated run names (adjective-noun-number) for runs created without one.</summary>
internal static class RunNames
{
    private static readonly string[] Adjectives =
        ["amber", "brave", "calm", "clever", "crisp", "daring", "eager", "gentle", "honest", "jolly", "keen", "lucky", "mellow", "nimble", "proud", "quiet", "rapid", "serene", "sunny", "witty"];

    private static readonly string[] Nouns =
        ["badger", "crane", "dolphin", "falcon", "fox", "gecko", "heron", "ibis", "koala", "lynx", "marten", "newt", "otter", "panda", "quail", "robin", "seal", "tapir", "wren", "yak"];

    public static string Generate() =>
        $"{Adjectives[Random.Shared.Next(Adjectives.Length)]}-{Nouns[Random.Shared.Next(Nouns.Length)]}-{Random.Shared.Next(1000)}";
}
