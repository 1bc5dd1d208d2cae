using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Lineage.Core.Artifacts;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.Archive;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Server.V1;

/// <summary>Artifact versions: register, read by number/latest/alias, content, aliases, edits, lifecycle.</summary>
public static class ArtifactsApi
{
    public static RouteGroupBuilder MapArtifacts(this RouteGroupBuilder api, ServerOptions options)
    {
        var group = api.MapGroup("/artifacts").WithTags("Artifacts");

        group.MapPost("/", async (HttpContext ctx, ArtifactStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.RegisterArtifactRequest);
                var version = await store.RegisterAsync(ToRegistration(body, ctx));
                return Results.Json(version.ToDto(), LineageJson.Default.ArtifactVersionDto, statusCode: 201);
            })
            .Accepts<RegisterArtifactRequest>("application/json").Produces<ArtifactVersionDto>(201);

        // One request: the body is the file, or a tar of a directory (Content-Type: application/x-tar).
        group.MapPost("/upload", async (HttpContext ctx, ArtifactStore store) =>
            {
                var q = ctx.Request;
                var name = ArtifactRules.Name(q.QueryText("name"));
                var type = ArtifactRules.Type(q.QueryText("type"));
                var metadata = ArtifactRules.Metadata(q.QueryText("metadata"));
                ArtifactContent content = q.ContentType?.StartsWith("application/x-tar", StringComparison.OrdinalIgnoreCase) == true
                    ? new ArtifactContent.Directory(await ReceiveTarAsync(ctx, store.Blobs, options))
                    : await ReceiveFileAsync(ctx, store.Blobs, options);
                var version = await store.RegisterAsync(new ArtifactRegistration(q.QueryText("project"), name, type, metadata, content,
                    q.QueryText("description"), null, q.QueryText("runId")));
                return Results.Json(version.ToDto(), LineageJson.Default.ArtifactVersionDto, statusCode: 201);
            })
            .Accepts<Stream>("application/octet-stream", "application/x-tar").Produces<ArtifactVersionDto>(201);

        group.MapGet("/", async (HttpContext ctx, ArtifactStore store) =>
            {
                var q = ctx.Request;
                var metadata = q.Query.Where(kv => kv.Key.StartsWith("metadata.", StringComparison.Ordinal))
                    .ToDictionary(kv => kv.Key["metadata.".Length..], kv => kv.Value.ToString());
                var latest = q.QueryText("latest") switch
                {
                    null or "false" => false,
                    "true" => true,
                    var other => throw LineageException.Invalid("latest", $"'latest' must be true or false, got '{other}'"),
                };
                var page = await store.ListAsync(new ArtifactQuery(q.QueryText("project"), q.QueryText("name"), q.QueryText("type"), metadata,
                    Validate.Lifecycle(q.QueryText("lifecycle")), Validate.PageSize(q.QueryInt("limit")), q.QueryText("pageToken"), latest));
                return List(page);
            })
            .Produces<ArtifactListResponse>();

        group.MapGet("/by-id/{id}", async (string id, ArtifactStore store) =>
                Ok(await store.GetByIdAsync(Validate.ExperimentId(id, "id"))))
            .Produces<ArtifactVersionDto>();

        group.MapGet("/{name}/versions", async (string name, HttpContext ctx, ArtifactStore store) =>
            {
                var q = ctx.Request;
                return List(await store.ListAsync(new ArtifactQuery(q.QueryText("project"), ArtifactRules.Name(name), null, null,
                    Validate.Lifecycle(q.QueryText("lifecycle")), Validate.PageSize(q.QueryInt("limit")), q.QueryText("pageToken"))));
            })
            .Produces<ArtifactListResponse>();

        group.MapGet("/{name}/versions/{reference}", async (string name, string reference, HttpContext ctx, ArtifactStore store) =>
                Ok(await store.GetAsync(ctx.Request.QueryText("project"), name, ArtifactRules.Ref(reference))))
            .Produces<ArtifactVersionDto>();

