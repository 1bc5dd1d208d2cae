using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace Lineage.Server.Http;

/// <summary>
/// Serves the web UI (issue 8) at <c>/</c>: the files Vite built from <c>web/</c> (copied into the server's
/// output folder as <c>wwwroot/</c>) and, for any other GET that is not an API path, <c>index.html</c>, so the
/// single-page app's own routes (<c>/runs/…</c>, <c>/lineage?…</c>) survive a reload. Reserved prefixes
/// (<c>/api</c>, <c>/health</c>, <c>/ready</c>, <c>/openapi</c>) are never answered with the page: an unknown
/// API path stays a JSON 404. Without a built UI the server still starts and <c>/</c> says how to build it.
/// </summary>
public static class WebUi
{
    private static readonly string[] Reserved = ["/api", "/ajax-api", "/health", "/ready", "/openapi"];

    /// <summary>Where the built UI is looked for when <see cref="ServerOptions.UiRoot"/> is not set.</summary>
    public static string DefaultRoot => Path.Combine(AppContext.BaseDirectory, "wwwroot");

    internal const string NotBuiltPage = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lineage</title></head>
        <body style="font-family:sans-serif;max-width:40em;margin:3em auto">
        <h1>Lineage server is running</h1>
        <p>The web UI is not built. Build it with <code>scripts/build-web.sh</code>
        (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then rebuild the server);
        <code>scripts/start.sh</code> does both.</p>
        <p>The API is at <a href="/api/v1/experiments">/api/v1</a>; its description at <a href="/openapi/v1.json">/openapi/v1.json</a>.</p>
        </body></html>
        """;

    /// <summary>An API path, also behind a project prefix (<c>/projects/p/api/v1/executions</c> is an unknown API path, not a page).</summary>
    private static bool IsReserved(PathString path)
    {
        if (path.StartsWithSegments("/projects", out var rest) && rest.Value is { Length: > 1 } value)
        {
            var slash = value.IndexOf('/', 1);
            if (slash > 0 && Reserved.Any(p => new PathString(value[slash..]).StartsWithSegments(p))) return true;
        }
        return Reserved.Any(p => path.StartsWithSegments(p));
    }

    /// <summary>
    /// The UI's routes whose last segment is a user-chosen name (web/src/main.ts), with how many segments follow the
    /// prefix: <c>/artifacts/{name}</c> and the like, and <c>/jobs/{namespace}/{job}</c> (OpenLineage jobs).
    /// </summary>
    private static readonly (string Prefix, int Segments)[] NamedPages = [("/artifacts", 1), ("/models", 1), ("/runs", 1), ("/experiments", 1), ("/jobs", 2)];

    private static bool NamedPage(PathString path)
    {
        var value = path.Value ?? "";
        // Exactly that many segments under the route: /artifacts/reviews.csv, never /artifacts/a/b.js.
        return NamedPages.Any(p => path.StartsWithSegments(p.Prefix, out var rest)
                                   && rest.Value is { Length: > 1 } r && r.Count(c => c == '/') == p.Segments && !r.Contains("//", StringComparison.Ordinal))
               && !value.Contains("..", StringComparison.Ordinal);
    }

    public static WebApplication UseWebUi(this WebApplication app, string? root)
    {
        root = Path.GetFullPath(root ?? DefaultRoot);
        var index = Path.Combine(root, "index.html");
        var built = File.Exists(index);
        var files = built ? new PhysicalFileProvider(root) : null;
        var types = new FileExtensionContentTypeProvider();

        // A middleware, not a fallback endpoint: it answers requests that no endpoint matched and that are not
        // under a reserved prefix (pages are GET/HEAD only: other methods are 405). Routing keeps its own answers for everything else — an unknown
        // API path is the JSON 404, a wrong method on an API route 405 (a catch-all endpoint would take both).
        app.Use(async (ctx, next) =>
            {
                if (ctx.GetEndpoint() is not null || IsReserved(ctx.Request.Path))
                {
                    await next(ctx);
                    return;
                }
                if (!HttpMethods.IsGet(ctx.Request.Method) && !HttpMethods.IsHead(ctx.Request.Method))
                {
                    ctx.Response.StatusCode = 405;   // every page path exists, for GET only; the error middleware writes the body
                    return;
                }
                var path = ctx.Request.Path;
                var file = Path.HasExtension(path.Value) ? files?.GetFileInfo(path.Value!) : null;
                // A page whose last segment is a name with a dot (/artifacts/reviews.csv, an OpenLineage dataset
                // s3___lake.orders) is the page, not a file (issue 16): built files are never under these routes.
                if (Path.HasExtension(path.Value) && !(file is { Exists: true, IsDirectory: false }) && !NamedPage(path))
                {
                    // A file (PhysicalFileProvider refuses paths leaving the root). A missing one is a 404, never the page.
                    ctx.Response.StatusCode = 404;
                    return;
                }
                if (file is { Exists: true, IsDirectory: false })
                {
                    ctx.Response.ContentType = types.TryGetContentType(file.Name, out var type) ? type : "application/octet-stream";
                    // Vite names assets by content hash: they never change.
                    ctx.Response.Headers[HeaderNames.CacheControl] =
                        path.StartsWithSegments("/assets") ? "public, max-age=31536000, immutable" : "no-cache";
                    ctx.Response.ContentLength = file.Length;
                    if (!HttpMethods.IsHead(ctx.Request.Method)) await ctx.Response.SendFileAsync(file);
                    return;
                }
                ctx.Response.ContentType = "text/html; charset=utf-8";
                ctx.Response.Headers[HeaderNames.CacheControl] = "no-cache";
                if (HttpMethods.IsHead(ctx.Request.Method)) return;
                if (built) await ctx.Response.SendFileAsync(index);
                else await ctx.Response.WriteAsync(NotBuiltPage);
            });
        return app;
    }
}
