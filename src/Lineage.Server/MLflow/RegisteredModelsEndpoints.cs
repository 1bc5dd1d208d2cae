using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lineage.Core.Errors;
using Lineage.Core.Query;
using Lineage.Server.Http;
using Lineage.Storage.MLflow;
using Lineage.Storage.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.MLflow;

/// <summary>
/// MLflow <c>registered-models/*</c>: create, get, rename, update, delete, search, get-latest-versions, tags and
/// aliases. Writes that mean the same in both APIs go to the native <see cref="RegistryStore"/> (so an MLflow
/// registered model is a Lineage registered model in the default project); MLflow-only semantics (rename, delete,
/// tolerant deletes, searches) to <see cref="MlflowRegistryStore"/>. The acting user is the <c>Lineage-User</c>
/// header when sent (the approver rule of the native registry applies to aliases and stages).
/// </summary>
internal static partial class RegisteredModelsEndpoints
{
    public static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/registered-models/create", async (HttpContext ctx, RegistryStore registry, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var name = a.RequiredString("name");
            await registry.CreateModelAsync(null, name, a.String("description"), Tags(a), null);
            return Model(await mlreg.GetModelAsync(name));
        });

        g.MapGet("/registered-models/get", async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            return Model(await mlreg.GetModelAsync(a.RequiredString("name")));
        });

        g.MapPost("/registered-models/rename", async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var newName = a.RequiredString("new_name");
            await mlreg.RenameModelAsync(a.RequiredString("name"), newName);
            return Model(await mlreg.GetModelAsync(newName));
        });

        g.MapPatch("/registered-models/update", async (HttpContext ctx, RegistryStore registry, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var name = a.RequiredString("name");
            await registry.UpdateModelAsync(null, name, a.String("description"));
            return Model(await mlreg.GetModelAsync(name));
        });

        g.MapDelete("/registered-models/delete", async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            await mlreg.DeleteModelAsync(a.RequiredString("name"));
            return MlflowResults.EmptyResponse();
        });

        g.MapMethods("/registered-models/search", ["GET", "POST"], async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var query = QueryParser.Parse(SearchTarget.RegisteredModels, a.String("filter"), a.Strings("order_by"));
            var page = await mlreg.SearchModelsAsync(query, a.Int("max_results"), a.String("page_token"));
            return Results.Json(new MlSearchRegisteredModelsResponse(MlflowViews.NullIfEmpty(page.Items.Select(m => m.ToMl())), page.NextPageToken),
                MlflowRegistryJson.Default.MlSearchRegisteredModelsResponse);
        });

        g.MapMethods("/registered-models/get-latest-versions", ["GET", "POST"], async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var versions = await mlreg.LatestVersionsAsync(a.RequiredString("name"), a.Strings("stages"));
            return Results.Json(new MlModelVersionsResponse(MlflowViews.NullIfEmpty(versions.Select(v => v.ToMl(withAliases: false)))),
                MlflowRegistryJson.Default.MlModelVersionsResponse);
        });

        g.MapPost("/registered-models/set-tag", async (HttpContext ctx, RegistryStore registry) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            await registry.SetModelTagAsync(null, a.RequiredString("name"), a.RequiredString("key"), a.String("value") ?? "");
            return MlflowResults.EmptyResponse();
        });

        g.MapDelete("/registered-models/delete-tag", async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            await mlreg.DeleteModelTagAsync(a.RequiredString("name"), a.RequiredString("key"));
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/registered-models/alias", async (HttpContext ctx, RegistryStore registry) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var name = a.RequiredString("name");
            var alias = Alias(a.RequiredString("alias"));
            await registry.SetAliasAsync(null, name, alias, ModelVersionsEndpoints.Version(a));
            return MlflowResults.EmptyResponse();
        });

        g.MapGet("/registered-models/alias", async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var version = await mlreg.GetByAliasAsync(a.RequiredString("name"), a.RequiredString("alias"));
            return Results.Json(new MlModelVersionResponse(version.ToMl(withAliases: true)), MlflowRegistryJson.Default.MlModelVersionResponse);
        });

        g.MapDelete("/registered-models/alias", async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            await mlreg.DeleteAliasAsync(a.RequiredString("name"), a.RequiredString("alias"));
            return MlflowResults.EmptyResponse();
        });
    }

    internal static IResult Model(MlflowModelView view) =>
        Results.Json(new MlRegisteredModelResponse(view.ToMl()), MlflowRegistryJson.Default.MlRegisteredModelResponse);

    /// <summary>Tags of a request as a map (a key given twice: the last value wins, as MLflow's upsert does).</summary>
    internal static Dictionary<string, string> Tags(MlflowArgs a)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var t in a.KeyValues("tags")) map[t.Key] = t.Value;
        return map;
    }

    /// <summary>MLflow's reserved alias names: "latest" in any case, and v&lt;number&gt; (it would read as a version).</summary>
    internal static string Alias(string alias)
    {
        if (alias.Equals("latest", StringComparison.OrdinalIgnoreCase))
            throw LineageException.Invalid("alias", "'latest' alias name (case insensitive) is reserved.");
        if (VersionLike().IsMatch(alias))
            throw LineageException.Invalid("alias", $"Version alias name '{alias}' is reserved.");
        return alias;
    }

    [GeneratedRegex(@"^[vV]\d+$")]
    private static partial Regex VersionLike();
}
