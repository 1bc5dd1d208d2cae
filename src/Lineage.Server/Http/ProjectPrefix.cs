using Lineage.Server.MLflow;
using Lineage.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.Http;

/// <summary>
/// MLflow and OpenLineage have no projects, so their clients name one in the server URL they are given:
/// <c>MLFLOW_TRACKING_URI=http://host:5000/projects/team-a</c> makes the MLflow client call
/// <c>/projects/team-a/api/2.0/mlflow/…</c> (and the artifact proxy under the same prefix); an OpenLineage
/// client with <c>url: http://host:5000/projects/team-a</c> posts to <c>/projects/team-a/api/v1/lineage</c>, and
/// Marquez readers read back under the same prefix. The prefix is moved into the request's path base and the
/// project into the request's operation context (<see cref="OperationContext.Project"/>), so the same endpoints and access rules serve every project:
/// experiments, registered models and OpenLineage data are created, found by name and listed in that project,
/// and roles are checked on it. Entities reached by id belong to their own project anyway. Runs before routing.
/// Only these surfaces take the prefix; the native API names projects itself.
/// </summary>
public static class ProjectPrefix
{
    private static readonly PathString Projects = "/projects";
    private static readonly object ItemKey = new();

    /// <summary>The project named by the request's <c>/projects/{name}</c> prefix, or null.</summary>
    public static string? ProjectOf(HttpContext ctx) => ctx.Items[ItemKey] as string;

    /// <summary>The API paths (after the prefix) a project prefix may stand in front of.</summary>
    public static bool Takes(PathString path) =>
        MlflowApi.Serves(path)
        || path == "/api/v1/lineage" || path == "/api/v1/lineage/batch" // OpenLineage ingestion, and Marquez's lineage graph read
        || path == "/api/v1/events/lineage" // Marquez's raw event read
        || path.StartsWithSegments("/api/v1/namespaces") || path.StartsWithSegments("/api/v1/jobs"); // Marquez reads

    public static IApplicationBuilder UseProjectPrefix(this IApplicationBuilder app) =>
        app.Use(async (ctx, next) =>
        {
            if (ctx.Request.Path.StartsWithSegments(Projects, out var rest) && rest.Value is { Length: > 1 } value)
            {
                var slash = value.IndexOf('/', 1);
                var remainder = new PathString(slash < 0 ? "" : value[slash..]);
                if (slash > 1 && Takes(remainder))
                {
                    // The path is decoded already: the name is used as it stands (decoding it again would turn
                    // "%2500" into a NUL) and PathString's constructor keeps it unescaped.
                    var name = value[1..slash];
                    ctx.Request.PathBase = ctx.Request.PathBase.Add(Projects).Add(new PathString("/" + name));
                    ctx.Request.Path = remainder;
                    ctx.Items[ItemKey] = name;
                }
            }
            await next(ctx);
        });
}