        group.MapGet("/{name}/versions/{reference}/manifest", async (string name, string reference, HttpContext ctx, ArtifactStore store) =>
            {
                var version = await store.GetAsync(ctx.Request.QueryText("project"), name, ArtifactRules.Ref(reference));
                var files = await store.ManifestAsync(version.Id);
                return Results.Json(new ManifestResponse(version.Digest, files.Select(f => new ManifestEntryDto(f.Path, f.Digest, f.Size)).ToList()),
                    LineageJson.Default.ManifestResponse);
            })
            .Produces<ManifestResponse>();

        group.MapGet("/{name}/versions/{reference}/content", async (string name, string reference, HttpContext ctx, ArtifactStore store) =>
            {
                var version = await store.GetAsync(ctx.Request.QueryText("project"), name, ArtifactRules.Ref(reference));
                return await ContentAsync(ctx, store, version, options);
            })
            .Produces(200).Produces(206);

        group.MapPatch("/{name}/versions/{version}", async (string name, string version, HttpContext ctx, ArtifactStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.UpdateArtifactRequest);
                return Ok(await store.SetDescriptionAsync(ctx.Request.QueryText("project"), name, Number(version), body.Description));
            })
            .Accepts<UpdateArtifactRequest>("application/json").Produces<ArtifactVersionDto>();

        group.MapPost("/{name}/versions/{version}/tags", async (string name, string version, HttpContext ctx, ArtifactStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.SetTagRequest);
                return Ok(await store.SetTagAsync(ctx.Request.QueryText("project"), name, Number(version), body.Key!, body.Value!));
            })
            .Accepts<SetTagRequest>("application/json").Produces<ArtifactVersionDto>();

        group.MapDelete("/{name}/versions/{version}/tags/{**key}", async (string name, string version, string key, HttpContext ctx, ArtifactStore store) =>
                Ok(await store.DeleteTagAsync(ctx.Request.QueryText("project"), name, Number(version), key)))
            .Produces<ArtifactVersionDto>();

        group.MapDelete("/{name}/versions/{version}", async (string name, string version, HttpContext ctx, ArtifactStore store) =>
                Ok(await store.DeleteVersionAsync(ctx.Request.QueryText("project"), name, Number(version))))
            .Produces<ArtifactVersionDto>();

        group.MapPost("/{name}/versions/{version}/restore", async (string name, string version, HttpContext ctx, ArtifactStore store) =>
                Ok(await store.RestoreVersionAsync(ctx.Request.QueryText("project"), name, Number(version))))
            .Produces<ArtifactVersionDto>();

        group.MapGet("/{name}/versions/{version}/edits", async (string name, string version, HttpContext ctx, ArtifactStore store) =>
            {
                var edits = await store.EditsAsync(ctx.Request.QueryText("project"), name, Number(version));
                return Results.Json(new ArtifactEditsResponse(edits.Select(e => new ArtifactEditDto(e.Field, e.OldValue, e.NewValue, e.EditedAt, e.EditedBy)).ToList()),
                    LineageJson.Default.ArtifactEditsResponse);
            })
            .Produces<ArtifactEditsResponse>();

        group.MapPut("/{name}/aliases/{alias}", async (string name, string alias, HttpContext ctx, ArtifactStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.SetAliasRequest);
                var version = body.Version ?? throw LineageException.Invalid("version", "'version' is required");
                return Ok(await store.SetAliasAsync(ctx.Request.QueryText("project"), name, alias, version));
            })
            .Accepts<SetAliasRequest>("application/json").Produces<ArtifactVersionDto>();

        group.MapDelete("/{name}/aliases/{alias}", async (string name, string alias, HttpContext ctx, ArtifactStore store) =>
            {
                await store.DeleteAliasAsync(ctx.Request.QueryText("project"), name, alias);
                return Results.NoContent();
            })
            .Produces(204);

        group.MapGet("/{name}/aliases/history", async (string name, HttpContext ctx, ArtifactStore store) =>
            {
                var changes = await store.AliasHistoryAsync(ctx.Request.QueryText("project"), name, ctx.Request.QueryText("alias"));
                return Results.Json(new AliasHistoryResponse(changes.Select(c => new AliasChangeDto(c.Alias, c.Version, c.ChangedAt, c.ChangedBy)).ToList()),
                    LineageJson.Default.AliasHistoryResponse);
            })
            .Produces<AliasHistoryResponse>();

        return api;
    }

    private static IResult Ok(ArtifactVersion v) => Results.Json(v.ToDto(), LineageJson.Default.ArtifactVersionDto);

    private static IResult List(Page<ArtifactVersion> page) =>
        Results.Json(new ArtifactListResponse(page.Items.Select(v => v.ToDto()).ToList(), page.NextPageToken), LineageJson.Default.ArtifactListResponse);

    private static long Number(string version) =>
        ArtifactRules.Ref(version) is { Number: { } n } ? n : throw LineageException.Invalid("version", $"'{version}' is not a version number");

    private static ArtifactRegistration ToRegistration(RegisterArtifactRequest body, HttpContext ctx)
    {
        var given = (body.File is null ? 0 : 1) + (body.Files is null ? 0 : 1) + (body.External is null ? 0 : 1);
        if (given != 1) throw LineageException.Invalid("file", "give exactly one of 'file', 'files' or 'external'");
        ArtifactContent content = body switch
        {
            { File: { } f } => new ArtifactContent.File(f.Digest ?? throw LineageException.Invalid("file.digest", "'file.digest' is required"),
                f.Size ?? throw LineageException.Invalid("file.size", "'file.size' is required")),
            { Files: { } files } => new ArtifactContent.Directory(files.Select((f, i) => new ManifestEntry(
                f.Path ?? throw LineageException.Invalid($"files[{i}].path", "'path' is required"),
                f.Digest ?? throw LineageException.Invalid($"files[{i}].digest", "'digest' is required"),
                f.Size ?? throw LineageException.Invalid($"files[{i}].size", "'size' is required"))).ToList()),
            { External: { } e } => new ArtifactContent.External(
                e.Uri ?? throw LineageException.Invalid("external.uri", "'external.uri' is required"),
                e.Digest ?? throw LineageException.Invalid("external.digest", "'external.digest' is required (the digest you vouch for)"),
                e.Size ?? 0),
            _ => throw LineageException.Invalid("file", "give exactly one of 'file', 'files' or 'external'"),
        };
        var metadata = body.Metadata is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } m ? m.GetRawText() : null;
        return new ArtifactRegistration(body.Project, body.Name!, body.Type!, metadata, content, body.Description, body.Tags, body.RunId);
    }

    private static async Task<ArtifactContent.File> ReceiveFileAsync(HttpContext ctx, IBlobStore blobs, ServerOptions options)
    {
        var blob = await BlobsApi.ReceiveAsync(ctx, blobs, options, ctx.Request.QueryText("digest"));
        return new ArtifactContent.File(blob.Digest, blob.Size);
    }

    /// <summary>
    /// Unpacks a tar stream into blobs, entry by entry in constant memory. Links, devices and paths
    /// that leave the directory are refused (400) before the version is registered; blobs already
    /// written by a refused upload are unreferenced and go at the next gc.
    /// </summary>
    private static async Task<List<ManifestEntry>> ReceiveTarAsync(HttpContext ctx, IBlobStore blobs, ServerOptions options)
    {
        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = null; // each file is checked against MaxArtifactBytes as it streams
        var files = new List<ManifestEntry>();
        await using var reader = new TarReader(ctx.Request.Body, leaveOpen: true);
        try
        {
            while (await reader.GetNextEntryAsync(copyData: false, ctx.RequestAborted) is { } entry)
            {
                var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        continue;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        var path = Manifests.SafePath(name, $"files[{files.Count}].path");
                        var blob = await blobs.PutAsync(entry.DataStream ?? Stream.Null, null, options.MaxArtifactBytes, ctx.RequestAborted);
                        files.Add(new ManifestEntry(path, blob.Digest, blob.Size));
                        break;
                    default:
                        throw LineageException.Invalid($"files[{files.Count}].path",
                            $"'{Validate.Shorten(name)}' is a {entry.EntryType}; only regular files and folders can be uploaded (links could point outside the directory); nothing was stored");
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException or ArgumentException)
        {
            // Not tar, empty or truncated: the client's mistake, whatever part of the reader noticed it.
            throw LineageException.Invalid("body", $"the body is not a valid tar stream: {ex.Message}");
        }
        if (files.Count == 0) throw LineageException.Invalid("body", "the tar stream holds no files");
        return files;
    }

    private static async Task<IResult> ContentAsync(HttpContext ctx, ArtifactStore store, ArtifactVersion version, ServerOptions options)
    {
        if (version.Lifecycle == VersionLifecycle.Purged)
            throw LineageException.NotFound($"version {version.Version} of '{version.Name}' was purged by gc; its content is gone");
        switch (version.Kind)
        {
            case ArtifactKind.External:
                throw LineageException.NotFound(
                    $"version {version.Version} of '{version.Name}' is an external reference; its content is at {version.ExternalUri} (sha256 {version.Digest})");
            case ArtifactKind.File:
                return await BlobsApi.DownloadAsync(ctx, store.Blobs, options, version.Digest, $"{version.Name}-v{version.Version}");
        }
        var files = await store.ManifestAsync(version.Id);
        if (ctx.Request.QueryText("path") is { } path)
        {
            var file = files.FirstOrDefault(f => f.Path == path)
                       ?? throw LineageException.NotFound($"'{path}' is not in version {version.Version} of '{version.Name}'; it has {files.Count} files");
            return await BlobsApi.DownloadAsync(ctx, store.Blobs, options, file.Digest, Path.GetFileName(file.Path));
        }
        var format = ctx.Request.QueryText("format") ?? "tar";
        if (format is not ("tar" or "zip")) throw LineageException.Invalid("format", "'format' must be tar or zip");
        // Checked before the first byte: once the archive stream has started, no error answer can be sent.
        var digests = files.Select(f => f.Digest).Distinct().ToList();
        if (await BlobsApi.ArchivedAsync(ctx, digests) is { } archived) throw archived;
        var reads = ctx.RequestServices.GetRequiredService<ReadTracker>();
        foreach (var d in digests) reads.Record(d);
        ctx.Response.ContentType = format == "tar" ? "application/x-tar" : "application/zip";
        ctx.Response.Headers.ContentDisposition = $"attachment; filename=\"{version.Name}-v{version.Version}.{format}\"";
        if (format == "tar") await WriteTarAsync(ctx, store.Blobs, files);
        else await WriteZipAsync(ctx, store.Blobs, files);
        return Results.Empty;
    }

    private static async Task WriteTarAsync(HttpContext ctx, IBlobStore blobs, IReadOnlyList<ManifestEntry> files)
    {
        await using var writer = new TarWriter(ctx.Response.Body, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var f in files)
        {
            await using var data = await blobs.OpenReadAsync(f.Digest, ctx.RequestAborted) ?? throw new InvalidOperationException($"blob {f.Digest} of '{f.Path}' is missing");
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, f.Path) { DataStream = data }, ctx.RequestAborted);
        }
    }

    private static async Task WriteZipAsync(HttpContext ctx, IBlobStore blobs, IReadOnlyList<ManifestEntry> files)
    {
        // ZipArchive writes synchronously; allow it for this response only.
        ctx.Features.Get<IHttpBodyControlFeature>()!.AllowSynchronousIO = true;
        using var zip = new ZipArchive(ctx.Response.Body, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var f in files)
        {
            await using var data = await blobs.OpenReadAsync(f.Digest, ctx.RequestAborted) ?? throw new InvalidOperationException($"blob {f.Digest} of '{f.Path}' is missing");
            await using var entry = zip.CreateEntry(f.Path, CompressionLevel.Fastest).Open();
            await data.CopyToAsync(entry, ctx.RequestAborted);
        }
    }
}
