using System.Buffers;
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
    private const int ChunkSize = 1 << 20;
    private const long WritebackEvery = 64L << 20;

    /// <summary>
    /// Upload chunks come from a pool of their own that keeps at most 8 (issue 17): the shared pool keeps up to 32 arrays
    /// of a size per core plus one per thread, and an hour's soak ended holding 26 of these 1 MiB chunks (6 at minute 4),
    /// half of the live heap. More than four uploads at once allocate their chunks instead.
    /// </summary>
    private static readonly ArrayPool<byte> Chunks = ArrayPool<byte>.Create(ChunkSize, 8);
    private readonly string _blobs;
    private readonly string _temp;

    /// <param name="root">The artifact folder.</param>
    /// <param name="removeLeftovers">
    /// Remove unfinished uploads from <c>tmp/</c>: right for a server starting, wrong for a tool (backup, verify, gc)
    /// opening the folder beside a running server, whose uploads in flight live there (issue 17: a backup under load
    /// made those uploads fail).
    /// </param>
    public LocalFolderBlobStore(string root, bool removeLeftovers = true)
    {
        Root = Path.GetFullPath(root);
        _blobs = Path.Combine(Root, "sha256");
        _temp = Path.Combine(Root, "tmp");
        Directory.CreateDirectory(_blobs);
        Directory.CreateDirectory(_temp);
        // Uploads cut off by a crash or kill: never visible, removed here.
        if (removeLeftovers)
            foreach (var leftover in Directory.EnumerateFiles(_temp)) TryDelete(leftover);
    }

    public string Root { get; }

    public string Location => Root;

    public bool RehashByDefault => true;

    public async Task<BlobInfo> PutAsync(Stream content, string? expectedDigest = null, long? maxBytes = null, CancellationToken ct = default)
    {
        if (expectedDigest is not null) expectedDigest = Digests.Normalize(expectedDigest, "digest");
        var temp = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        try
        {
            var (digest, size) = await WriteAndHashAsync(content, temp, maxBytes, ct);
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

    /// <summary>
    /// Copies the content into <paramref name="path"/> and hashes it. Two buffers alternate so the
    /// disk write of one chunk overlaps hashing it and reading the next; writeback is started as
    /// the file grows and the file is fsynced before it may be renamed into place.
    /// </summary>
    private static async Task<(string Digest, long Size)> WriteAndHashAsync(Stream content, string path, long? maxBytes, CancellationToken ct)
    {
        using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] current = Chunks.Rent(ChunkSize), spare = Chunks.Rent(ChunkSize);
        long size = 0, flushedTo = 0;
        var pending = Task.CompletedTask;
        try
        {
            while (true)
            {
                var filled = await FillAsync(content, current, ct);
                if (filled == 0) break;
                size += filled;
                if (size > maxBytes)
                    throw new LineageException(ErrorCode.PayloadTooLarge, $"the content is larger than the limit of {maxBytes:N0} bytes");
                await pending;
                pending = RandomAccess.WriteAsync(handle, current.AsMemory(0, filled), size - filled, ct).AsTask();
                hash.AppendData(current, 0, filled);
                if (size - flushedTo >= WritebackEvery)
                {
                    Writeback.Start(handle, flushedTo, size - filled - flushedTo);
                    flushedTo = size - filled;
                }
                (current, spare) = (spare, current);
            }
            await pending;
        }
        finally
        {
            // Never return a buffer a write may still be reading.
            try { await pending; } catch (Exception) when (size > 0) { /* already failing; the temp file is deleted */ }
            Chunks.Return(current);
            Chunks.Return(spare);
        }
        RandomAccess.FlushToDisk(handle);
        return (Convert.ToHexStringLower(hash.GetHashAndReset()), size);
    }

    private static async Task<int> FillAsync(Stream content, byte[] buffer, CancellationToken ct)
    {
        var filled = 0;
        while (filled < ChunkSize)
        {
            var read = await content.ReadAsync(buffer.AsMemory(filled, ChunkSize - filled), ct);
            if (read == 0) break;
            filled += read;
        }
        return filled;
    }

    public Task<Stream?> OpenReadAsync(string digest, CancellationToken ct = default) => Task.FromResult(OpenRead(digest));

    private Stream? OpenRead(string digest)
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

    public Task<long?> SizeOfAsync(string digest, CancellationToken ct = default)
    {
        var info = new FileInfo(PathOf(Digests.Normalize(digest, "digest")));
        return Task.FromResult(info.Exists ? info.Length : (long?)null);
    }

    public async IAsyncEnumerable<StoredBlob> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await Task.CompletedTask;
        foreach (var path in Directory.EnumerateFiles(_blobs, "*", SearchOption.AllDirectories))
        {
            ct.ThrowIfCancellationRequested();
            var file = new FileInfo(path);
            if (!Digests.IsDigest(file.Name)) continue;
            StoredBlob blob;
            try
            {
                blob = new StoredBlob(file.Name, file.Length, file.LastWriteTimeUtc);
            }
            catch (FileNotFoundException)
            {
                continue; // deleted while listing
            }
            yield return blob;
        }
    }

    public Task<long> DeleteAsync(string digest, CancellationToken ct = default)
    {
        var info = new FileInfo(PathOf(Digests.Normalize(digest, "digest")));
        if (!info.Exists) return Task.FromResult(0L);
        var size = info.Length;
        info.Delete();
        return Task.FromResult(size);
    }

    public Uri? DirectReadUrl(string digest, string? fileName, TimeSpan validFor) => null;

    /// <summary>Ready when the folder holds its content tree and takes a file: a probe written and removed in the temp folder.</summary>
    public Task<bool> ReadyAsync(CancellationToken ct = default)
    {
        try
        {
            using (var file = new FileStream(Path.Combine(_temp, $"ready-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1,
                       FileOptions.DeleteOnClose))
                file.WriteByte(1);
            return Task.FromResult(Directory.Exists(_blobs));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(false);
        }
    }

    private string PathOf(string digest) => Path.Combine(_blobs, digest[..2], digest[2..4], digest);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
