using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Server.Http;
using Lineage.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>
/// <c>/health</c>: the process is up. <c>/ready</c>: it can serve — the database answers a query within
/// <see cref="ReadyTimeout"/> and the blob store's folder takes a file. Both are public (load balancers probe without
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

        app.MapGet("/ready", async (HttpContext ctx, Database db) =>
            {
                var database = await DatabaseAnswersAsync(db, ctx.RequestAborted);
                var blobs = BlobStoreWritable(options.ArtifactRoot);
                var ready = database && blobs;
                var status = ready ? "ready" : "unavailable";
                var answer = AccessControl.PrincipalOf(ctx) is { IsServerAdmin: true }
                    ? new HealthResponse(status, LineageServer.Version, db.Description, new Dictionary<string, string>
                    {
                        ["database"] = database ? "ok" : "unreachable",
                        ["blobStore"] = blobs ? "ok" : $"not writable: {Path.GetFullPath(options.ArtifactRoot)}",
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

    /// <summary>Writes and removes a probe file in the blob store's temp folder (created at start-up; gone when the volume is).</summary>
    private static bool BlobStoreWritable(string root)
    {
        var probe = Path.Combine(root, "tmp", $"ready-{Guid.NewGuid():N}");
        try
        {
            using (var file = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
                file.WriteByte(1);
            return Directory.Exists(Path.Combine(root, "sha256"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
