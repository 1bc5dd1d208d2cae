using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Lineage.Core.Errors;
using Lineage.Server;
using Lineage.Storage.Artifacts;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Tests.Api;

/// <summary>
/// What only the object store has (issue 13): downloads redirected to presigned URLs, and what happens when the store
/// breaks: stopped mid-upload, a missing bucket, refused credentials. Each failure test runs its own s3rver so it can stop it.
/// </summary>
public sealed class S3ArtifactTests
{
    private static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static HttpRequestMessage Upload(string name, HttpContent content) =>
        new(HttpMethod.Post, $"/api/v1/artifacts/upload?name={name}&type=dataset") { Content = content };

    [Fact]
    public async Task with_artifacts_redirect_content_reads_answer_302_to_a_presigned_url_that_serves_the_bytes()
    {
        await using var server = await TestServer.StartAsync(s3: true, configure: o => o with { ArtifactsRedirect = true });
        var data = Bytes(200_000, 1);
        using (var created = await server.Http.SendAsync(Upload("weights", new ByteArrayContent(data))))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var noFollow = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.Address };
        using var content = await noFollow.GetAsync("/api/v1/artifacts/weights/versions/1/content");
        Assert.Equal(HttpStatusCode.Redirect, content.StatusCode);
        var location = content.Headers.Location!;
        Assert.StartsWith(S3Target.Endpoint, location.AbsoluteUri);
        Assert.Contains("X-Amz-Signature=", location.Query);
        using var blob = await noFollow.GetAsync($"/api/v1/blobs/{Sha(data)}");
        Assert.Equal(HttpStatusCode.Redirect, blob.StatusCode);

        using var direct = new HttpClient();
        Assert.Equal(data, await direct.GetByteArrayAsync(location));
        using var ranged = new HttpRequestMessage(HttpMethod.Get, location) { Headers = { Range = new RangeHeaderValue(1000, 1999) } };
        using var part = await direct.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(data[1000..2000], await part.Content.ReadAsByteArrayAsync());

