using System.Security.Cryptography;
using System.Net.Http;
using Lineage.Core.Errors;
using Lineage.Storage.Blobs;
using Lineage.Tests.Support;

namespace Lineage.Tests.Storage;

/// <summary>
/// What every blob store must do, run once per store from the same test code (like the storage contracts per database):
/// the local folder and S3 (issue 13). Each store's class only says how to open a fresh, empty store.
/// </summary>
public abstract class BlobStoreContract : IAsyncLifetime
{
    protected IBlobStore Blobs { get; private set; } = null!;

    protected abstract Task<IBlobStore> NewStoreAsync();

    public async Task InitializeAsync() => Blobs = await NewStoreAsync();

    public Task DisposeAsync()
    {
        (Blobs as IDisposable)?.Dispose();
        return Task.CompletedTask;
    }

    protected static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private async Task<byte[]> ReadAllAsync(string digest)
    {
        await using var stream = await Blobs.OpenReadAsync(digest) ?? throw new Xunit.Sdk.XunitException($"{digest} is missing");
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>A stream that hands out at most 64 KiB per read, like a request body does.</summary>
    protected sealed class Trickle(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 65536));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 65536)], ct);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100_000)]
    [InlineData(S3BlobStore.PartSize)] // exactly one part
    [InlineData(3 * S3BlobStore.PartSize + 12_345)] // several parts, the last short
    public async Task content_put_comes_back_byte_identical_under_its_sha256(int length)
    {
        var data = Bytes(length, length);
        var blob = await Blobs.PutAsync(new Trickle(data));
        Assert.Equal(new BlobInfo(Sha(data), length), blob);
        Assert.Equal(length, await Blobs.SizeOfAsync(blob.Digest));
        Assert.Equal(data, await ReadAllAsync(blob.Digest));
        Assert.Equal([blob], (await Blobs.ListAsync().ToListAsync()).Select(b => b.Info));
    }

    [Fact]
    public async Task content_with_the_digest_named_goes_up_in_parts_and_reads_back()
    {
        var data = Bytes(2 * S3BlobStore.PartSize + 1, 7);
        var blob = await Blobs.PutAsync(new Trickle(data), "sha256:" + Sha(data).ToUpperInvariant());
        Assert.Equal(Sha(data), blob.Digest);
        Assert.Equal(data, await ReadAllAsync(blob.Digest));
    }

    [Fact]
    public async Task identical_content_is_stored_once_and_a_re_upload_refreshes_its_write_time()
    {
        var data = Bytes(1000, 1);
        var first = await Blobs.PutAsync(new MemoryStream(data));
        var written = (await Blobs.ListAsync().SingleAsync()).LastWrittenUtc;
        await Task.Delay(1100); // object stores keep whole seconds
        var again = await Blobs.PutAsync(new MemoryStream(data), first.Digest);
        var listed = await Blobs.ListAsync().SingleAsync();
        Assert.Equal(first, again);
        Assert.Equal(first, listed.Info);
        Assert.True(listed.LastWrittenUtc > written, $"write time {listed.LastWrittenUtc:O} not after {written:O}");

        var large = Bytes(S3BlobStore.PartSize + 10, 2);
        var big = await Blobs.PutAsync(new Trickle(large));
        Assert.Equal(big, await Blobs.PutAsync(new Trickle(large), big.Digest)); // stored: hashed, not uploaded again
        Assert.Equal(big, await Blobs.PutAsync(new Trickle(large)));
        Assert.Equal(2, await Blobs.ListAsync().CountAsync());
    }

    [Theory]
    [InlineData(10)]
    [InlineData(10 << 20)] // 10 MB: a multipart upload, aborted
    public async Task a_wrong_digest_stores_nothing(int length)
    {
        var data = Bytes(length, 3);
        var wrong = Sha([.. data, 1]);
        var ex = await Assert.ThrowsAsync<LineageException>(() => Blobs.PutAsync(new Trickle(data), wrong));
        Assert.Equal((ErrorCode.InvalidParameterValue, "digest"), (ex.Code, ex.Field));
        Assert.Null(await Blobs.SizeOfAsync(Sha(data)));
        Assert.Null(await Blobs.SizeOfAsync(wrong));
        Assert.Empty(await Blobs.ListAsync().ToListAsync());
    }

    [Fact]
    public async Task a_claimed_digest_of_stored_content_is_still_checked_against_the_body()
    {
        var stored = await Blobs.PutAsync(new MemoryStream(Bytes(S3BlobStore.PartSize + 5, 4)));
        var ex = await Assert.ThrowsAsync<LineageException>(() => Blobs.PutAsync(new Trickle(Bytes(S3BlobStore.PartSize + 5, 5)), stored.Digest));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        Assert.Equal(stored.Size, await Blobs.SizeOfAsync(stored.Digest));
    }

    [Theory]
    [InlineData(5000)]
    [InlineData(S3BlobStore.PartSize + 1)]
    public async Task content_over_the_limit_stores_nothing(int length)
    {
        var ex = await Assert.ThrowsAsync<LineageException>(() => Blobs.PutAsync(new Trickle(Bytes(length, 6)), maxBytes: length - 1));
        Assert.Equal(ErrorCode.PayloadTooLarge, ex.Code);
        Assert.Empty(await Blobs.ListAsync().ToListAsync());
    }

    [Fact]
    public async Task reads_seek_to_any_offset_for_ranges()
    {
        var data = Bytes(300_000, 8);
        var blob = await Blobs.PutAsync(new MemoryStream(data));
        await using var stream = (await Blobs.OpenReadAsync(blob.Digest))!;
        Assert.True(stream.CanSeek);
        Assert.Equal(data.Length, stream.Length);
        var buffer = new byte[1000];
        stream.Seek(250_000, SeekOrigin.Begin);
        await stream.ReadExactlyAsync(buffer);
        Assert.Equal(data[250_000..251_000], buffer);
        stream.Position = 10;
        await stream.ReadExactlyAsync(buffer);
        Assert.Equal(data[10..1010], buffer);
        stream.Seek(-5, SeekOrigin.End);
        Assert.Equal(5, await stream.ReadAsync(buffer));
        Assert.Equal(data[^5..], buffer[..5]);
        Assert.Equal(0, await stream.ReadAsync(buffer));
    }

    [Fact]
    public async Task absent_content_is_null_and_delete_frees_its_bytes_once()
    {
        var absent = Sha([42]);
        Assert.Null(await Blobs.OpenReadAsync(absent));
        Assert.Null(await Blobs.SizeOfAsync(absent));
        Assert.Equal(0, await Blobs.DeleteAsync(absent));
        var blob = await Blobs.PutAsync(new MemoryStream(Bytes(777, 9)));
        Assert.Equal(777, await Blobs.DeleteAsync(blob.Digest));
        Assert.Equal(0, await Blobs.DeleteAsync(blob.Digest));
        Assert.Null(await Blobs.OpenReadAsync(blob.Digest));
        Assert.Empty(await Blobs.ListAsync().ToListAsync());
    }

    [Fact]
    public async Task concurrent_uploads_of_one_content_and_of_many_all_land()
    {
        var same = Bytes(S3BlobStore.PartSize + 100, 10);
        var distinct = Enumerable.Range(0, 12).Select(i => Bytes(1000 + i, 100 + i)).ToList();
        var uploads = Enumerable.Range(0, 4).Select(_ => Blobs.PutAsync(new Trickle(same)))
            .Concat(distinct.Select(d => Blobs.PutAsync(new MemoryStream(d))));
        var results = await Task.WhenAll(uploads);
        Assert.Single(results.Take(4).Distinct());
        var listed = (await Blobs.ListAsync().ToListAsync()).Select(b => b.Info).ToHashSet();
        Assert.Equal(results.ToHashSet(), listed);
        Assert.Equal(same, await ReadAllAsync(results[0].Digest));
    }
}

