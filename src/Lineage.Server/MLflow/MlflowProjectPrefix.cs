using Lineage.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.MLflow;

/// <summary>
/// MLflow has no projects, so an MLflow client names one with its tracking URI:
/// <c>MLFLOW_TRACKING_URI=http://host:5000/projects/team-a</c> makes it call <c>/projects/team-a/api/2.0/mlflow/…</c>
/// (and the artifact proxy under the same prefix). The prefix is moved into the request's path base and the project
/// into <see cref="RequestProject"/>, so the same endpoints and access rules serve every project: experiments and
/// registered models are created, found by name and searched in that project, and roles are checked on it.
/// Runs, artifacts and model versions reached by id belong to their experiment's or model's project anyway.
/// Must run before routing.
/// </summary>
public static class MlflowProjectPrefix
{
    private static readonly PathString Projects = "/projects";

    public static IApplicationBuilder UseMlflowProjectPrefix(this IApplicationBuilder app) =>
        app.Use(async (ctx, next) =>
        {
            if (ctx.Request.Path.StartsWithSegments(Projects, out var rest) && rest.Value is { Length: > 1 } value)
            {
                var slash = value.IndexOf('/', 1);
                var remainder = new PathString(slash < 0 ? "" : value[slash..]);
                if (slash > 1 && MlflowApi.Serves(remainder))
                {
                    var project = Uri.UnescapeDataString(value[1..slash]);
                    ctx.Request.PathBase = ctx.Request.PathBase.Add(Projects).Add("/" + value[1..slash]);
                    ctx.Request.Path = remainder;
                    RequestProject.Current = project;
                }
            }
            await next(ctx);
        });
}
