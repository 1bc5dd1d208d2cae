using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Server.Http;
using Lineage.Storage.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

public static class ProjectsApi
{
    public static RouteGroupBuilder MapProjects(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/projects").WithTags("Projects");

        group.MapGet("/", async (TrackingStore store) =>
                Results.Json(new ProjectListResponse((await store.ListProjectsAsync()).Select(p => p.ToDto()).ToList()),
                    LineageJson.Default.ProjectListResponse))
            .Produces<ProjectListResponse>();

        group.MapPost("/", async (HttpContext ctx, TrackingStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.CreateProjectRequest);
                var project = await store.CreateProjectAsync(body.Name!, body.Description);
                return Results.Json(project.ToDto(), LineageJson.Default.ProjectDto, statusCode: 201);
            })
            .Accepts<CreateProjectRequest>("application/json").Produces<ProjectDto>(201);

        group.MapGet("/{name}", async (string name, TrackingStore store) =>
                Results.Json((await store.GetProjectAsync(name)).ToDto(), LineageJson.Default.ProjectDto))
            .Produces<ProjectDto>();

        return api;
    }
}
