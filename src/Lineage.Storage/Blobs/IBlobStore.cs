namespace Lineage.Storage.Blobs;

/// <summary>A stored blob: its SHA-256 (lowercase hex) and length.</summary>
public readonly record struct BlobInfo(string Digest, long Size);

/// <summary>
/// Content-addressed bytes. A blob's name is the SHA-256 of its content, so identical content is
/// stored once. Writes are atomic: a blob is either wholly present under its digest or absent.
/// Implementations are thread-safe. The local folder is the first; object storage comes later
/// behind the same interface.
/// </summary>
public interface IBlobStore
{
    /// <summary>Where blobs live, for display (a folder path, a bucket URI).</summary>
    string Location { get; }

    /// <summary>
    /// Streams <paramref name="content"/> into the store while hashing it, in constant memory.
    /// When <paramref name="expectedDigest"/> is given and differs, or the content exceeds
    /// <paramref name="maxBytes"/>, nothing is stored and a <c>LineageException</c> is thrown.
    /// </summary>
    Task<BlobInfo> PutAsync(Stream content, string? expectedDigest = null, long? maxBytes = null, CancellationToken ct = default);

    /// <summary>A readable, seekable stream of the blob, or null when absent.</summary>
    Stream? OpenRead(string digest);

    /// <summary>The blob's size, or null when absent.</summary>
    long? SizeOf(string digest);

    /// <summary>When the blob was last written or re-uploaded (gc spares recent blobs).</summary>
    DateTime LastWrittenUtc(string digest);

    /// <summary>Every blob present, in no particular order.</summary>
    IEnumerable<BlobInfo> List();

    /// <summary>Removes a blob; returns the bytes freed (0 when it was absent).</summary>
    long Delete(string digest);
}
