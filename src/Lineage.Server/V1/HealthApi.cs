using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Storage.Blobs;
using Lineage.Server.Http;
using Lineage.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>
/// <c>/health</c>: the process is up. <c>/ready</c>: it can serve — the database answers a query within
/// <see cref="ReadyTimeout"/> and the blob store answers (a folder that takes a file, a bucket that answers). Both are public (load balancers probe without
/// credentials), so <c>/ready</c> tells anonymous callers only ready or not; a server admin's Bearer token also gets
/// the version, the store (host, user and database name, never a password) and which check failed (issue 17).
/// </summary>
public static class HealthApi
{
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app, ServerOptions options)
    {
        app.MapGet("/health", () => Results.Json(new HealthResponse("ok", LineageServer.Version), LineageJson.Default.HealthResponse))
            .WithTags("Health").Produces<HealthResponse>();

        app.MapGet("/ready", async (HttpContext ctx, Database db, IBlobStore blobStore) =>
            {
                var database = await DatabaseAnswersAsync(db, ctx.RequestAborted);
                var blobs = await blobStore.ReadyAsync(ctx.RequestAborted);
                var ready = database && blobs;
                var status = ready ? "ready" : "unavailable";
                var answer = AccessControl.PrincipalOf(ctx) is { IsServerAdmin: true }
                    ? new HealthResponse(status, LineageServer.Version, db.Description, new Dictionary<string, string>
                    {
                        ["database"] = database ? "ok" : "unreachable",
                        ["blobStore"] = blobs ? "ok" : $"not ready: {blobStore.Location}",
                    })
                    : new HealthResponse(status);
                return Results.Json(answer, LineageJson.Default.HealthResponse, statusCode: ready ? 200 : 503);
            })
            .WithTags("Health").Produces<HealthResponse>().Produces<HealthResponse>(503);
        return app;
    }

    private static async Task<bool> DatabaseAnswersAsync(Database db, CancellationToken aborted)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(ReadyTimeout);
        try
        {
            return await db.PingAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return false; // no answer in time: a hung database is not ready either
        }
    }
}
