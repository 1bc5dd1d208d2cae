using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Server.Http;
using Lineage.Storage.Blobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
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
                var blob = await ReceiveAsync(ctx, blobs, options, ctx.Request.String("digest"));
                return Results.Json(new BlobDto(blob.Digest, blob.Size), LineageJson.Default.BlobDto, statusCode: 201);
            })
            .Accepts<Stream>("application/octet-stream").Produces<BlobDto>(201);

        group.MapMethods("/{digest}", ["HEAD"], (string digest, HttpContext ctx, IBlobStore blobs) =>
        {
            var size = blobs.SizeOf(Digests.Normalize(digest, "digest"));
            if (size is null) return Results.NotFound();
            ctx.Response.ContentLength = size;
            return Results.Ok();
        });

        group.MapGet("/{digest}", (string digest, IBlobStore blobs) => Download(blobs, Digests.Normalize(digest, "digest"), null))
            .Produces(200).Produces(206);

        return api;
    }

    /// <summary>Streams the request body into the blob store (upload routes get the artifact limit from <c>Http/RequestLimits</c>).</summary>
    public static Task<BlobInfo> ReceiveAsync(HttpContext ctx, IBlobStore blobs, ServerOptions options, string? expectedDigest) =>
        blobs.PutAsync(ctx.Request.Body, expectedDigest, options.MaxArtifactBytes, ctx.RequestAborted);

    /// <summary>A blob as a download with ETag and range support.</summary>
    public static IResult Download(IBlobStore blobs, string digest, string? fileName)
    {
        var stream = blobs.OpenRead(digest)
                     ?? throw LineageException.NotFound($"content {digest} is not in the blob store (run 'lineage verify')");
        return Results.File(stream, "application/octet-stream", fileName, entityTag: new EntityTagHeaderValue($"\"{digest}\""),
            enableRangeProcessing: true);
    }
}
