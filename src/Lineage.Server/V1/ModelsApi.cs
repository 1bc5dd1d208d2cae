using System.Text.Json;
using System.Text.Json.Nodes;
using Lineage.Core.Artifacts;
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

/// <summary>
/// The model registry: registered models, versions, tags, aliases, stages, approvals, history, search and
/// reproducibility manifests. The acting user is the <c>Lineage-User</c> header (see <see cref="RegistryStore"/>).
/// </summary>
public static class ModelsApi
{
    public static RouteGroupBuilder MapModels(this RouteGroupBuilder api)
    {
        var models = api.MapGroup("/models").WithTags("Model registry");

        models.MapPost("/", async (HttpContext ctx, RegistryStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.CreateModelRequest);
                var model = await store.CreateModelAsync(body.Project, RegistryRules.ModelName(body.Name), body.Description, body.Tags, body.Approvers);
                return Results.Json(model.ToDto(), LineageJson.Default.RegisteredModelDto, statusCode: 201);
            })
            .Accepts<CreateModelRequest>("application/json").Produces<RegisteredModelDto>(201);

        models.MapGet("/", async (HttpContext ctx, RegistryStore store) =>
            {
                var q = ctx.Request;
                var page = await store.ListModelsAsync(q.QueryText("project"), q.QueryText("nameContains"), Tags(q), Validate.PageSize(q.QueryInt("limit")),
                    q.QueryText("pageToken"));
                return Results.Json(new ModelListResponse(page.Items.Select(m => m.ToDto()).ToList(), page.NextPageToken),
                    LineageJson.Default.ModelListResponse);
            })
            .Produces<ModelListResponse>();

        models.MapGet("/{name}", async (string name, HttpContext ctx, RegistryStore store) =>
                Model(await store.GetModelAsync(ctx.Request.QueryText("project"), name)))
            .Produces<RegisteredModelDto>();

