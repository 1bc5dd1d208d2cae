using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary><c>/health</c>: the process is up. <c>/ready</c>: it can serve (database answers, blob store reachable).</summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app, ServerOptions options)
    {
        app.MapGet("/health", () => Results.Json(new HealthResponse("ok", LineageServer.Version), LineageJson.Default.HealthResponse))
            .WithTags("Health").Produces<HealthResponse>();

        app.MapGet("/ready", async (Database db, IBlobStore blobs, HttpContext ctx) =>
            {
                var ready = await db.PingAsync() && await blobs.ReadyAsync(ctx.RequestAborted);
                return Results.Json(new HealthResponse(ready ? "ready" : "unavailable", LineageServer.Version, db.Description),
                    LineageJson.Default.HealthResponse, statusCode: ready ? 200 : 503);
            })
            .WithTags("Health").Produces<HealthResponse>().Produces<HealthResponse>(503);
        return app;
    }
}
