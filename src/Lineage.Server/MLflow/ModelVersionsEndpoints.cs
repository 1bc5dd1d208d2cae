using System.Globalization;
using System.Text.Json;
using Lineage.Core.Errors;
using Lineage.Core.Query;
using Lineage.Core.Registry;
using Lineage.Server.Http;
using Lineage.Storage.MLflow;
using Lineage.Storage.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.MLflow;

/// <summary>
/// MLflow <c>model-versions/*</c>: create (from a <c>runs:/</c> or <c>mlflow-artifacts:</c> source, linked to the
/// run and to a model artifact version in the lineage graph), get, update, delete, search, get-download-uri,
/// transition-stage, tags; and the UI route <c>GET /model-versions/get-artifact</c>.
/// </summary>
internal static class ModelVersionsEndpoints
{
    public static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/model-versions/create", async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var name = a.RequiredString("name");
            var version = await mlreg.CreateVersionAsync(name, a.RequiredString("source"), a.String("run_id"), a.String("description"),
                a.KeyValues("tags"), a.String("run_link"));
            return Version(await mlreg.GetVersionAsync(name, version), withAliases: false);
        });

        g.MapGet("/model-versions/get", async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var name = a.RequiredString("name");
            return Version(await mlreg.GetVersionAsync(name, Version(a)), withAliases: true);
        });

        g.MapPatch("/model-versions/update", async (HttpContext ctx, RegistryStore registry, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var name = a.RequiredString("name");
            var version = Version(a);
            await registry.UpdateVersionAsync(null, name, version, a.String("description"), null, null);
            return Version(await mlreg.GetVersionAsync(name, version), withAliases: false);
        });

        g.MapDelete("/model-versions/delete", async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            await mlreg.DeleteVersionAsync(a.RequiredString("name"), Version(a));
            return MlflowResults.EmptyResponse();
        });

        g.MapMethods("/model-versions/search", ["GET", "POST"], async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var query = QueryParser.Parse(SearchTarget.ModelVersions, a.String("filter"), a.Strings("order_by"));
            var page = await mlreg.SearchVersionsAsync(query, a.Int("max_results"), a.String("page_token"));
            return Results.Json(new MlModelVersionsResponse(MlflowViews.NullIfEmpty(page.Items.Select(v => v.ToMl(withAliases: false))), page.NextPageToken),
                MlflowRegistryJson.Default.MlModelVersionsResponse);
        });

        g.MapGet("/model-versions/get-download-uri", async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var view = await mlreg.GetVersionAsync(a.RequiredString("name"), Version(a));
            return Results.Json(new MlDownloadUriResponse(view.Source), MlflowRegistryJson.Default.MlDownloadUriResponse);
        });

        g.MapPost("/model-versions/transition-stage", async (HttpContext ctx, RegistryStore registry, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var name = a.RequiredString("name");
            var version = Version(a);
            var stage = Stage(a.RequiredString("stage"));
            await registry.TransitionStageAsync(null, name, version, stage, Bool(a, "archive_existing_versions"));
            return Version(await mlreg.GetVersionAsync(name, version), withAliases: false);
        });

        g.MapPost("/model-versions/set-tag", async (HttpContext ctx, RegistryStore registry) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            await registry.SetVersionTagAsync(null, a.RequiredString("name"), Version(a), a.RequiredString("key"), a.String("value") ?? "");
            return MlflowResults.EmptyResponse();
        });

        g.MapDelete("/model-versions/delete-tag", async (HttpContext ctx, MlflowRegistryStore mlreg) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            await mlreg.DeleteVersionTagAsync(a.RequiredString("name"), Version(a), a.RequiredString("key"));
            return MlflowResults.EmptyResponse();
        });
    }

    /// <summary>
    /// MLflow UI's <c>GET /model-versions/get-artifact?name&amp;version&amp;path</c>: a file of the version's source folder.
    /// MLflow answers 500 for a <c>runs:/</c> source; Lineage resolves it to the run's artifact folder like any other.
    /// </summary>
    public static void MapUiRoutes(IEndpointRouteBuilder app)
    {
        app.MapGet("/model-versions/get-artifact", async (HttpContext ctx, MlflowRegistryStore mlreg, MlflowStore mlflow) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var relative = ProxyPaths.Check(a.RequiredString("path"), allowRoot: false);
            var folder = await mlreg.SourceFolderAsync(a.RequiredString("name"), Version(a));
            return await ArtifactsEndpoints.Download(mlflow, $"{folder}/{relative}", ctx);
        }).WithMetadata(MlflowErrorShape.Instance).ExcludeFromDescription();
    }

    private static IResult Version(MlflowVersionView view, bool withAliases) =>
        Results.Json(new MlModelVersionResponse(view.ToMl(withAliases)), MlflowRegistryJson.Default.MlModelVersionResponse);

    /// <summary>The <c>version</c> parameter: a number, as a JSON string or number; anything else is MLflow's 400.</summary>
    internal static long Version(MlflowArgs a)
    {
        var text = a.Body.TryGetProperty("version", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetRawText() : a.String("version");
        if (string.IsNullOrEmpty(text)) throw MlflowErrors.Missing("version");
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw LineageException.Invalid("version", $"Model version must be an integer, got '{text}'");
    }

    /// <summary>Stage names in any case (<c>production</c> → Production), as MLflow reads them.</summary>
    internal static ModelStage Stage(string text) =>
        text.ToLowerInvariant() switch
        {
            "none" => ModelStage.None,
            "staging" => ModelStage.Staging,
            "production" => ModelStage.Production,
            "archived" => ModelStage.Archived,
            _ => throw LineageException.Invalid("stage", $"Invalid Model Version stage: {text}. Value must be one of None, Staging, Production, Archived."),
        };

    /// <summary>A protobuf bool: JSON true/false, or "true"/"false" in a query string or string value.</summary>
    internal static bool Bool(MlflowArgs a, string name)
    {
        if (a.Body.TryGetProperty(name, out var e) && e.ValueKind is JsonValueKind.True or JsonValueKind.False) return e.GetBoolean();
        return a.String(name)?.ToLowerInvariant() switch
        {
            null or "" or "false" => false,
            "true" => true,
            var other => throw LineageException.Invalid(name, $"Invalid value {other} for parameter '{name}' supplied."),
        };
    }
}
