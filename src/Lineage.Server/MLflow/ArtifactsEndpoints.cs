using Lineage.Core.Errors;
using Lineage.Storage.MLflow;
using Lineage.Storage.Query;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.MLflow;

/// <summary>
/// MLflow artifacts: the tracking listing <c>artifacts/list</c> (run-relative paths plus root_uri)
/// and the artifact proxy <c>/api/2.0/mlflow-artifacts/…</c> (PUT, GET, list, DELETE; multipart
/// answers 501 NOT_IMPLEMENTED, as MLflow does over a local store). Files live in the
/// content-addressed blob store; their paths in the <c>proxy_files</c> table.
/// </summary>
internal static class ArtifactsEndpoints
{
    public const string Scheme = "mlflow-artifacts:/";

    public static void MapTracking(RouteGroupBuilder g)
    {
        g.MapGet("/artifacts/list", async (HttpContext ctx, SearchStore search, MlflowStore mlflow) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var sub = a.String("path") ?? "";
            var relative = ProxyPaths.Check(sub, allowRoot: true);
            var run = await search.GetRunAsync(RunsEndpoints.RunId(a));
            var root = run.ArtifactUri;
            List<MlFileInfo>? files = null;
            if (root.StartsWith(Scheme, StringComparison.Ordinal))
            {
                var folder = root[Scheme.Length..].Trim('/') + (relative.Length > 0 ? "/" + relative : "");
                var entries = await mlflow.ListFolderAsync(folder, ctx.RequestAborted);
                files = MlflowViews.NullIfEmpty(entries.Select(e =>
                    new MlFileInfo(relative.Length > 0 ? $"{relative}/{e.Name}" : e.Name, e.IsDir, e.Size is > 0 ? e.Size : null)));
            }
            return Results.Json(new MlListArtifactsResponse(root, files), MlflowJson.Default.MlListArtifactsResponse);
        });
    }

    public static void MapProxy(RouteGroupBuilder g)
    {
        g.MapPut("/artifacts/{**path}", async (HttpContext ctx, string path, MlflowStore mlflow, ServerOptions options) =>
        {
            CheckRawPath(ctx);
            await mlflow.PutFileAsync(path, ctx.Request.Body, options.MaxArtifactBytes, ctx.RequestAborted);
            return MlflowResults.EmptyResponse();
        });

        g.MapGet("/artifacts/{**path}", async (HttpContext ctx, string? path, MlflowStore mlflow) =>
        {
            CheckRawPath(ctx);
            if (string.IsNullOrEmpty(path))
            {
                // GET /artifacts?path=… lists a folder with base names.
                var folder = ProxyPaths.Check(ctx.Request.Query["path"].ToString(), allowRoot: true);
                var entries = await mlflow.ListFolderAsync(folder, ctx.RequestAborted);
                return Results.Json(new MlListArtifactsResponse(null,
                    MlflowViews.NullIfEmpty(entries.Select(e => new MlFileInfo(e.Name, e.IsDir, e.Size is > 0 ? e.Size : null)))),
                    MlflowJson.Default.MlListArtifactsResponse);
            }
            return await Download(mlflow, path, ctx);
        });

        g.MapDelete("/artifacts/{**path}", async (HttpContext ctx, string path, MlflowStore mlflow) =>
        {
            CheckRawPath(ctx);
            // A missing path, or one in a project the caller cannot read, is not found, as it is for a read.
            if (await mlflow.DeleteAsync(path, ctx.RequestAborted) == 0)
                throw LineageException.NotFound($"artifact '{ProxyPaths.Check(path, allowRoot: false)}' does not exist");
            return MlflowResults.EmptyResponse();
        });

        foreach (var step in new[] { "create", "complete", "abort" })
            g.MapPost($"/mpu/{step}/{{**path}}", NotImplemented);
    }

    /// <summary>The UI's <c>/get-artifact?path=…&amp;run_uuid=…</c>: a run-relative download.</summary>
    public static void MapUiRoutes(IEndpointRouteBuilder app)
    {
        app.MapGet("/get-artifact", async (HttpContext ctx, SearchStore search, MlflowStore mlflow) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var relative = ProxyPaths.Check(a.RequiredString("path"), allowRoot: false);
            var run = await search.GetRunAsync(RunsEndpoints.RunId(a));
            if (!run.ArtifactUri.StartsWith(Scheme, StringComparison.Ordinal))
                throw LineageException.NotFound($"artifacts of run {run.Run.Info.RunId} are not served by this server ({run.ArtifactUri})");
            return await Download(mlflow, $"{run.ArtifactUri[Scheme.Length..].Trim('/')}/{relative}", ctx);
        }).WithMetadata(MlflowErrorShape.Instance);
    }

    private static IResult NotImplemented() =>
        Results.Json(new MlError("NOT_IMPLEMENTED", "Multipart upload is not supported for the current artifact repository"),
            MlflowJson.Default.MlError, statusCode: 501);

    internal static async Task<IResult> Download(MlflowStore mlflow, string path, HttpContext ctx)
    {
        var (content, _) = await mlflow.OpenFileAsync(path, ctx.RequestAborted);
        var name = path[(path.LastIndexOf('/') + 1)..];
        // Header values are ASCII: the plain filename is folded, filename* carries the exact UTF-8 name.
        var ascii = new string(name.Select(c => c is >= ' ' and < (char)127 and not '"' and not '\\' ? c : '_').ToArray());
        ctx.Response.Headers.ContentDisposition = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue("attachment")
        {
            FileName = $"\"{ascii}\"",
            FileNameStar = name,
        }.ToString();
        return Results.Stream(content, ContentType(name));
    }

    /// <summary>Text-like files as text/plain (never HTML or JSON, so a browser does not render them), the rest as bytes.</summary>
    private static string ContentType(string name)
    {
        var ext = Path.GetExtension(name).ToLowerInvariant();
        return ext is ".txt" or ".log" or ".json" or ".yaml" or ".yml" or ".csv" or ".tsv" or ".ini" or ".md" or ".py" or ".cfg" or ".toml" or ".xml" or ".html"
               || ext.Length == 0 ? "text/plain" : "application/octet-stream";
    }

    /// <summary>The server normalizes "/a/../b" before routing; MLflow refuses such paths, and so do we.</summary>
    private static void CheckRawPath(HttpContext ctx)
    {
        var raw = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        var pathPart = raw.Split('?', 2)[0];
        var decoded = Uri.UnescapeDataString(pathPart);
        if (decoded.Split('/').Any(s => s is ".." or ".") || decoded.Contains('\\'))
            throw LineageException.Invalid("path", "Invalid path");
    }
}
