using System.Security.Cryptography;
using Lineage.Core.Errors;

namespace Lineage.Storage.Blobs;

/// <summary>
/// Blobs as files under <c>{root}/sha256/ab/cd/abcd…</c>. An upload streams into
/// <c>{root}/tmp/</c> while hashing, is flushed to disk, then renamed into place: the rename is
/// atomic, so a crash leaves at most a temp file (removed at the next start), never a half blob
/// under a digest name. Two uploads of the same content race harmlessly: both renames carry the
/// same bytes.
/// </summary>
public sealed class LocalFolderBlobStore : IBlobStore
{
    private const int BufferSize = 1 << 20;
    private readonly string _blobs;
    private readonly string _temp;

    public LocalFolderBlobStore(string root)
    {
        Root = Path.GetFullPath(root);
        _blobs = Path.Combine(Root, "sha256");
        _temp = Path.Combine(Root, "tmp");
        Directory.CreateDirectory(_blobs);
        Directory.CreateDirectory(_temp);
        // Uploads cut off by a crash or kill: never visible, removed here.
        foreach (var leftover in Directory.EnumerateFiles(_temp)) TryDelete(leftover);
    }

    public string Root { get; }

    public string Location => Root;

    public async Task<BlobInfo> PutAsync(Stream content, string? expectedDigest = null, long? maxBytes = null, CancellationToken ct = default)
    {
        if (expectedDigest is not null) expectedDigest = Digests.Normalize(expectedDigest, "digest");
        var temp = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        try
        {
            long size = 0;
            string digest;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[BufferSize];
                int read;
                while ((read = await content.ReadAsync(buffer, ct)) > 0)
                {
                    size += read;
                    if (size > maxBytes)
                        throw new LineageException(ErrorCode.PayloadTooLarge, $"the content is larger than the limit of {maxBytes:N0} bytes");
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
                file.Flush(flushToDisk: true);
                digest = Convert.ToHexStringLower(hash.GetHashAndReset());
            }
            if (expectedDigest is not null && expectedDigest != digest)
                throw LineageException.Invalid("digest", $"the content's SHA-256 is {digest} but the client sent {expectedDigest}; nothing was stored");
            var final = PathOf(digest);
            if (File.Exists(final) && new FileInfo(final).Length == size)
            {
                // Already stored: identical content is kept once. Touch it so gc's grace period
                // protects it until the registration that follows this upload.
                File.SetLastWriteTimeUtc(final, DateTime.UtcNow);
                return new BlobInfo(digest, size);
            }
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            File.Move(temp, final, overwrite: true);
            return new BlobInfo(digest, size);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    public Stream? OpenRead(string digest)
    {
        var path = PathOf(Digests.Normalize(digest, "digest"));
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    public long? SizeOf(string digest)
    {
        var info = new FileInfo(PathOf(Digests.Normalize(digest, "digest")));
        return info.Exists ? info.Length : null;
    }

    public DateTime LastWrittenUtc(string digest) => File.GetLastWriteTimeUtc(PathOf(Digests.Normalize(digest, "digest")));

    public IEnumerable<BlobInfo> List() =>
        Directory.EnumerateFiles(_blobs, "*", SearchOption.AllDirectories)
            .Select(p => new FileInfo(p))
            .Where(f => Digests.IsDigest(f.Name))
            .Select(f => new BlobInfo(f.Name, f.Length));

    public long Delete(string digest)
    {
        var info = new FileInfo(PathOf(Digests.Normalize(digest, "digest")));
        if (!info.Exists) return 0;
        var size = info.Length;
        info.Delete();
        return size;
    }

    private string PathOf(string digest) => Path.Combine(_blobs, digest[..2], digest[2..4], digest);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
