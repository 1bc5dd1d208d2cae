using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Client;
using Lineage.Core.Errors;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>Artifacts over real HTTP: uploads, ranges, directories as tar/zip, bad input.</summary>
public abstract class ArtifactApiTests : IAsyncLifetime
{
    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    /// <summary>Artifacts in a bucket of the test S3 server instead of a folder (issue 13): the same tests, the other store.</summary>
    protected virtual bool S3 => false;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Postgres, s3: S3);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private HttpClient Http => Server.Http;

    private static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Send(HttpRequestMessage request)
    {
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static HttpRequestMessage Upload(string url, byte[] body, string contentType = "application/octet-stream") =>
        new(HttpMethod.Post, url) { Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue(contentType) } } };

    private static byte[] Tar(params (string Name, TarEntryType Type, string? Text)[] entries)
    {
        var ms = new MemoryStream();
        using (var writer = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
            foreach (var (name, type, text) in entries)
            {
                var entry = new PaxTarEntry(type, name);
                if (type == TarEntryType.SymbolicLink) entry.LinkName = text!;
                else if (text is not null) entry.DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text));
                writer.WriteEntry(entry);
            }
        return ms.ToArray();
    }

    [Fact]
    public async Task a_file_uploaded_in_one_request_downloads_whole_and_by_range()
    {
        var data = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        var created = await Send(Upload("/api/v1/artifacts/upload?name=weights&type=model&metadata=" + Uri.EscapeDataString("""{"epochs":3}"""), data));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(1, (int)created.Body!["version"]!);
        Assert.Equal(Sha(data), (string?)created.Body["digest"]);
        Assert.Equal(3, (int)created.Body["metadata"]!["epochs"]!);
        Assert.Equal($"lineage://blobs/sha256:{Sha(data)}", (string?)created.Body["storageUri"]);

        Assert.Equal(data, await Http.GetByteArrayAsync("/api/v1/artifacts/weights/versions/latest/content"));
        using var ranged = new HttpRequestMessage(HttpMethod.Get, "/api/v1/artifacts/weights/versions/1/content");
        ranged.Headers.Range = new RangeHeaderValue(1000, 1999);
        using var part = await Http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(data[1000..2000], await part.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task a_digest_mismatch_stores_nothing_and_is_a_400()
    {
        var data = "some bytes"u8.ToArray();
        var wrong = new string('0', 64);
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/blobs?digest={wrong}") { Content = new ByteArrayContent(data) };
        var answer = await Send(put);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("digest", (string?)answer.Body!["field"]);
        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/blobs/{Sha(data)}"));
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.Empty(await Server.StoredBlobsAsync());
    }

    [Fact]
    public async Task a_directory_uploaded_as_tar_has_a_manifest_and_downloads_as_tar_zip_or_one_file()
    {
        var tar = Tar(("model/", TarEntryType.Directory, null), ("model/config.json", TarEntryType.RegularFile, "{}"),
            ("./model/weights.bin", TarEntryType.RegularFile, "0101"));
        var created = await Send(Upload("/api/v1/artifacts/upload?name=bert&type=model", tar, "application/x-tar"));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("directory", (string?)created.Body!["kind"]);
        Assert.Equal(2, (int)created.Body["fileCount"]!);

        var manifest = JsonNode.Parse(await Http.GetStringAsync("/api/v1/artifacts/bert/versions/1/manifest"))!;
        Assert.Equal(["model/config.json", "model/weights.bin"], manifest["files"]!.AsArray().Select(f => (string)f!["path"]!));

        Assert.Equal("0101", await Http.GetStringAsync("/api/v1/artifacts/bert/versions/1/content?path=model/weights.bin"));

        await using var tarStream = await Http.GetStreamAsync("/api/v1/artifacts/bert/versions/1/content?format=tar");
        var reader = new TarReader(tarStream);
        var names = new List<string>();
        while (reader.GetNextEntry() is { } e) names.Add(e.Name);
        Assert.Equal(["model/config.json", "model/weights.bin"], names);

        var zipBytes = await Http.GetByteArrayAsync("/api/v1/artifacts/bert/versions/1/content?format=zip");
        using var zip = new ZipArchive(new MemoryStream(zipBytes));
        Assert.Equal("{}", new StreamReader(zip.GetEntry("model/config.json")!.Open()).ReadToEnd());
    }

    [Theory]
    [InlineData("../outside.txt", "RegularFile")]
    [InlineData("/etc/cron.d/evil", "RegularFile")]
    [InlineData("model/link", "SymbolicLink")]
    public async Task a_tar_with_traversal_absolute_paths_or_links_is_rejected_and_nothing_is_registered(string name, string type)
    {
        var entryType = Enum.Parse<TarEntryType>(type);
        var tar = Tar(("ok.txt", TarEntryType.RegularFile, "fine"), (name, entryType, entryType == TarEntryType.SymbolicLink ? "/etc/passwd" : "evil"));
        var answer = await Send(Upload("/api/v1/artifacts/upload?name=evil&type=model", tar, "application/x-tar"));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string?)answer.Body!["error_code"]);
        Assert.Contains("nothing was stored", (string)answer.Body["message"]!);
        var missing = await Send(new HttpRequestMessage(HttpMethod.Get, "/api/v1/artifacts/evil/versions/latest"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
    }

    [Fact]
    public async Task misses_explain_what_exists_and_aliases_resolve()
    {
        await Send(Upload("/api/v1/artifacts/upload?name=feats&type=feature_set", "1"u8.ToArray()));
        await Send(Upload("/api/v1/artifacts/upload?name=feats&type=feature_set", "2"u8.ToArray()));
        var miss = await Send(new HttpRequestMessage(HttpMethod.Get, "/api/v1/artifacts/feats/versions/7"));
        Assert.Equal(HttpStatusCode.NotFound, miss.Status);
        Assert.Equal("version 7 of 'feats' not found; latest is 2", (string?)miss.Body!["message"]);

        using var alias = new HttpRequestMessage(HttpMethod.Put, "/api/v1/artifacts/feats/aliases/champion")
        {
            Content = new StringContent("""{"version":1}""", Encoding.UTF8, "application/json"),
        };
        Assert.Equal(HttpStatusCode.OK, (await Send(alias)).Status);
        var byAlias = await Send(new HttpRequestMessage(HttpMethod.Get, "/api/v1/artifacts/feats/versions/champion"));
        Assert.Equal(1, (int)byAlias.Body!["version"]!);
        var history = JsonNode.Parse(await Http.GetStringAsync("/api/v1/artifacts/feats/aliases/history"))!;
        Assert.Single(history["changes"]!.AsArray());
        var bad = await Send(new HttpRequestMessage(HttpMethod.Get, "/api/v1/artifacts/feats/versions/0"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
    }

    [Fact]
    public async Task the_sdk_registers_and_downloads_files_and_directories_with_progress_and_dedup()
    {
        using var dir = new TempDir();
        var model = Directory.CreateDirectory(dir.File("model")).FullName;
        Directory.CreateDirectory(Path.Combine(model, "sub"));
        await File.WriteAllTextAsync(Path.Combine(model, "a.txt"), "alpha");
        await File.WriteAllBytesAsync(Path.Combine(model, "sub", "b.bin"), Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray());
        var client = Server.Client;
        var reports = new List<TransferProgress>();
        var v1 = await client.RegisterArtifactAsync("clf", model, "model", new { accuracy = 0.93 }, progress: new SyncProgress(reports));
        Assert.Equal(("directory", 2, 300_005L), (v1.Kind, v1.FileCount, v1.Size));
        Assert.Equal(300_005, reports[^1].Done);
        Assert.Equal(0.93, v1.Metadata.GetProperty("accuracy").GetDouble());

        var v2 = await client.RegisterArtifactAsync("clf", model, "model");
        Assert.Equal(2, v2.Version);
        Assert.Equal(v1.Digest, v2.Digest); // same tree, same digest, content stored once

        var back = dir.File("restored");
        await client.DownloadAsync("clf", back, "1");
        Assert.Equal("alpha", await File.ReadAllTextAsync(Path.Combine(back, "a.txt")));
        Assert.Equal(300_000, new FileInfo(Path.Combine(back, "sub", "b.bin")).Length);

        var single = dir.File("notes.txt");
        await File.WriteAllTextAsync(single, "just a file");
        await using (var run = await client.StartRunAsync("artifact-producer"))
        {
            var produced = await run.RegisterArtifactAsync("notes", single, "report");
            Assert.Equal(run.RunId, produced.ProducerRunId);
        }
        await client.DownloadAsync("notes", dir.File("notes-copy.txt"));
        Assert.Equal("just a file", await File.ReadAllTextAsync(dir.File("notes-copy.txt")));
        Assert.Single((await client.ListArtifactsAsync(type: "report")).Artifacts);
    }

    [Fact]
    public async Task the_sdk_refuses_symlinks_before_uploading_anything()
    {
        using var dir = new TempDir();
        var model = Directory.CreateDirectory(dir.File("m")).FullName;
        await File.WriteAllTextAsync(Path.Combine(model, "ok.txt"), "ok");
        File.CreateSymbolicLink(Path.Combine(model, "passwd"), "/etc/passwd");
        var ex = await Assert.ThrowsAnyAsync<LineageException>(() => Server.Client.RegisterArtifactAsync("linked", model, "model"));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        Assert.Empty(await Server.StoredBlobsAsync());
    }

    [Fact]
    public async Task content_over_the_configured_size_limit_is_413_and_stores_nothing()
    {
        await using var small = await TestServer.StartAsync(Postgres, o => o with { MaxArtifactBytes = 1000 }, S3);
        var data = new byte[5000];
        var declared = await small.Http.SendAsync(Upload("/api/v1/artifacts/upload?name=big&type=dataset", data));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Contains("PAYLOAD_TOO_LARGE", await declared.Content.ReadAsStringAsync());

        // Without a declared length the limit is enforced while streaming.
        using var chunked = new HttpRequestMessage(HttpMethod.Put, "/api/v1/blobs") { Content = new StreamContent(new MemoryStream(data)) };
        chunked.Headers.TransferEncodingChunked = true;
        using var streamed = await small.Http.SendAsync(chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Empty(await small.StoredBlobsAsync());
        if (!S3) Assert.Empty(Directory.EnumerateFiles(Path.Combine(small.DataDir, "artifacts", "tmp")));
    }

    /// <summary>Progress&lt;T&gt; posts asynchronously; tests need the reports in order and at once.</summary>
    private sealed class SyncProgress(List<TransferProgress> into) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => into.Add(value);
    }
}

public sealed class ArtifactApiSqliteTests : ArtifactApiTests
{
    protected override bool Postgres => false;
}

public sealed class ArtifactApiPostgresTests : ArtifactApiTests
{
    protected override bool Postgres => true;
}

public sealed class ArtifactApiS3Tests : ArtifactApiTests
{
    protected override bool Postgres => false;
    protected override bool S3 => true;
}