        // A missing blob is the server's own 404, never a redirect into the store's.
        using var missing = await noFollow.GetAsync($"/api/v1/blobs/{Sha([1, 2, 3])}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("RESOURCE_DOES_NOT_EXIST", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task without_redirect_s3_content_streams_through_the_server_with_ranges_and_directories_as_tar()
    {
        await using var server = await TestServer.StartAsync(s3: true);
        var data = Bytes(3 * Lineage.Storage.Blobs.S3BlobStore.PartSize + 77, 2); // several parts up, several reads down
        using (var created = await server.Http.SendAsync(Upload("big", new StreamContent(new MemoryStream(data)))))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(data, await server.Http.GetByteArrayAsync("/api/v1/artifacts/big/versions/1/content"));
        using var ranged = new HttpRequestMessage(HttpMethod.Get, "/api/v1/artifacts/big/versions/1/content")
        {
            Headers = { Range = new RangeHeaderValue(S3ArtifactTestsOffsets.Far, S3ArtifactTestsOffsets.Far + 99) },
        };
        using var part = await server.Http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(data[S3ArtifactTestsOffsets.Far..(S3ArtifactTestsOffsets.Far + 100)], await part.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task the_object_store_stopped_mid_upload_is_a_503_with_a_retry_hint_registers_nothing_and_the_next_upload_succeeds()
    {
        await using var s3 = await OwnS3Server.StartAsync();
        var bucket = await S3Target.CreateBucketAsync(s3.Endpoint);
        await using var server = await TestServer.StartAsync(configure: o => o with { ArtifactRoot = bucket, S3Endpoint = s3.Endpoint });
        using (var first = await server.Http.SendAsync(Upload("sales", new ByteArrayContent(Bytes(1000, 3)))))
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // 10 MB; the S3 server is killed once 9 MB have been read from the request, with one part already stored.
        var data = Bytes(10 << 20, 4);
        using var body = new StreamContent(new ActionAtStream(data, 9 << 20, s3.Kill));
        using var failed = await server.Http.SendAsync(Upload("sales", body));
        var text = await failed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal("BLOB_STORE_UNAVAILABLE", (string?)JsonNode.Parse(text)!["error_code"]);
        Assert.Contains("unreachable", text);
        Assert.True(failed.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "Retry-After is missing");

        // Reads fail the same clear way while the store is down; nothing was registered.
        using (var down = await server.Http.GetAsync("/api/v1/artifacts/sales/versions/1/content"))
            Assert.Equal((HttpStatusCode.ServiceUnavailable, "BLOB_STORE_UNAVAILABLE"),
                (down.StatusCode, (string?)JsonNode.Parse(await down.Content.ReadAsStringAsync())!["error_code"]));
        using (var ready = await server.Http.GetAsync("/ready"))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var versions = await server.Http.GetStringAsync("/api/v1/artifacts/sales/versions");
        Assert.Single(JsonNode.Parse(versions)!["artifacts"]!.AsArray());

        await s3.RestartAsync();
        using (var ready = await server.Http.GetAsync("/ready"))
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var again = await server.Http.SendAsync(Upload("sales", new ByteArrayContent(data)));
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(2, (int)JsonNode.Parse(await again.Content.ReadAsStringAsync())!["version"]!);
        Assert.Equal(data, await server.Http.GetByteArrayAsync("/api/v1/artifacts/sales/versions/2/content"));
    }

    [Fact]
    public async Task a_10_mb_upload_with_a_wrong_digest_is_a_400_and_leaves_nothing_under_either_digest()
    {
        await using var server = await TestServer.StartAsync(s3: true);
        var data = Bytes(10 << 20, 5);
        var wrong = Sha([.. data, 0]);
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/blobs?digest={wrong}") { Content = new StreamContent(new MemoryStream(data)) };
        using var answer = await server.Http.SendAsync(put);
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("nothing was stored", await answer.Content.ReadAsStringAsync());
        foreach (var digest in new[] { wrong, Sha(data) })
        {
            using var head = await server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/blobs/{digest}"));
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }
        Assert.Empty(await server.StoredBlobsAsync());
    }

    [Fact]
    public async Task a_bucket_that_does_not_exist_stops_the_server_at_start_up_with_a_clear_error()
    {
        var ex = await Assert.ThrowsAsync<LineageException>(() => TestServer.StartAsync(configure: o => o with
        {
            ArtifactRoot = "s3://lineage-no-such-bucket/artifacts", S3Endpoint = S3Target.Endpoint,
        }));
        Assert.Equal(ErrorCode.BlobStoreUnavailable, ex.Code);
        Assert.Contains("the bucket 'lineage-no-such-bucket' does not exist", ex.Message);
    }

    [Fact]
    public async Task refused_credentials_stop_lineage_server_at_start_up_and_name_the_cause()
    {
        var bucket = await S3Target.CreateBucketAsync();
        using var dir = new TempDir();
        var start = ServerProcess.LineageCommand();
        foreach (var a in new[] { "server", "--db", dir.File("l.db"), "--artifacts", bucket, "--s3-endpoint", S3Target.Endpoint, "--port", "0" })
            start.ArgumentList.Add(a);
        start.Environment["AWS_ACCESS_KEY_ID"] = "NOT-A-KEY";
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("rejected the credentials (InvalidAccessKeyId)", await stderr);
    }

    [Fact]
    public async Task gc_on_s3_frees_unreferenced_content_after_the_grace_period_and_keeps_what_versions_use()
    {
        await using var server = await TestServer.StartAsync(s3: true);
        var kept = Bytes(5000, 6);
        var orphan = Bytes(6000, 7);
        using (await server.Http.SendAsync(Upload("kept", new ByteArrayContent(kept)))) { }
        using (var put = await server.Http.PutAsync($"/api/v1/blobs?digest={Sha(orphan)}", new ByteArrayContent(orphan)))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var maintenance = server.Server.App.Services.GetRequiredService<ArtifactMaintenance>();

        var young = await maintenance.CollectAsync(new GcOptions()); // an hour's grace: the orphan may be a registration in flight
        Assert.Empty(young.FreedBlobs);
        var old = await maintenance.CollectAsync(new GcOptions(UploadGrace: TimeSpan.Zero));
        Assert.Equal([Sha(orphan)], old.FreedBlobs.Select(b => b.Digest));
        Assert.Equal([Sha(kept)], (await server.StoredBlobsAsync()).Select(b => b.Digest));
        Assert.Equal(kept, await server.Http.GetByteArrayAsync("/api/v1/artifacts/kept/versions/1/content"));
        var stats = await maintenance.StatsAsync();
        Assert.Equal((1, kept.Length), (stats.Blobs, stats.ArtifactBytes));
    }
}

internal static class S3ArtifactTestsOffsets
{
    public const int Far = 2 * Lineage.Storage.Blobs.S3BlobStore.PartSize + 1234;
}

/// <summary>A request body that runs an action once a given number of bytes has been read (a failure mid-upload).</summary>
internal sealed class ActionAtStream(byte[] data, int at, Action action) : MemoryStream(data)
{
    private bool _done;

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (!_done && Position >= at)
        {
            _done = true;
            action();
        }
        return base.Read(buffer, offset, Math.Min(count, 1 << 20));
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var chunk = new byte[Math.Min(buffer.Length, 1 << 20)];
        var read = Read(chunk, 0, chunk.Length);
        chunk.AsSpan(0, read).CopyTo(buffer.Span);
        return ValueTask.FromResult(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => Task.FromResult(Read(buffer, offset, count));
}

/// <summary>An s3rver child process of one test, on its own port and folder, so the test can kill and restart it.</summary>
internal sealed class OwnS3Server : IAsyncDisposable
{
    private readonly TempDir _dir = new();
    private readonly int _port = ServerProcess.FreePort();
    private Process? _process;

    public string Endpoint => $"http://127.0.0.1:{_port}";

    public static async Task<OwnS3Server> StartAsync()
    {
        var server = new OwnS3Server();
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts s3rver on the same port and data folder (what was stored before is there again).</summary>
    public async Task RestartAsync()
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider"; // s3rver's list continuation tokens (see scripts/test.sh)
        foreach (var a in new[] { S3Target.ServerScript, "-d", _dir.File("data"), "-a", "127.0.0.1", "-p", _port.ToString(), "--silent" })
            start.ArgumentList.Add(a);
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start s3rver");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"s3rver exited: {await _process.StandardError.ReadToEndAsync()}");
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, _port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"s3rver did not listen on {_port}");
    }

    public void Kill()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }
}
