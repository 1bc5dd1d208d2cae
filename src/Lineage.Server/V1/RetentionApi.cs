using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Server.Http;
using Lineage.Storage.Artifacts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>Retention policies per artifact name or type; `lineage gc` applies them.</summary>
public static class RetentionApi
{
    public static RouteGroupBuilder MapRetention(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/retention-policies").WithTags("Artifacts");

        group.MapGet("/", async (ArtifactMaintenance maintenance) =>
                Results.Json(new RetentionPolicyListResponse((await maintenance.ListPoliciesAsync())
                    .Select(p => new RetentionPolicyDto(p.Project, p.Scope, p.Target, p.KeepLast, p.KeepDays)).ToList()),
                    LineageJson.Default.RetentionPolicyListResponse))
            .Produces<RetentionPolicyListResponse>();

        group.MapPut("/", async (HttpContext ctx, ArtifactMaintenance maintenance) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.RetentionPolicyDto);
                var p = await maintenance.SetPolicyAsync(body.Project, body.Scope ?? throw LineageException.Invalid("scope", "'scope' is required"),
                    body.Target ?? throw LineageException.Invalid("target", "'target' is required"), body.KeepLast, body.KeepDays);
                return Results.Json(new RetentionPolicyDto(p.Project, p.Scope, p.Target, p.KeepLast, p.KeepDays), LineageJson.Default.RetentionPolicyDto);
            })
            .Accepts<RetentionPolicyDto>("application/json").Produces<RetentionPolicyDto>();

        group.MapDelete("/", async (HttpContext ctx, ArtifactMaintenance maintenance) =>
            {
                await maintenance.DeletePolicyAsync(ctx.Request.QueryText("project"),
                    ctx.Request.QueryText("scope") ?? throw LineageException.Invalid("scope", "'scope' is required"),
                    ctx.Request.QueryText("target") ?? throw LineageException.Invalid("target", "'target' is required"));
                return Results.NoContent();
            })
            .Produces(204);
        return api;
    }
}
