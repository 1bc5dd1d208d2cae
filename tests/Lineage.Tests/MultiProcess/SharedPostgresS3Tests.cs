using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Lineage.Cli;
using Lineage.Tests.Support;

namespace Lineage.Tests.MultiProcess;

/// <summary>
/// The team setup of issue 13 without a shared disk: two server processes on one PostgreSQL database and one bucket.
/// Bytes uploaded through one are served by the other, and gc run beside them never takes content one of them just
/// uploaded (the grace period reads the store's own write times, which every server shares).
/// </summary>
public sealed class SharedPostgresS3Tests
{
    private static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static async Task<(int Code, string Output)> Cli(params string[] args)
    {
        var (code, stdout, stderr) = await InProcessCli.RunAsync(args);
        return (code, stdout + stderr);
    }

    [Fact]
    public async Task two_servers_on_one_postgres_and_one_bucket_share_bytes_and_gc_spares_the_other_servers_fresh_uploads()
    {
        var database = PostgresTarget.CreateDatabase();
        var bucket = await S3Target.CreateBucketAsync();
        string[] s3 = ["--s3-endpoint", S3Target.Endpoint];
        await using var a = await ServerProcess.StartAsync(database, bucket, s3);
        await using var b = await ServerProcess.StartAsync(database, bucket, s3);
        using var ha = new HttpClient { BaseAddress = a.Address };
        using var hb = new HttpClient { BaseAddress = b.Address };

        // 1. Uploaded through A (several parts), read whole and by range through B, byte-identical.
        var data = new byte[20 << 20];
        new Random(13).NextBytes(data);
        using (var up = await ha.PostAsync("/api/v1/artifacts/upload?name=model&type=model", new StreamContent(new MemoryStream(data))))
            Assert.Equal(HttpStatusCode.Created, up.StatusCode);
        Assert.Equal(data, await hb.GetByteArrayAsync("/api/v1/artifacts/model/versions/1/content"));
        using var ranged = new HttpRequestMessage(HttpMethod.Get, "/api/v1/artifacts/model/versions/1/content")
        {
            Headers = { Range = new RangeHeaderValue(15_000_000, 15_000_999) },
        };
        using (var part = await hb.SendAsync(ranged))
            Assert.Equal(data[15_000_000..15_001_000], await part.Content.ReadAsByteArrayAsync());

        // 2. B receives content whose registration has not happened yet; gc (a separate process, like the nightly job)
        //    runs with the default grace period and must leave it for the registration that follows through A.
        var pending = "features for tomorrow"u8.ToArray();
        using (var put = await hb.PutAsync($"/api/v1/blobs?digest={Sha(pending)}", new ByteArrayContent(pending)))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var (code, output) = await Cli("gc", "--db", database, "--artifacts", bucket, "--s3-endpoint", S3Target.Endpoint);
        Assert.True(code == 0, output);
        Assert.Contains("free 0 blob(s)", output);
        var registration = new JsonObject
        {
            ["name"] = "features", ["type"] = "dataset", ["file"] = new JsonObject { ["digest"] = Sha(pending), ["size"] = pending.Length },
        };
        using (var register = await ha.PostAsync("/api/v1/artifacts",
                   new StringContent(registration.ToJsonString(), System.Text.Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        Assert.Equal(pending, await hb.GetByteArrayAsync("/api/v1/artifacts/features/versions/1/content"));

        // 3. Once past the grace period, only content no version references goes; verify then finds everything intact.
        var orphan = "never registered"u8.ToArray();
        using (var put = await ha.PutAsync($"/api/v1/blobs?digest={Sha(orphan)}", new ByteArrayContent(orphan)))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        (code, output) = await Cli("gc", "--db", database, "--artifacts", bucket, "--s3-endpoint", S3Target.Endpoint, "--grace-hours", "0");
        Assert.True(code == 0, output);
        Assert.Contains("free 1 blob(s)", output);
        using (var head = await hb.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/blobs/{Sha(orphan)}")))
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.Equal(data, await ha.GetByteArrayAsync("/api/v1/artifacts/model/versions/1/content"));
        (code, output) = await Cli("verify", "--db", database, "--artifacts", bucket, "--s3-endpoint", S3Target.Endpoint, "--deep");
        Assert.True(code == 0, output);
        Assert.Contains("verified 2 blob(s)", output);
        Assert.Equal(2, (int)JsonNode.Parse(await hb.GetStringAsync("/api/v1/artifacts"))!["artifacts"]!.AsArray().Count);
    }
}
