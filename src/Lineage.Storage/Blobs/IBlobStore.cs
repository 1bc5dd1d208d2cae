namespace Lineage.Storage.Blobs;

/// <summary>A stored blob: its SHA-256 (lowercase hex) and length.</summary>
public readonly record struct BlobInfo(string Digest, long Size);

/// <summary>A blob as listed: digest, length and when it was last written or re-uploaded (gc's grace period reads it).</summary>
public readonly record struct StoredBlob(string Digest, long Size, DateTime LastWrittenUtc)
{
    public BlobInfo Info => new(Digest, Size);
}

/// <summary>
/// Content-addressed bytes. A blob's name is the SHA-256 of its content, so identical content is
/// stored once. Writes are atomic: a blob is either wholly present under its digest or absent.
/// Implementations are thread-safe: <see cref="LocalFolderBlobStore"/> (a folder) and
/// <see cref="S3BlobStore"/> (an S3 bucket/prefix, issue 13).
/// </summary>
/// <remarks>
/// Error contract: content problems are <c>LineageException</c>s with <c>InvalidParameterValue</c> (digest mismatch) or
/// <c>PayloadTooLarge</c>; a store that cannot serve (object store unreachable, access refused, throttled) throws
/// <c>BlobStoreUnavailable</c> with a retry hint. A failed <see cref="PutAsync"/> leaves no blob under any digest.
/// </remarks>
public interface IBlobStore
{
    /// <summary>Where blobs live, for display (a folder path, a bucket URI).</summary>
    string Location { get; }

    /// <summary>
    /// True when reading every byte is cheap enough for <c>lineage verify</c> to re-hash by default (a local disk);
    /// false for an object store, where verify checks existence and size and re-hashes only with <c>--deep</c>.
    /// </summary>
    bool RehashByDefault { get; }

    /// <summary>
    /// Streams <paramref name="content"/> into the store while hashing it, in bounded memory.
    /// When <paramref name="expectedDigest"/> is given and differs, or the content exceeds
    /// <paramref name="maxBytes"/>, nothing is stored and a <c>LineageException</c> is thrown.
    /// Content already stored is not written again; its write time is refreshed for gc's grace period.
    /// </summary>
    Task<BlobInfo> PutAsync(Stream content, string? expectedDigest = null, long? maxBytes = null, CancellationToken ct = default);

    /// <summary>A readable, seekable stream of the blob (ranges are served by seeking), or null when absent.</summary>
    Task<Stream?> OpenReadAsync(string digest, CancellationToken ct = default);

    /// <summary>The blob's size, or null when absent.</summary>
    Task<long?> SizeOfAsync(string digest, CancellationToken ct = default);

    /// <summary>Every blob present, in no particular order.</summary>
    IAsyncEnumerable<StoredBlob> ListAsync(CancellationToken ct = default);

    /// <summary>Removes a blob; returns the bytes freed (0 when it was absent).</summary>
    Task<long> DeleteAsync(string digest, CancellationToken ct = default);

    /// <summary>Whether the store can serve now (the folder exists; the bucket answers a one-key listing). Never throws.</summary>
    Task<bool> ReadyAsync(CancellationToken ct = default);

    /// <summary>
    /// A short-lived URL that reads the blob directly from the store without credentials (an S3 presigned GET), or null
    /// when the store has none (a local folder). <paramref name="fileName"/> becomes the download's file name.
    /// </summary>
    Uri? DirectReadUrl(string digest, string? fileName, TimeSpan validFor);
}
