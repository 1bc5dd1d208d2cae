using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Server.Http;
using Lineage.Storage.Archive;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Lineage.Server.V1;

/// <summary>
/// Raw content, addressed by SHA-256. Upload once (identical content is kept once), then register
/// artifact versions that reference it. Downloads support HTTP ranges.
/// </summary>
public static class BlobsApi
{
    public static RouteGroupBuilder MapBlobs(this RouteGroupBuilder api, ServerOptions options)
    {
        var group = api.MapGroup("/blobs").WithTags("Blobs");

        group.MapPut("/", async (HttpContext ctx, IBlobStore blobs) =>
            {
                var blob = await ReceiveAsync(ctx, blobs, options, ctx.Request.QueryText("digest"));
                return Results.Json(new BlobDto(blob.Digest, blob.Size), LineageJson.Default.BlobDto, statusCode: 201);
            })
            .Accepts<Stream>("application/octet-stream").Produces<BlobDto>(201);

        group.MapMethods("/{digest}", ["HEAD"], async (string digest, HttpContext ctx, IBlobStore blobs) =>
        {
            var size = await blobs.SizeOfAsync(Digests.Normalize(digest, "digest"), ctx.RequestAborted);
            if (size is null) return Results.NotFound();
            ctx.Response.ContentLength = size;
            return Results.Ok();
        });

        group.MapGet("/{digest}", (string digest, HttpContext ctx, IBlobStore blobs) => DownloadAsync(ctx, blobs, options, Digests.Normalize(digest, "digest"), null))
            .Produces(200).Produces(206);

        return api;
    }

    /// <summary>Streams the request body into the blob store (upload routes get the artifact limit from <c>Http/RequestLimits</c>).</summary>
    public static Task<BlobInfo> ReceiveAsync(HttpContext ctx, IBlobStore blobs, ServerOptions options, string? expectedDigest) =>
        blobs.PutAsync(ctx.Request.Body, expectedDigest, options.MaxArtifactBytes, ctx.RequestAborted);

    /// <summary>
    /// A blob as a download with ETag and range support; with <c>--artifacts-redirect</c> on a store that signs URLs (S3),
    /// a 302 to a short-lived presigned GET instead, so the bytes bypass the server (ranges then go to the store).
    /// </summary>
    public static async Task<IResult> DownloadAsync(HttpContext ctx, IBlobStore blobs, ServerOptions options, string digest, string? fileName)
    {
        var reads = ctx.RequestServices.GetRequiredService<ReadTracker>();
        if (options.ArtifactsRedirect && blobs.DirectReadUrl(digest, fileName, options.ArtifactsRedirectValidity) is { } url)
        {
            // Checked first: a redirect to a missing object would hand the client the store's own 404.
            if (await blobs.SizeOfAsync(digest, ctx.RequestAborted) is null) throw await MissingAsync(ctx, digest);
            reads.Record(digest);
            ctx.Response.Headers.CacheControl = "no-store";
            return Results.Redirect(url.AbsoluteUri);
        }
        var stream = await blobs.OpenReadAsync(digest, ctx.RequestAborted) ?? throw await MissingAsync(ctx, digest);
        reads.Record(digest);
        return Results.File(stream, "application/octet-stream", fileName, entityTag: new EntityTagHeaderValue($"\"{digest}\""),
            enableRangeProcessing: true);
    }

    /// <summary>
    /// Content absent from the blob store: 409 ARCHIVED when <c>lineage archive</c> moved it (looked up only on a miss, so
    /// a normal read costs no query), else 404.
    /// </summary>
    private static async Task<LineageException> MissingAsync(HttpContext ctx, string digest) =>
        await ArchivedAsync(ctx, [digest]) ?? LineageException.NotFound($"content {digest} is not in the blob store (run 'lineage verify')");

    /// <summary>The 409 ARCHIVED for the first of <paramref name="digests"/> that is archived, with the command that restores it; null when none is.</summary>
    public static async Task<LineageException?> ArchivedAsync(HttpContext ctx, IReadOnlyCollection<string> digests)
    {
        var archived = await Archiver.FindAsync(ctx.RequestServices.GetRequiredService<Database>(), digests, ctx.RequestAborted);
        if (archived.Count == 0) return null;
        var a = archived[0];
        var restore = a.Name is null ? "lineage archive restore NAME@VERSION" : $"lineage archive restore {a.Name}@{a.Version} --project {a.Project}";
        var what = archived.Count == 1 ? $"content sha256:{a.Digest}" : $"{archived.Count} files of this content (sha256:{a.Digest} and others)";
        return new LineageException(ErrorCode.Archived,
            $"{what} was archived to {a.Location} on {DateTimeOffset.FromUnixTimeMilliseconds(a.ArchivedAt):yyyy-MM-dd}; the version and its lineage are kept. " +
            $"Restore it with '{restore}', then read it again");
    }
}
