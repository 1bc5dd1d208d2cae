using System.Text.Json;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Registry;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>Deployments: deploy, status transitions, rollback, what is deployed where, history per environment, success rates.</summary>
public static class DeploymentsApi
{
    public static RouteGroupBuilder MapDeployments(this RouteGroupBuilder api)
    {
        var deployments = api.MapGroup("/deployments").WithTags("Deployments");

        deployments.MapPost("/", async (HttpContext ctx, DeploymentStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.CreateDeploymentRequest);
                var model = body.Model ?? throw LineageException.Invalid("model", "'model' is required");
                var version = body.Version ?? throw LineageException.Invalid("version", "'version' is required");
                var config = body.Config is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } c ? c.GetRawText() : null;
                var deployment = await store.DeployAsync(new DeploymentRequest(body.Project, body.Environment, model, version, body.EndpointUrl, config));
                return Results.Json(deployment.ToDto(), LineageJson.Default.DeploymentDto, statusCode: 201);
            })
            .Accepts<CreateDeploymentRequest>("application/json").Produces<DeploymentDto>(201);

        // ?live=true: what is deployed where right now (one live deployment per environment and model).
        deployments.MapGet("/", async (HttpContext ctx, DeploymentStore store) =>
            {
                var q = ctx.Request;
                var live = q.QueryText("live") is { } l && (l == "true" || l == "1");
                var page = await store.ListAsync(q.QueryText("project"), q.QueryText("environment"), q.QueryText("model"),
                    q.QueryText("status") is { } st ? RegistryRules.Deployment(st) : null, live, Validate.PageSize(q.QueryInt("limit")), q.QueryText("pageToken"));
                return Results.Json(new DeploymentListResponse(page.Items.Select(d => d.ToDto()).ToList(), page.NextPageToken),
                    LineageJson.Default.DeploymentListResponse);
            })
            .Produces<DeploymentListResponse>();

        deployments.MapGet("/{id}", async (string id, DeploymentStore store) => Ok(await store.GetAsync(Validate.ExperimentId(id, "id"))))
            .Produces<DeploymentDto>();

        deployments.MapPost("/{id}/status", async (string id, HttpContext ctx, DeploymentStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.DeploymentStatusRequest);
                return Ok(await store.SetStatusAsync(Validate.ExperimentId(id, "id"), RegistryRules.Deployment(body.Status), body.Reason));
            })
            .Accepts<DeploymentStatusRequest>("application/json").Produces<DeploymentDto>();

        deployments.MapPost("/{id}/rollback", async (string id, HttpContext ctx, DeploymentStore store) =>
            {
                var body = ctx.Request.ContentLength is null or 0 ? new RollbackRequest() : await ctx.Request.ReadJsonAsync(LineageJson.Default.RollbackRequest);
                var deployment = await store.RollbackAsync(Validate.ExperimentId(id, "id"), body.Reason);
                return Results.Json(deployment.ToDto(), LineageJson.Default.DeploymentDto, statusCode: 201);
            })
            .Accepts<RollbackRequest>("application/json").Produces<DeploymentDto>(201);

        var environments = api.MapGroup("/environments").WithTags("Deployments");
        environments.MapGet("/stats", async (HttpContext ctx, DeploymentStore store) =>
            {
                var stats = await store.StatsAsync(ctx.Request.QueryText("project"));
                return Results.Json(new EnvironmentStatsResponse(stats.Select(s => s.ToDto()).ToList()), LineageJson.Default.EnvironmentStatsResponse);
            })
            .Produces<EnvironmentStatsResponse>();

        // The full history of one environment, newest first, each deployment with its status events.
        environments.MapGet("/{environment}/history", async (string environment, HttpContext ctx, DeploymentStore store) =>
            {
                var q = ctx.Request;
                var page = await store.ListAsync(q.QueryText("project"), environment, q.QueryText("model"), null, false, Validate.PageSize(q.QueryInt("limit")),
                    q.QueryText("pageToken"));
                return Results.Json(new DeploymentListResponse(page.Items.Select(d => d.ToDto()).ToList(), page.NextPageToken),
                    LineageJson.Default.DeploymentListResponse);
            })
            .Produces<DeploymentListResponse>();

        return api;
    }

    private static IResult Ok(Deployment d) => Results.Json(d.ToDto(), LineageJson.Default.DeploymentDto);
}
