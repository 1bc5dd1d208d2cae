using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Lineage.Core.Errors;

namespace Lineage.Storage.Blobs;

/// <summary>
/// Blobs as objects under <c>s3://bucket/prefix/sha256/ab/cd/abcd…</c> (issue 13), on AWS S3 or any S3-compatible store.
/// </summary>
/// <remarks>
/// <para>Uploads stream: the content is read in parts of <see cref="PartSize"/> (growing after every 2,000 parts, so the
/// 10,000-part limit still allows 300 GiB), hashed as it is read, and each part goes up while the next one is read; at most
/// <see cref="PartsInFlight"/> parts are uploading, so an upload holds at most three parts in memory whatever its size.
/// Content that fits in one part is one PutObject. A multipart upload becomes visible only when completed, so a digest
/// mismatch, a size over the limit or a failure aborts it and nothing appears under any digest.</para>
/// <para>When the client names the digest (<c>PUT /blobs?digest=</c>, the SDK and CLI), the parts go straight to the
/// final key and a HEAD first finds content already stored: the body is then only hashed, never uploaded again. Without a
/// digest the parts go to <c>tmp/&lt;guid&gt;</c> and are copied server-side to the final key once the digest is known.</para>
/// <para>S3 cannot touch an object's modification time, so a re-upload of stored content writes an empty marker
/// <c>touched/&lt;digest&gt;</c>; <see cref="ListAsync"/> reports the later of the two times, which is what gc's upload grace
/// period reads on every server sharing the bucket.</para>
/// <para>Errors are translated once, by <see cref="S3ErrorTranslator"/>; transient ones were retried by the SDK first.
/// Thread-safe: the SDK client is.</para>
/// </remarks>
public sealed class S3BlobStore : IBlobStore, IDisposable
{
    /// <summary>First part size; S3's minimum is 5 MiB.</summary>
    public const int PartSize = 5 << 20;

    public const int PartsInFlight = 2;

    /// <summary>
    /// Content up to this size is PUT without a HEAD first: storing identical bytes again costs one request like the
    /// HEAD would, lands under the same key (still stored once) and refreshes the write time gc reads, so no touch marker.
    /// </summary>
    public const int SmallContent = 1 << 20;

    private const int PartsPerSizeStep = 2000;

    /// <summary>
    /// Spare part buffers of the first size, at most what one upload holds (<see cref="PartsInFlight"/> + 1). Neither
    /// ArrayPool serves here: ArrayPool.Shared keeps up to eight large arrays per core plus one per thread that returned one
    /// (an upload's parts are returned on whichever thread-pool thread finished them: 222 MiB resident on S3 against 182 on a
    /// folder), and a configured pool rounds sizes up to a power of two (a 5 MiB part would hold 8 MiB). The larger parts of
    /// very large uploads are allocated and collected.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentBag<byte[]> SpareParts = [];

    private static byte[] RentPart(int size) =>
        size == PartSize && SpareParts.TryTake(out var spare) ? spare : GC.AllocateUninitializedArray<byte>(size);

    private static void ReturnPart(byte[] buffer)
    {
        if (buffer.Length == PartSize && SpareParts.Count <= PartsInFlight) SpareParts.Add(buffer);
    }

    /// <summary>Digests this process stored or re-stored, and when: see <see cref="SizeOfAsync"/>.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Size, long At)> _recent = new(StringComparer.Ordinal);

    private static readonly long RecentFor = TimeSpan.FromMinutes(5).Ticks;
    private const int MaxRecent = 100_000;
    private const long MaxSingleCopy = 5L << 30;
    private const long CopyPartSize = 512L << 20;

    private readonly IAmazonS3 _s3;
    private readonly S3Settings _settings;

    public S3BlobStore(S3Settings settings)
    {
        _settings = settings;
        _s3 = settings.CreateClient();
    }

    public string Location => _settings.Uri;

    public bool RehashByDefault => false;

    public S3Settings Settings => _settings;