public sealed class LocalFolderBlobStoreTests : BlobStoreContract, IDisposable
{
    private readonly TempDir _dir = new();

    protected override Task<IBlobStore> NewStoreAsync() => Task.FromResult<IBlobStore>(new LocalFolderBlobStore(_dir.File("blobs")));

    [Fact]
    public void a_folder_has_no_direct_urls_so_downloads_stream_through_the_server() =>
        Assert.Null(Blobs.DirectReadUrl(new string('a', 64), "x", TimeSpan.FromMinutes(5)));

    public void Dispose() => _dir.Dispose();
}

public sealed class S3BlobStoreTests : BlobStoreContract
{
    protected override async Task<IBlobStore> NewStoreAsync() => await BlobStores.OpenAsync(await S3Target.CreateBucketAsync(), S3Target.Endpoint);

    [Fact]
    public async Task a_presigned_url_reads_the_content_without_credentials_and_serves_ranges()
    {
        var data = Bytes(50_000, 11);
        var blob = await Blobs.PutAsync(new MemoryStream(data));
        var url = Blobs.DirectReadUrl(blob.Digest, "model.bin", TimeSpan.FromMinutes(5))!;
        using var http = new HttpClient();
        using var whole = await http.GetAsync(url);
        Assert.Equal(System.Net.HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(data, await whole.Content.ReadAsByteArrayAsync());
        using var ranged = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Range = new System.Net.Http.Headers.RangeHeaderValue(100, 199) } };
        using var part = await http.SendAsync(ranged);
        Assert.Equal(data[100..200], await part.Content.ReadAsByteArrayAsync());
    }
}
