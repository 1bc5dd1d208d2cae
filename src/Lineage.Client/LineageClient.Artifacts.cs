using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Lineage.Core.Artifacts;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;

namespace Lineage.Client;

/// <summary>Bytes moved so far out of the total, for progress bars.</summary>
public readonly record struct TransferProgress(long Done, long Total, string? CurrentFile);

public sealed partial class LineageClient
{
    /// <summary>
    /// Registers the next version of artifact <paramref name="name"/> from a local file or a whole
    /// directory. Each file is hashed locally, uploaded only if the server lacks that content, and
    /// checked by the server against the digest. Symbolic links are refused before anything is sent.
    /// </summary>
    /// <param name="runId">Records this run as the producer of the version.</param>
    public async Task<ArtifactVersionDto> RegisterArtifactAsync(string name, string path, string type, object? metadata = null,
        string? project = null, string? description = null, IDictionary<string, string>? tags = null, string? runId = null,
        IProgress<TransferProgress>? progress = null, CancellationToken ct = default)
    {
        ArtifactRules.Name(name);
        ArtifactRules.Type(type);
        var metadataJson = metadata is null ? (JsonElement?)null : ToJsonElement(metadata);
        RegisterArtifactRequest request;
        if (File.Exists(path))
        {
            RefuseLink(new FileInfo(path), path);
            var size = new FileInfo(path).Length;
            var blob = await UploadFileAsync(path, new Transfer(size, progress), ct);
            request = new RegisterArtifactRequest(name, type, project, metadataJson, description, Dict(tags), runId, File: new FileRefDto(blob.Digest, blob.Size));
        }
        else if (Directory.Exists(path))
        {
            var files = ListDirectory(path);
            var transfer = new Transfer(files.Sum(f => f.Info.Length), progress);
            var entries = new List<ManifestEntryDto>();
            foreach (var (relative, info) in files)
            {
                var blob = await UploadFileAsync(info.FullName, transfer, ct, relative);
                entries.Add(new ManifestEntryDto(relative, blob.Digest, blob.Size));
            }
            request = new RegisterArtifactRequest(name, type, project, metadataJson, description, Dict(tags), runId, Files: entries);
        }
        else
        {
            throw LineageException.Invalid("path", $"'{path}' is neither a file nor a directory");
        }
        return await SendAsync(HttpMethod.Post, "api/v1/artifacts", Json(request, LineageJson.Default.RegisterArtifactRequest),
            LineageJson.Default.ArtifactVersionDto, Guid.NewGuid().ToString("N"), ct);
    }

    /// <summary>
    /// Registers a version whose content the server holds already (blobs uploaded with <see cref="UploadBlobAsync"/>) or an
    /// external reference, exactly as <paramref name="request"/> says; with an idempotency key a retry is applied once.
    /// </summary>
    public Task<ArtifactVersionDto> RegisterArtifactAsync(RegisterArtifactRequest request, string? idempotencyKey = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/artifacts", Json(request, LineageJson.Default.RegisterArtifactRequest), LineageJson.Default.ArtifactVersionDto,
            idempotencyKey, ct);

