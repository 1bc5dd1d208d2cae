using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lineage.Storage.Backup;

/// <summary>A file of the archive with its length and SHA-256 (lowercase hex).</summary>
public sealed record BackupFile(string Path, long Size, string Sha256);

/// <summary>A PostgreSQL table: its rows in <see cref="Path"/> as <c>COPY … TO STDOUT</c> text, in the order of <see cref="Columns"/>.</summary>
public sealed record BackupTable(string Name, IReadOnlyList<string> Columns, string Path);

/// <summary>A blob of the archive, stored under <c>blobs/sha256/&lt;digest&gt;</c>; its name is its digest.</summary>
public sealed record BackupBlob(string Digest, long Size);

/// <summary>
/// <c>manifest.json</c>, the archive's last entry: what was backed up, from where, at which schema version, and the
/// digest of every other entry, so a restore checks each byte it places. Format 1.
/// </summary>
public sealed record BackupManifest(
    int Format,
    string LineageVersion,
    DateTimeOffset CreatedAt,
    string Dialect,
    string Source,
    long SchemaVersion,
    IReadOnlyList<BackupFile> Files,
    IReadOnlyList<BackupTable> Tables,
    IReadOnlyList<BackupBlob> Blobs)
{
    public const int CurrentFormat = 1;
    public const string EntryName = "manifest.json";
    public const string SqliteEntry = "database/lineage.db";
    public const string BlobPrefix = "blobs/sha256/";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}

/// <summary>A write-through stream that hashes everything written (the archive's own digest, computed as it is written).</summary>
internal sealed class HashingStream(Stream inner) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long Written { get; private set; }

    public string Digest() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Written;

    public override long Position
    {
        get => Written;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.AppendData(buffer);
        Written += buffer.Length;
        inner.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        _hash.AppendData(buffer.Span);
        Written += buffer.Length;
        await inner.WriteAsync(buffer, ct);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose();
        base.Dispose(disposing);
    }
}