    /// <summary>
    /// Fails with a clear <see cref="ErrorCode.BlobStoreUnavailable"/> when the bucket is missing, the credentials are
    /// refused or the endpoint is unreachable: called at start-up, so a misconfigured server never starts.
    /// </summary>
    /// <remarks>
    /// One listing of a prefix that holds no objects: it needs the same bucket, credentials and list permission as
    /// gc and verify, and never returns a truncated page (s3rver on Node 20 fails to sign continuation tokens).
    /// </remarks>
    public Task CheckAsync(CancellationToken ct = default) =>
        Guard(() => _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _settings.Bucket, Prefix = $"{_settings.Prefix}check/", MaxKeys = 1 }, ct));

    public async Task<bool> ReadyAsync(CancellationToken ct = default)
    {
        try
        {
            await CheckAsync(ct);
            return true;
        }
        catch (LineageException)
        {
            return false;
        }
    }

    public string KeyOf(string digest) => $"{_settings.Prefix}sha256/{digest[..2]}/{digest[2..4]}/{digest}";

    private string TouchKeyOf(string digest) => $"{_settings.Prefix}touched/{digest}";

    public async Task<BlobInfo> PutAsync(Stream content, string? expectedDigest = null, long? maxBytes = null, CancellationToken ct = default)
    {
        if (expectedDigest is not null) expectedDigest = Digests.Normalize(expectedDigest, "digest");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var first = RentPart(PartSize);
        try
        {
            var filled = await FillAsync(content, first, PartSize, ct);
            CheckLimit(filled, maxBytes);
            hash.AppendData(first, 0, filled);
            if (filled < PartSize)
            {
                var digest = Finish(hash, expectedDigest);
                if (filled > SmallContent && await HeadAsync(KeyOf(digest), ct) == filled) return await TouchAsync(digest, filled, ct);
                await Guard(() => _s3.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = _settings.Bucket, Key = KeyOf(digest), InputStream = new MemoryStream(first, 0, filled, false),
                    AutoCloseStream = false, UseChunkEncoding = false,
                }, ct));
                return Stored(digest, filled);
            }
            if (expectedDigest is not null && await HeadAsync(KeyOf(expectedDigest), ct) is { } stored)
                return await DrainAndTouchAsync(content, hash, first, filled, expectedDigest, stored, maxBytes, ct);
            var target = expectedDigest is null ? $"{_settings.Prefix}tmp/{Guid.NewGuid():N}" : KeyOf(expectedDigest);
            var owned = first;
            first = null; // the multipart upload returns it to the pool
            var (digest2, size) = await UploadMultipartAsync(content, hash, owned, filled, target, expectedDigest, maxBytes, ct);
            if (expectedDigest is not null) return Stored(digest2, size);
            return await PromoteAsync(target, digest2, size, ct);
        }
        finally
        {
            if (first is not null) ReturnPart(first);
        }
    }

    /// <summary>The content is already stored under the digest the client named: hash the body to check the claim, upload nothing.</summary>
    private async Task<BlobInfo> DrainAndTouchAsync(Stream content, IncrementalHash hash, byte[] buffer, long size, string expected, long stored,
        long? maxBytes, CancellationToken ct)
    {
        int read;
        while ((read = await FillAsync(content, buffer, PartSize, ct)) > 0)
        {
            size += read;
            CheckLimit(size, maxBytes);
            hash.AppendData(buffer, 0, read);
        }
        Finish(hash, expected);
        if (size != stored)
            throw new LineageException(ErrorCode.InternalError, $"the stored object for {expected} has {stored} bytes but its content has {size}; run 'lineage verify'");
        return await TouchAsync(expected, size, ct);
    }

    /// <summary>
    /// Uploads the content as parts of a multipart upload under <paramref name="key"/>, reading and hashing the next part while
    /// up to <see cref="PartsInFlight"/> earlier ones go up. Owns <paramref name="first"/> (returned to the pool). Completes only
    /// when the digest matches; any failure aborts the upload.
    /// </summary>
    private async Task<(string Digest, long Size)> UploadMultipartAsync(Stream content, IncrementalHash hash, byte[] first, int firstLength,
        string key, string? expectedDigest, long? maxBytes, CancellationToken ct)
    {
        InitiateMultipartUploadResponse started;
        try
        {
            started = await Guard(() => _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _settings.Bucket, Key = key }, ct));
        }
        catch
        {
            ReturnPart(first);
            throw;
        }
        var uploadId = started.UploadId;
        var inFlight = new Queue<Task<PartETag>>();
        var etags = new List<PartETag>();
        var completed = false;
        try
        {
            var buffer = first;
            var length = firstLength;
            long size = firstLength;
            var partNumber = 1;
            while (true)
            {
                if (inFlight.Count == PartsInFlight) etags.Add(await inFlight.Dequeue());
                inFlight.Enqueue(UploadPartAsync(key, uploadId, partNumber, buffer, length, ct));
                partNumber++;
                var nextSize = PartSize << Math.Min(4, (partNumber - 1) / PartsPerSizeStep);
                buffer = RentPart(nextSize);
                length = await FillAsync(content, buffer, nextSize, ct);
                if (length == 0)
                {
                    ReturnPart(buffer);
                    break;
                }
                size += length;
                if (size > maxBytes) ReturnPart(buffer);
                CheckLimit(size, maxBytes);
                hash.AppendData(buffer, 0, length);
            }
            while (inFlight.Count > 0) etags.Add(await inFlight.Dequeue());
            var digest = Finish(hash, expectedDigest);
            await Guard(() => _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _settings.Bucket, Key = key, UploadId = uploadId, PartETags = etags,
            }, ct));
            completed = true;
            return (digest, size);
        }
        finally
        {
            if (!completed)
            {
                // Let the parts already sent finish (their buffers return to the pool), then abort so nothing is assembled.
                try { await Task.WhenAll(inFlight); } catch (Exception) { /* already failing */ }
                await AbortAsync(key, uploadId);
            }
        }
    }

    private async Task<PartETag> UploadPartAsync(string key, string uploadId, int partNumber, byte[] buffer, int length, CancellationToken ct)
    {
        try
        {
            var response = await Guard(() => _s3.UploadPartAsync(new UploadPartRequest
            {
                BucketName = _settings.Bucket, Key = key, UploadId = uploadId, PartNumber = partNumber,
                InputStream = new MemoryStream(buffer, 0, length, false), PartSize = length, UseChunkEncoding = false,
            }, ct));
            return new PartETag(partNumber, response.ETag);
        }
        finally
        {
            ReturnPart(buffer);
        }
    }

    /// <summary>
    /// Best effort: a store that cannot abort (s3rver has no AbortMultipartUpload) keeps unassembled parts, which are never
    /// visible under a digest; on AWS a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes them.
    /// </summary>
    private async Task AbortAsync(string key, string uploadId)
    {
        try
        {
            await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _settings.Bucket, Key = key, UploadId = uploadId });
        }
        catch (Exception ex) when (ex is AmazonS3Exception or Amazon.Runtime.AmazonClientException or HttpRequestException or IOException)
        {
            // The upload stays incomplete and invisible; see the summary.
        }
    }

    /// <summary>Moves a temp upload to its content address (a server-side copy), unless that content is already stored.</summary>
    private async Task<BlobInfo> PromoteAsync(string tempKey, string digest, long size, CancellationToken ct)
    {
        try
        {
            if (await HeadAsync(KeyOf(digest), ct) == size) return await TouchAsync(digest, size, ct);
            if (size <= MaxSingleCopy)
                await Guard(() => _s3.CopyObjectAsync(new CopyObjectRequest
                {
                    SourceBucket = _settings.Bucket, SourceKey = tempKey, DestinationBucket = _settings.Bucket, DestinationKey = KeyOf(digest),
                }, ct));
            else
                await CopyInPartsAsync(tempKey, KeyOf(digest), size, ct);
            return Stored(digest, size);
        }
        finally
        {
            try { await _s3.DeleteObjectAsync(_settings.Bucket, tempKey, CancellationToken.None); }
            catch (Exception ex) when (ex is AmazonS3Exception or Amazon.Runtime.AmazonClientException or HttpRequestException or IOException)
            {
                // A leftover tmp/ object is never read; gc lists only sha256/.
            }
        }
    }

    /// <summary>S3 copies at most 5 GiB in one request; larger objects are copied as a multipart upload of ranges.</summary>
    private async Task CopyInPartsAsync(string source, string destination, long size, CancellationToken ct)
    {
        var started = await Guard(() => _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _settings.Bucket, Key = destination }, ct));
        var completed = false;
        try
        {
            var etags = new List<PartETag>();
            var part = 1;
            for (long offset = 0; offset < size; offset += CopyPartSize, part++)
            {
                var number = part;
                var first = offset;
                var copied = await Guard(() => _s3.CopyPartAsync(new CopyPartRequest
                {
                    SourceBucket = _settings.Bucket, SourceKey = source, DestinationBucket = _settings.Bucket, DestinationKey = destination,
                    UploadId = started.UploadId, PartNumber = number, FirstByte = first, LastByte = Math.Min(size, first + CopyPartSize) - 1,
                }, ct));
                etags.Add(new PartETag(number, copied.ETag));
            }
            await Guard(() => _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _settings.Bucket, Key = destination, UploadId = started.UploadId, PartETags = etags,
            }, ct));
            completed = true;
        }
        finally
        {
            if (!completed) await AbortAsync(destination, started.UploadId);
        }
    }

    private async Task<BlobInfo> TouchAsync(string digest, long size, CancellationToken ct)
    {
        await Guard(() => _s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _settings.Bucket, Key = TouchKeyOf(digest), InputStream = new MemoryStream([]), UseChunkEncoding = false,
        }, ct));
        return Stored(digest, size);
    }

    /// <summary>Notes content this process just wrote (or touched): its write time is now, so gc's upload grace protects it.</summary>
    private BlobInfo Stored(string digest, long size)
    {
        if (_recent.Count >= MaxRecent) _recent.Clear();
        _recent[digest] = (size, DateTime.UtcNow.Ticks);
        return new BlobInfo(digest, size);
    }

    private static void CheckLimit(long size, long? maxBytes)
    {
        if (size > maxBytes)
            throw new LineageException(ErrorCode.PayloadTooLarge, $"the content is larger than the limit of {maxBytes:N0} bytes");
    }

    private static string Finish(IncrementalHash hash, string? expectedDigest)
    {
        var digest = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (expectedDigest is not null && expectedDigest != digest)
            throw LineageException.Invalid("digest", $"the content's SHA-256 is {digest} but the client sent {expectedDigest}; nothing was stored");
        return digest;
    }

    private static async Task<int> FillAsync(Stream content, byte[] buffer, int count, CancellationToken ct)
    {
        var filled = 0;
        while (filled < count)
        {
            var read = await content.ReadAsync(buffer.AsMemory(filled, count - filled), ct);
            if (read == 0) break;
            filled += read;
        }
        return filled;
    }

    public async Task<Stream?> OpenReadAsync(string digest, CancellationToken ct = default)
    {
        var key = KeyOf(Digests.Normalize(digest, "digest"));
        var size = await HeadAsync(key, ct);
        return size is null ? null : new S3ReadStream(_s3, _settings, key, size.Value);
    }

    /// <summary>
    /// One HEAD, unless this process stored or re-stored the content in the last five minutes: then its size is known.
    /// Registration checks every version's content this way, so an upload followed by its registration costs one request
    /// to the store instead of three (issue 13: 63 versions/s). Safe because such content was written less than five
    /// minutes ago, well inside gc's upload grace (1 h), and this process's own deletes forget it.
    /// </summary>
    public Task<long?> SizeOfAsync(string digest, CancellationToken ct = default)
    {
        digest = Digests.Normalize(digest, "digest");
        if (_recent.TryGetValue(digest, out var known) && DateTime.UtcNow.Ticks - known.At < RecentFor) return Task.FromResult<long?>(known.Size);
        return HeadAsync(KeyOf(digest), ct);
    }

    private async Task<long?> HeadAsync(string key, CancellationToken ct)
    {
        try
        {
            var head = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _settings.Bucket, Key = key }, ct);
            return head.ContentLength;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
        catch (Exception ex) when (S3ErrorTranslator.Translate(ex, _settings) is LineageException translated)
        {
            throw translated;
        }
    }

    /// <summary>Lists <c>touched/</c> first (usually few keys), then <c>sha256/</c>, one page of 1,000 keys at a time.</summary>
    public async IAsyncEnumerable<StoredBlob> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var touched = new Dictionary<string, DateTime>();
        await foreach (var o in ListKeysAsync($"{_settings.Prefix}touched/", ct))
            touched[o.Key[(o.Key.LastIndexOf('/') + 1)..]] = o.LastModified?.ToUniversalTime() ?? DateTime.MinValue;
        await foreach (var o in ListKeysAsync($"{_settings.Prefix}sha256/", ct))
        {
            var name = o.Key[(o.Key.LastIndexOf('/') + 1)..];
            if (!Digests.IsDigest(name)) continue;
            var written = o.LastModified?.ToUniversalTime() ?? DateTime.MinValue;
            if (touched.TryGetValue(name, out var at) && at > written) written = at;
            yield return new StoredBlob(name, o.Size ?? 0, written);
        }
    }

    private async IAsyncEnumerable<S3Object> ListKeysAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        string? token = null;
        do
        {
            var page = await Guard(() => _s3.ListObjectsV2Async(new ListObjectsV2Request
            {
                BucketName = _settings.Bucket, Prefix = prefix, ContinuationToken = token,
            }, ct));
            foreach (var o in page.S3Objects ?? []) yield return o;
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        } while (token is not null);
    }

    public async Task<long> DeleteAsync(string digest, CancellationToken ct = default)
    {
        digest = Digests.Normalize(digest, "digest");
        _recent.TryRemove(digest, out _);
        var size = await HeadAsync(KeyOf(digest), ct);
        if (size is null) return 0;
        await Guard(() => _s3.DeleteObjectAsync(_settings.Bucket, KeyOf(digest), ct));
        await Guard(() => _s3.DeleteObjectAsync(_settings.Bucket, TouchKeyOf(digest), ct));
        return size.Value;
    }

    public Uri? DirectReadUrl(string digest, string? fileName, TimeSpan validFor)
    {
        var request = new GetPreSignedUrlRequest
        {
            BucketName = _settings.Bucket, Key = KeyOf(Digests.Normalize(digest, "digest")), Verb = HttpVerb.GET,
            Expires = DateTime.UtcNow + validFor,
            Protocol = _settings.Endpoint is { } e && e.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS,
        };
        if (fileName is not null)
            request.ResponseHeaderOverrides.ContentDisposition = new System.Net.Mime.ContentDisposition { FileName = fileName }.ToString();
        return new Uri(_s3.GetPreSignedURL(request));
    }

    private async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (S3ErrorTranslator.Translate(ex, _settings) is LineageException translated && !ReferenceEquals(translated, ex))
        {
            throw translated;
        }
    }

    public void Dispose() => _s3.Dispose();
}