    /// <summary>Registers data Lineage does not store (a data-lake path): its URI and the digest you vouch for.</summary>
    public Task<ArtifactVersionDto> RegisterExternalArtifactAsync(string name, string uri, string digest, long size, string type,
        object? metadata = null, string? project = null, string? runId = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/artifacts", Json(new RegisterArtifactRequest(name, type, project,
                metadata is null ? null : ToJsonElement(metadata), RunId: runId, External: new ExternalRefDto(uri, digest, size)),
            LineageJson.Default.RegisterArtifactRequest), LineageJson.Default.ArtifactVersionDto, Guid.NewGuid().ToString("N"), ct);

    /// <summary>A version by number ("3"), "latest", or alias ("production").</summary>
    public Task<ArtifactVersionDto> GetArtifactAsync(string name, string version = "latest", string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/artifacts/{Esc(name)}/versions/{Esc(version)}" + QueryString(("project", project)), null,
            LineageJson.Default.ArtifactVersionDto, ct: ct);

    /// <summary>Versions of one name (newest first), or all artifacts filtered by type and metadata when <paramref name="name"/> is null.</summary>
    public Task<ArtifactListResponse> ListArtifactsAsync(string? name = null, string? type = null, IDictionary<string, string>? metadata = null,
        string? project = null, string? lifecycle = null, int? limit = null, string? pageToken = null, CancellationToken ct = default)
    {
        var pairs = new List<(string, string?)> { ("name", name), ("type", type), ("project", project), ("lifecycle", lifecycle),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("pageToken", pageToken) };
        pairs.AddRange((metadata ?? new Dictionary<string, string>()).Select(kv => ("metadata." + kv.Key, (string?)kv.Value)));
        return SendAsync(HttpMethod.Get, "api/v1/artifacts" + QueryString(pairs.ToArray()), null, LineageJson.Default.ArtifactListResponse, ct: ct);
    }

    public Task<ManifestResponse> GetManifestAsync(string name, string version = "latest", string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/artifacts/{Esc(name)}/versions/{Esc(version)}/manifest" + QueryString(("project", project)), null,
            LineageJson.Default.ManifestResponse, ct: ct);

    public Task<ArtifactVersionDto> SetAliasAsync(string name, string alias, long version, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Put, $"api/v1/artifacts/{Esc(name)}/aliases/{Esc(alias)}" + QueryString(("project", project)),
            Json(new SetAliasRequest(version), LineageJson.Default.SetAliasRequest), LineageJson.Default.ArtifactVersionDto, ct: ct);

    public Task DeleteAliasAsync(string name, string alias, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/artifacts/{Esc(name)}/aliases/{Esc(alias)}" + QueryString(("project", project)), null, ct: ct);

    public Task<AliasHistoryResponse> GetAliasHistoryAsync(string name, string? project = null, string? alias = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/artifacts/{Esc(name)}/aliases/history" + QueryString(("project", project), ("alias", alias)), null,
            LineageJson.Default.AliasHistoryResponse, ct: ct);

    public Task<RetentionPolicyDto> SetRetentionPolicyAsync(RetentionPolicyDto policy, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Put, "api/v1/retention-policies", Json(policy, LineageJson.Default.RetentionPolicyDto), LineageJson.Default.RetentionPolicyDto, ct: ct);

    public Task<RetentionPolicyListResponse> ListRetentionPoliciesAsync(CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/retention-policies", null, LineageJson.Default.RetentionPolicyListResponse, ct: ct);

    public Task DeleteRetentionPolicyAsync(string? project, string scope, string target, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, "api/v1/retention-policies" + QueryString(("project", project), ("scope", scope), ("target", target)), null, ct: ct);

    public Task<ArtifactVersionDto> DeleteArtifactVersionAsync(string name, long version, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/artifacts/{Esc(name)}/versions/{version}" + QueryString(("project", project)), null,
            LineageJson.Default.ArtifactVersionDto, ct: ct);

    public Task<ArtifactVersionDto> RestoreArtifactVersionAsync(string name, long version, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/artifacts/{Esc(name)}/versions/{version}/restore" + QueryString(("project", project)), null,
            LineageJson.Default.ArtifactVersionDto, ct: ct);

    public Task<ArtifactVersionDto> GetArtifactByIdAsync(string id, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/artifacts/by-id/{Esc(id)}", null, LineageJson.Default.ArtifactVersionDto, ct: ct);

    /// <summary>
    /// Copies the content of a file version, or one file of a directory version (<paramref name="path"/>), to
    /// <paramref name="destination"/> as the server sends it; the caller checks the digest.
    /// </summary>
    public async Task CopyContentAsync(string name, long version, Stream destination, string? path = null, string? project = null,
        CancellationToken ct = default)
    {
        using var response = await SendRawAsync(HttpMethod.Get, $"api/v1/artifacts/{Esc(name)}/versions/{version}/content" +
            QueryString(("project", project), ("path", path)), null, null, ct, transfer: true);
        await response.Content.CopyToAsync(destination, ct);
    }

    /// <summary>Whether the server's blob store holds this content (SHA-256, hex).</summary>
    public async Task<bool> HasBlobAsync(string digest, CancellationToken ct = default)
    {
        using var head = new HttpRequestMessage(HttpMethod.Head, new Uri(BaseAddress, $"api/v1/blobs/{Esc(digest)}"));
        Authorize(head);
        HttpResponseMessage answer;
        try
        {
            answer = await _http.SendAsync(head, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new LineageApiException(ErrorCode.Unavailable, $"cannot reach the Lineage server at {BaseAddress}: {ex.Message}", null, inner: ex);
        }
        using var _ = answer;
        if (answer.StatusCode == HttpStatusCode.NotFound) return false;
        if (answer.IsSuccessStatusCode) return true;
        throw new LineageApiException(StatusToCode((int)answer.StatusCode), $"HEAD api/v1/blobs/{digest} answered {(int)answer.StatusCode}", (int)answer.StatusCode);
    }

    /// <summary>Uploads a local file as a content-addressed blob unless the server has that content already (one HEAD first).</summary>
    public Task<BlobDto> UploadBlobAsync(string path, CancellationToken ct = default) =>
        UploadFileAsync(path, new Transfer(new FileInfo(path).Length, null), ct);

    /// <summary>
    /// Downloads a version to <paramref name="destination"/>: the file itself, or the directory tree.
    /// Every file is checked against its SHA-256 and appears only when complete.
    /// </summary>
    public async Task<ArtifactVersionDto> DownloadAsync(string name, string destination, string version = "latest", string? project = null,
        IProgress<TransferProgress>? progress = null, CancellationToken ct = default)
    {
        var artifact = await GetArtifactAsync(name, version, project, ct);
        var content = $"api/v1/artifacts/{Esc(name)}/versions/{artifact.Version}/content";
        switch (artifact.Kind)
        {
            case "file":
                await DownloadFileAsync(content + QueryString(("project", project)), destination, artifact.Digest, new Transfer(artifact.Size, progress), null, ct);
                break;
            case "directory":
                var manifest = await GetManifestAsync(name, artifact.Version.ToString(CultureInfo.InvariantCulture), project, ct);
                var transfer = new Transfer(artifact.Size, progress);
                foreach (var f in manifest.Files)
                {
                    var target = Path.GetFullPath(Path.Combine(destination, Manifests.SafePath(f.Path, "path")));
                    await DownloadFileAsync(content + QueryString(("project", project), ("path", f.Path)), target, f.Digest!, transfer, f.Path, ct);
                }
                break;
            default:
                throw new LineageApiException(ErrorCode.InvalidParameterValue,
                    $"'{name}' v{artifact.Version} is an external reference; its content is at {artifact.StorageUri}", null);
        }
        return artifact;
    }

    private async Task<BlobDto> UploadFileAsync(string path, Transfer transfer, CancellationToken ct, string? label = null)
    {
        string digest;
        await using (var read = File.OpenRead(path))
            digest = Convert.ToHexStringLower(await SHA256.HashDataAsync(read, ct));
        var size = new FileInfo(path).Length;
        using (var head = new HttpRequestMessage(HttpMethod.Head, new Uri(BaseAddress, $"api/v1/blobs/{digest}")))
        {
            Authorize(head);
            using var known = await _http.SendAsync(head, ct);
            if (known.StatusCode == HttpStatusCode.OK)
            {
                transfer.Advance(size, label); // the server has this content already
                return new BlobDto(digest, size);
            }
        }
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var body = new StreamContent(new ProgressStream(file, n => transfer.Advance(n, label)), 1 << 20);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        body.Headers.ContentLength = size;
        return await SendAsync(HttpMethod.Put, $"api/v1/blobs?digest={digest}", body, LineageJson.Default.BlobDto, ct: ct, transfer: true);
    }

    private async Task DownloadFileAsync(string path, string destination, string digest, Transfer transfer, string? label, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        var temp = destination + ".lineage-partial";
        try
        {
            using (var response = await SendRawAsync(HttpMethod.Get, path, null, null, ct, transfer: true))
            await using (var source = await response.Content.ReadAsStreamAsync(ct))
            await using (var target = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[1 << 20];
                int read;
                while ((read = await source.ReadAsync(buffer, ct)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), ct);
                    transfer.Advance(read, label);
                }
                var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (actual != digest)
                    throw new LineageApiException(ErrorCode.InternalError, $"downloaded content of {label ?? path} hashes to {actual}, expected {digest}", null);
            }
            File.Move(temp, destination, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Files under <paramref name="root"/> with '/'-separated relative paths; links are refused.</summary>
    private static List<(string Relative, FileInfo Info)> ListDirectory(string root)
    {
        var result = new List<(string, FileInfo)>();
        var rootInfo = new DirectoryInfo(root);
        RefuseLink(rootInfo, root);
        foreach (var entry in rootInfo.EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = false }))
            Walk(entry, entry.Name);
        return result.OrderBy(f => f.Item1, StringComparer.Ordinal).ToList();

        void Walk(FileSystemInfo entry, string relative)
        {
            RefuseLink(entry, relative);
            if (entry is DirectoryInfo dir)
                foreach (var child in dir.EnumerateFileSystemInfos()) Walk(child, relative + "/" + child.Name);
            else if (entry is FileInfo file)
                result.Add((relative, file));
        }
    }

    private static void RefuseLink(FileSystemInfo entry, string label)
    {
        if (entry.LinkTarget is not null)
            throw LineageException.Invalid("path", $"'{label}' is a symbolic link; links could point outside the artifact, so nothing was uploaded");
    }

    private static Dictionary<string, string>? Dict(IDictionary<string, string>? tags) => tags is null ? null : new(tags);

    private static JsonElement ToJsonElement(object value) => value switch
    {
        JsonElement e => e,
        string json => JsonDocument.Parse(json).RootElement.Clone(),
        _ => JsonSerializer.SerializeToElement(value, value.GetType(), new JsonSerializerOptions(JsonSerializerDefaults.Web)),
    };

    /// <summary>Accumulates bytes over a whole transfer (several files) and reports them.</summary>
    private sealed class Transfer(long total, IProgress<TransferProgress>? progress)
    {
        private long _done;

        public void Advance(long bytes, string? file)
        {
            _done += bytes;
            progress?.Report(new TransferProgress(_done, total, file));
        }
    }

    /// <summary>Read-through stream that reports how many bytes went by.</summary>
    private sealed class ProgressStream(Stream inner, Action<int> onRead) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) { var n = inner.Read(buffer, offset, count); onRead(n); return n; }
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            var n = await inner.ReadAsync(buffer, ct);
            onRead(n);
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
