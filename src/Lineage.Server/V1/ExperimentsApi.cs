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

public static class ExperimentsApi
{
    public static RouteGroupBuilder MapExperiments(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/experiments").WithTags("Experiments");

        group.MapPost("/", async (HttpContext ctx, TrackingStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.CreateExperimentRequest);
                var experiment = await store.CreateExperimentAsync(body.Project, body.Name!, body.Description, body.Tags);
                return Created(experiment);
            })
            .Accepts<CreateExperimentRequest>("application/json").Produces<ExperimentDto>(201);

        group.MapGet("/", async (HttpContext ctx, TrackingStore store) =>
            {
                var q = ctx.Request;
                var page = await store.ListExperimentsAsync(new ExperimentQuery(
                    Project: q.QueryText("project"),
                    Lifecycle: Validate.Lifecycle(q.QueryText("lifecycle")),
                    NameContains: q.QueryText("nameContains"),
                    Limit: Validate.PageSize(q.QueryInt("limit")),
                    PageToken: q.QueryText("pageToken")));
                return Results.Json(new ExperimentListResponse(page.Items.Select(e => e.ToDto()).ToList(), page.NextPageToken),
                    LineageJson.Default.ExperimentListResponse);
            })
            .Produces<ExperimentListResponse>();

        group.MapGet("/by-name", async (HttpContext ctx, TrackingStore store) =>
            {
                var name = ctx.Request.QueryText("name") ?? throw LineageException.Invalid("name", "query parameter 'name' is required");
                return Ok(await store.GetExperimentByNameAsync(ctx.Request.QueryText("project"), name));
            })
            .Produces<ExperimentDto>();

        group.MapGet("/{id}", async (string id, TrackingStore store) =>
                Ok(await store.GetExperimentAsync(Validate.ExperimentId(id, "id"))))
            .Produces<ExperimentDto>();

        // What the runs search box completes: the keys of the experiment's runs, then the values of one key.
        group.MapGet("/{id}/fields", async (string id, TrackingStore store) =>
            {
                var f = await store.GetExperimentFieldsAsync(Validate.ExperimentId(id, "id"));
                return Results.Json(new ExperimentFieldsResponse(f.Params, f.Metrics, f.Tags), LineageJson.Default.ExperimentFieldsResponse);
            })
            .Produces<ExperimentFieldsResponse>();

        group.MapGet("/{id}/fields/values", async (string id, HttpContext ctx, TrackingStore store) =>
            {
                var kind = ctx.Request.QueryText("kind") ?? throw LineageException.Invalid("kind", "query parameter 'kind' is required (param or tag)");
                var key = ctx.Request.QueryText("key") ?? throw LineageException.Invalid("key", "query parameter 'key' is required");
                var values = await store.GetFieldValuesAsync(Validate.ExperimentId(id, "id"), kind, key, ctx.Request.QueryText("prefix"), ctx.Request.QueryInt("limit"));
                return Results.Json(new FieldValuesResponse(kind, key, values), LineageJson.Default.FieldValuesResponse);
            })
            .Produces<FieldValuesResponse>();

        group.MapPatch("/{id}", async (string id, HttpContext ctx, TrackingStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.UpdateExperimentRequest);
                return Ok(await store.UpdateExperimentAsync(Validate.ExperimentId(id, "id"), body.Name, body.Description));
            })
            .Accepts<UpdateExperimentRequest>("application/json").Produces<ExperimentDto>();

        group.MapDelete("/{id}", async (string id, HttpContext ctx, TrackingStore store) =>
                Ok(await store.DeleteExperimentAsync(Validate.ExperimentId(id, "id"))))
            .Produces<ExperimentDto>();

        group.MapPost("/{id}/restore", async (string id, HttpContext ctx, TrackingStore store) =>
                Ok(await store.RestoreExperimentAsync(Validate.ExperimentId(id, "id"))))
            .Produces<ExperimentDto>();

        group.MapPost("/{id}/tags", async (string id, HttpContext ctx, TrackingStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.SetTagRequest);
                await store.SetExperimentTagAsync(Validate.ExperimentId(id, "id"), body.Key!, body.Value!, body.Sensitive == true);
                return Results.NoContent();
            })
            .Accepts<SetTagRequest>("application/json").Produces(204);

        group.MapDelete("/{id}/tags/{**key}", async (string id, string key, HttpContext ctx, TrackingStore store) =>
            {
                await store.DeleteExperimentTagAsync(Validate.ExperimentId(id, "id"), key);
                return Results.NoContent();
            })
            .Produces(204);

        return api;
    }

    private static IResult Ok(Experiment e) => Results.Json(e.ToDto(), LineageJson.Default.ExperimentDto);

    private static IResult Created(Experiment e) =>
        Results.Json(e.ToDto(), LineageJson.Default.ExperimentDto, statusCode: 201);
}
