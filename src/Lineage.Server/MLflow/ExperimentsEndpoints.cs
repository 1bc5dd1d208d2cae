using Lineage.Core.Errors;
using Lineage.Core.Query;
using Lineage.Server.Http;
using Lineage.Storage.MLflow;
using Lineage.Storage.Query;
using Lineage.Storage.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.MLflow;

/// <summary>MLflow <c>experiments/*</c>: create, get, get-by-name, update, delete, restore, tags, search.</summary>
internal static class ExperimentsEndpoints
{
    public static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/experiments/create", async (HttpContext ctx, MlflowStore mlflow) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var id = await mlflow.CreateExperimentAsync(a.RequiredString("name"), a.String("artifact_location"), a.KeyValues("tags"));
            return Results.Json(new MlCreateExperimentResponse(id.ToString()), MlflowJson.Default.MlCreateExperimentResponse);
        });

        g.MapGet("/experiments/get", async (HttpContext ctx, SearchStore search) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var view = await search.GetExperimentAsync(MlflowViews.ExperimentId(a.RequiredString("experiment_id")));
            return Results.Json(new MlExperimentResponse(view.ToMl()), MlflowJson.Default.MlExperimentResponse);
        });

        g.MapGet("/experiments/get-by-name", async (HttpContext ctx, SearchStore search) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var view = await search.GetExperimentByNameAsync(a.RequiredString("experiment_name"));
            return Results.Json(new MlExperimentResponse(view.ToMl()), MlflowJson.Default.MlExperimentResponse);
        });

        g.MapPost("/experiments/update", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var id = MlflowViews.ExperimentId(a.RequiredString("experiment_id"));
            await tracking.UpdateExperimentAsync(id, a.String("new_name") is { Length: > 0 } n ? n : null, null);
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/experiments/delete", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            await tracking.DeleteExperimentAsync(MlflowViews.ExperimentId(a.RequiredString("experiment_id")));
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/experiments/restore", async (HttpContext ctx, MlflowStore mlflow) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            await mlflow.RestoreExperimentAsync(MlflowViews.ExperimentId(a.RequiredString("experiment_id")));
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/experiments/set-experiment-tag", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var id = MlflowViews.ExperimentId(a.RequiredString("experiment_id"));
            await tracking.SetExperimentTagAsync(id, a.RequiredString("key"), a.String("value") ?? "");
            return MlflowResults.EmptyResponse();
        });

        // Not in MLflow 2.12 (it answers 404); later MLflow versions have it, and the issue asks for it.
        g.MapPost("/experiments/delete-experiment-tag", async (HttpContext ctx, TrackingStore tracking) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var id = MlflowViews.ExperimentId(a.RequiredString("experiment_id"));
            await tracking.DeleteExperimentTagAsync(id, a.RequiredString("key"));
            return MlflowResults.EmptyResponse();
        });

        g.MapMethods("/experiments/search", ["GET", "POST"], async (HttpContext ctx, SearchStore search) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var query = QueryParser.Parse(SearchTarget.Experiments, a.String("filter"), a.Strings("order_by"));
            var page = await search.SearchExperimentsAsync(a.ViewType("view_type"), query, a.Int("max_results"), a.String("page_token"));
            return Results.Json(new MlSearchExperimentsResponse(MlflowViews.NullIfEmpty(page.Items.Select(e => e.ToMl())), page.NextPageToken),
                MlflowJson.Default.MlSearchExperimentsResponse);
        });
    }

}