        models.MapPatch("/{name}", async (string name, HttpContext ctx, RegistryStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.UpdateModelRequest);
                return Model(await store.UpdateModelAsync(ctx.Request.QueryText("project"), name, body.Description));
            })
            .Accepts<UpdateModelRequest>("application/json").Produces<RegisteredModelDto>();

        models.MapDelete("/{name}", async (string name, HttpContext ctx, RegistryStore store) =>
            {
                await store.DeleteModelAsync(ctx.Request.QueryText("project"), name);
                return Results.NoContent();
            })
            .Produces(204);

        models.MapDelete("/{name}/versions/{version}", async (string name, string version, HttpContext ctx, RegistryStore store) =>
            {
                await store.DeleteVersionAsync(ctx.Request.QueryText("project"), name, Number(version));
                return Results.NoContent();
            })
            .Produces(204);

        models.MapPost("/{name}/tags", async (string name, HttpContext ctx, RegistryStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.SetTagRequest);
                return Model(await store.SetModelTagAsync(ctx.Request.QueryText("project"), name, body.Key!, body.Value!));
            })
            .Accepts<SetTagRequest>("application/json").Produces<RegisteredModelDto>();

        models.MapDelete("/{name}/tags/{**key}", async (string name, string key, HttpContext ctx, RegistryStore store) =>
                Model(await store.DeleteModelTagAsync(ctx.Request.QueryText("project"), name, key)))
            .Produces<RegisteredModelDto>();

        models.MapPut("/{name}/approvers", async (string name, HttpContext ctx, RegistryStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.SetApproversRequest);
                return Model(await store.SetApproversAsync(ctx.Request.QueryText("project"), name, body.Approvers ?? []));
            })
            .Accepts<SetApproversRequest>("application/json").Produces<RegisteredModelDto>();

        models.MapPost("/{name}/versions", async (string name, HttpContext ctx, RegistryStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.CreateModelVersionRequest);
                var registration = new ModelVersionRegistration(ctx.Request.QueryText("project"), name, RegistryMapping.Pointer(body.Artifact, "artifact"),
                    body.RunId, body.Description, body.Tags, body.Status is null ? ModelVersionStatus.Ready : RegistryRules.Status(body.Status),
                    RegistryMapping.Pointer(body.FeatureSet, "featureSet"),
                    body.InputFeatures?.Select(f => new FeatureSpec(f.Name!, f.Dtype!, RegistryMapping.Shape(f.Shape))).ToList());
                var version = await store.CreateVersionAsync(registration);
                return Results.Json(version.ToDto(), LineageJson.Default.ModelVersionDto, statusCode: 201);
            })
            .Accepts<CreateModelVersionRequest>("application/json").Produces<ModelVersionDto>(201);

        models.MapGet("/{name}/versions", async (string name, HttpContext ctx, RegistryStore store) =>
                Versions(await store.SearchVersionsAsync(Query(ctx.Request, name))))
            .Produces<ModelVersionListResponse>();

        models.MapGet("/{name}/versions/{reference}", async (string name, string reference, HttpContext ctx, RegistryStore store) =>
                Version(await store.GetVersionAsync(ctx.Request.QueryText("project"), name, ArtifactRules.Ref(reference))))
            .Produces<ModelVersionDto>();

        models.MapPatch("/{name}/versions/{version}", async (string name, string version, HttpContext ctx, RegistryStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.UpdateModelVersionRequest);
                return Version(await store.UpdateVersionAsync(ctx.Request.QueryText("project"), name, Number(version), body.Description,
                    body.Status is null ? null : RegistryRules.Status(body.Status), body.StatusMessage));
            })
            .Accepts<UpdateModelVersionRequest>("application/json").Produces<ModelVersionDto>();

        models.MapPost("/{name}/versions/{version}/tags", async (string name, string version, HttpContext ctx, RegistryStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.SetTagRequest);
                return Version(await store.SetVersionTagAsync(ctx.Request.QueryText("project"), name, Number(version), body.Key!, body.Value!));
            })
            .Accepts<SetTagRequest>("application/json").Produces<ModelVersionDto>();

        models.MapDelete("/{name}/versions/{version}/tags/{**key}", async (string name, string version, string key, HttpContext ctx, RegistryStore store) =>
                Version(await store.DeleteVersionTagAsync(ctx.Request.QueryText("project"), name, Number(version), key)))
            .Produces<ModelVersionDto>();

        models.MapPost("/{name}/versions/{version}/stage", async (string name, string version, HttpContext ctx, RegistryStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.TransitionStageRequest);
                return Version(await store.TransitionStageAsync(ctx.Request.QueryText("project"), name, Number(version), RegistryRules.Stage(body.Stage),
                    body.ArchiveExisting ?? false));
            })
            .Accepts<TransitionStageRequest>("application/json").Produces<ModelVersionDto>();

        models.MapGet("/{name}/versions/{reference}/manifest", async (string name, string reference, HttpContext ctx, ManifestBuilder manifests) =>
                Results.Json(await manifests.BuildAsync(ctx.Request.QueryText("project"), name, ArtifactRules.Ref(reference)), LineageJson.Default.JsonObject))
            .Produces<JsonObject>();

        models.MapPut("/{name}/aliases/{alias}", async (string name, string alias, HttpContext ctx, RegistryStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.SetAliasRequest);
                var version = body.Version ?? throw LineageException.Invalid("version", "'version' is required");
                return Version(await store.SetAliasAsync(ctx.Request.QueryText("project"), name, alias, version));
            })
            .Accepts<SetAliasRequest>("application/json").Produces<ModelVersionDto>();

        models.MapDelete("/{name}/aliases/{alias}", async (string name, string alias, HttpContext ctx, RegistryStore store) =>
            {
                await store.DeleteAliasAsync(ctx.Request.QueryText("project"), name, alias);
                return Results.NoContent();
            })
            .Produces(204);

        models.MapGet("/{name}/history", async (string name, HttpContext ctx, RegistryStore store) =>
            {
                var q = ctx.Request;
                var version = q.QueryText("version") is { } v ? Number(v) : (long?)null;
                var changes = await store.HistoryAsync(q.QueryText("project"), name, q.QueryText("kind"), q.QueryText("alias"), version);
                return Results.Json(new RegistryHistoryResponse(changes.Select(c => c.ToDto()).ToList()), LineageJson.Default.RegistryHistoryResponse);
            })
            .Produces<RegistryHistoryResponse>();

        models.MapPost("/{name}/promotions", async (string name, HttpContext ctx, RegistryStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.CreatePromotionRequest);
                var version = body.Version ?? throw LineageException.Invalid("version", "'version' is required");
                if ((body.Alias is null) == (body.Stage is null)) throw LineageException.Invalid("alias", "give exactly one of 'alias' or 'stage'");
                var request = await store.RequestPromotionAsync(ctx.Request.QueryText("project"), name, version, body.Alias is null ? "stage" : "alias",
                    body.Alias ?? body.Stage!, body.ArchiveExisting ?? false, body.Comment);
                return Results.Json(request.ToDto(), LineageJson.Default.PromotionDto, statusCode: 201);
            })
            .Accepts<CreatePromotionRequest>("application/json").Produces<PromotionDto>(201);

        models.MapGet("/{name}/promotions", async (string name, HttpContext ctx, RegistryStore store) =>
                await Promotions(ctx, store, name))
            .Produces<PromotionListResponse>();

        var versions = api.MapGroup("/model-versions").WithTags("Model registry");
        versions.MapGet("/", async (HttpContext ctx, RegistryStore store) =>
                Versions(await store.SearchVersionsAsync(Query(ctx.Request, ctx.Request.QueryText("model")))))
            .Produces<ModelVersionListResponse>();

        var promotions = api.MapGroup("/promotions").WithTags("Model registry");
        promotions.MapGet("/", async (HttpContext ctx, RegistryStore store) => await Promotions(ctx, store, ctx.Request.QueryText("model")))
            .Produces<PromotionListResponse>();
        promotions.MapGet("/{id}", async (string id, RegistryStore store) =>
                Results.Json((await store.GetPromotionAsync(Validate.ExperimentId(id, "id"))).ToDto(), LineageJson.Default.PromotionDto))
            .Produces<PromotionDto>();
        foreach (var (verb, approve) in new[] { ("approve", true), ("reject", false) })
            promotions.MapPost($"/{{id}}/{verb}", async (string id, HttpContext ctx, RegistryStore store) =>
                {
                    var body = ctx.Request.ContentLength is null or 0 ? new DecisionRequest() : await ctx.Request.ReadJsonAsync(LineageJson.Default.DecisionRequest);
                    var decided = await store.DecidePromotionAsync(Validate.ExperimentId(id, "id"), approve, body.Comment);
                    return Results.Json(decided.ToDto(), LineageJson.Default.PromotionDto);
                })
                .Accepts<DecisionRequest>("application/json").Produces<PromotionDto>();

        api.MapPost("/manifests/verify", async (HttpContext ctx, ManifestBuilder manifests) =>
            {
                var body = await ctx.Request.ReadJsonObjectAsync();
                var checks = await manifests.VerifyAsync(body, ctx.RequestAborted);
                return Results.Json(new VerifyManifestResponse(checks.All(c => c.Status is "ok" or "external"), checks.Select(c => c.ToDto()).ToList()),
                    LineageJson.Default.VerifyManifestResponse);
            })
            .WithTags("Model registry").Accepts<JsonObject>("application/json").Produces<VerifyManifestResponse>();

        return api;
    }

    private static async Task<IResult> Promotions(HttpContext ctx, RegistryStore store, string? model)
    {
        var q = ctx.Request;
        var page = await store.ListPromotionsAsync(q.QueryText("project"), model, q.QueryText("status") is { } st ? RegistryRules.Promotion(st) : null,
            Validate.PageSize(q.QueryInt("limit")), q.QueryText("pageToken"));
        return Results.Json(new PromotionListResponse(page.Items.Select(p => p.ToDto()).ToList(), page.NextPageToken), LineageJson.Default.PromotionListResponse);
    }

    private static ModelVersionQuery Query(HttpRequest q, string? model) => new(q.QueryText("project"), model, Tags(q),
        q.QueryText("stage") is { } stage ? RegistryRules.Stage(stage) : null, q.QueryText("status") is { } status ? RegistryRules.Status(status) : null,
        Validate.PageSize(q.QueryInt("limit")), q.QueryText("pageToken"));

    /// <summary>?tag.team=search&amp;tag.framework=sklearn → all must match.</summary>
    private static Dictionary<string, string> Tags(HttpRequest q) =>
        q.Query.Where(kv => kv.Key.StartsWith("tag.", StringComparison.Ordinal))
            .ToDictionary(kv => Validate.Key(kv.Key["tag.".Length..], kv.Key), kv => kv.Value.ToString());

    private static IResult Model(RegisteredModel m) => Results.Json(m.ToDto(), LineageJson.Default.RegisteredModelDto);

    private static IResult Version(ModelVersion v) => Results.Json(v.ToDto(), LineageJson.Default.ModelVersionDto);

    private static IResult Versions(Page<ModelVersion> page) =>
        Results.Json(new ModelVersionListResponse(page.Items.Select(v => v.ToDto()).ToList(), page.NextPageToken), LineageJson.Default.ModelVersionListResponse);

    internal static long Number(string version) =>
        ArtifactRules.Ref(version) is { Number: { } n } ? n : throw LineageException.Invalid("version", $"'{version}' is not a version number");
}
