using Lineage.Core.Artifacts;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Registry;
using Lineage.Server.Http;
using Lineage.Storage.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>Feature sets (versioned groups of feature definitions) and feature usage across model versions.</summary>
public static class FeaturesApi
{
    public static RouteGroupBuilder MapFeatures(this RouteGroupBuilder api)
    {
        var sets = api.MapGroup("/feature-sets").WithTags("Features");
        sets.MapPost("/", async (HttpContext ctx, FeatureStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.CreateFeatureSetRequest);
                var features = (body.Features ?? []).Select((f, i) => new FeatureDefinition(f.Name!, f.Dtype!, RegistryMapping.Shape(f.Shape), f.Description,
                    f.Transformation, f.Owner)).ToList();
                var sources = (body.DerivedFrom ?? []).Select((r, i) => RegistryMapping.Pointer(r, $"derivedFrom[{i}]")!).ToList();
                var set = await store.RegisterAsync(new FeatureSetRegistration(body.Project, ArtifactRules.Name(body.Name), body.Description, features, sources,
                    body.RunId));
                return Results.Json(set.ToDto(), LineageJson.Default.FeatureSetDto, statusCode: 201);
            })
            .Accepts<CreateFeatureSetRequest>("application/json").Produces<FeatureSetDto>(201);

        sets.MapGet("/{name}/versions/{reference}", async (string name, string reference, HttpContext ctx, FeatureStore store) =>
                Results.Json((await store.GetAsync(ctx.Request.QueryText("project"), name, ArtifactRules.Ref(reference))).ToDto(), LineageJson.Default.FeatureSetDto))
            .Produces<FeatureSetDto>();

        api.MapGet("/features/{name}/usage", async (string name, FeatureStore store) =>
            {
                var usage = await store.UsageAsync(name);
                return Results.Json(new FeatureUsageResponse(usage.Feature, usage.FeatureSets.Select(a => a.ToDto()).ToList(),
                    usage.ModelVersions.Select(m => new ModelVersionRefDto(m.Model, m.Version)).ToList()), LineageJson.Default.FeatureUsageResponse);
            })
            .WithTags("Features").Produces<FeatureUsageResponse>();

        return api;
    }
}
