using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Storage.Archive;
using Lineage.Storage.Blobs;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Tests.Api;

/// <summary>
/// Archived content over HTTP (issue 13, item 4): reads record their digests in memory and flush them in one batch;
/// reading archived content answers 409 ARCHIVED with the restore command; the lifecycle commands print what they did.
/// </summary>
public sealed class ArchiveApiTests
{
    private static readonly long DaysAgo200 = DateTimeOffset.UtcNow.AddDays(-200).ToUnixTimeMilliseconds();

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task reading_archived_content_answers_409_archived_with_the_restore_command_until_it_is_restored(bool postgres, bool s3)
    {
        await using var server = await TestServer.StartAsync(postgres, s3: s3);
        using var dir = new TempDir();
        var file = dir.File("reviews.csv");
        await File.WriteAllTextAsync(file, "id,stars\n1,5\n2,3\n");
        var version = await server.Client.RegisterArtifactAsync("reviews", file, "dataset");
        var content = $"/api/v1/artifacts/reviews/versions/1/content";
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync(content)).StatusCode);

        // The read was only noted in memory; one flush writes it.
        var reads = server.Server.App.Services.GetRequiredService<ReadTracker>();
        Assert.Equal(1, await reads.FlushAsync());
        Assert.Equal(1, await server.Server.Database.ReadAsync(s => s.Connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM blob_reads WHERE digest = @Digest", new { version.Digest }, s.Transaction)));
        // Read recently: not archived.
        var cold = s3 ? await BlobStores.OpenAsync(await S3Target.CreateBucketAsync(prefix: "cold"), S3Target.Endpoint) : new LocalFolderBlobStore(dir.File("cold"));
        using var closeCold = cold as IDisposable;
        var archiver = new Archiver(server.Server.Database, server.Server.Blobs);
        await server.Server.Database.WriteAsync(s => s.Connection.ExecuteAsync("UPDATE artifact_versions SET created_at = @DaysAgo200",
            new { DaysAgo200 }, s.Transaction));
        Assert.Equal(0, (await archiver.ArchiveAsync(new ArchiveOptions(TimeSpan.FromDays(180)), cold, "test")).Blobs);
        await server.Server.Database.WriteAsync(s => s.Connection.ExecuteAsync("UPDATE blob_reads SET last_read_at = @DaysAgo200",
            new { DaysAgo200 }, s.Transaction));
        Assert.Equal(1, (await archiver.ArchiveAsync(new ArchiveOptions(TimeSpan.FromDays(180)), cold, "test")).Blobs);

        foreach (var path in new[] { content, $"/api/v1/blobs/{version.Digest}" })
        {
            var answer = await server.Http.GetAsync(path);
            var body = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
            Assert.Equal((HttpStatusCode.Conflict, "ARCHIVED"), (answer.StatusCode, (string?)body["error_code"]));
            Assert.Contains("lineage archive restore reviews@1 --project default", (string?)body["message"]);
        }
        // The version itself is still there, with its digest.
        Assert.Equal(version.Digest, (await server.Client.GetArtifactAsync("reviews")).Digest);

        await archiver.RestoreAsync(null, "reviews", new VersionRef(1, null), _ => Task.FromResult(cold), "test");
        var again = await server.Http.GetAsync(content);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("id,stars\n1,5\n2,3\n", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task a_directory_download_with_archived_files_answers_409_before_streaming()
    {
        await using var server = await TestServer.StartAsync();
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("model"));
        await File.WriteAllTextAsync(dir.File("model/weights.bin"), "weights");
        await File.WriteAllTextAsync(dir.File("model/config.json"), "{}");
        await server.Client.RegisterArtifactAsync("model-dir", dir.File("model"), "model");
        await server.Server.Database.WriteAsync(s => s.Connection.ExecuteAsync("UPDATE artifact_versions SET created_at = @DaysAgo200",
            new { DaysAgo200 }, s.Transaction));
        var cold = new LocalFolderBlobStore(dir.File("cold"));
        Assert.Equal(2, (await new Archiver(server.Server.Database, server.Server.Blobs).ArchiveAsync(new ArchiveOptions(TimeSpan.FromDays(180)), cold, "test")).Blobs);

        var answer = await server.Http.GetAsync("/api/v1/artifacts/model-dir/versions/1/content?format=tar");
        Assert.Equal(HttpStatusCode.Conflict, answer.StatusCode);
        Assert.Contains("ARCHIVED", await answer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task the_lifecycle_commands_print_what_they_did_and_the_audit_chain_verifies_after_them()
    {
        using var dir = new TempDir();
        await using (var server = await TestServer.StartAsync())
        {
            var file = dir.File("old.csv");
            await File.WriteAllTextAsync(file, "old,data\n");
            await server.Client.RegisterArtifactAsync("old-data", file, "dataset");
            await server.Server.Database.WriteAsync(s => s.Connection.ExecuteAsync("UPDATE artifact_versions SET created_at = @DaysAgo200",
                new { DaysAgo200 }, s.Transaction));
            var run = await server.Client.StartRunAsync("0", "to-purge");
            await run.DisposeAsync();
            await server.Client.DeleteRunAsync(run.RunId);
            var created = await server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/experiments")
            {
                Content = JsonContent("""{"name":"by-ana"}"""), Headers = { { "Lineage-User", "ana" } },
            });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            // Copied out before the server's folder goes away.
            CopyDirectory(server.DataDir, dir.File("data"));
        }
        var db = dir.File("data/lineage.db");
        var artifacts = dir.File("data/artifacts");
        var cold = dir.File("cold");

        var dry = await InProcessCli.RunAsync("archive", "--older-than", "180d", "--archive", cold, "--dry-run", "--db", db, "--artifacts", artifacts);
        Assert.True(dry.Code == 0, dry.Err);
        Assert.Contains("would move 1 blob(s)", dry.Out);
        Assert.Contains("old-data", dry.Out);
        var moved = await InProcessCli.RunAsync("archive", "--older-than", "180d", "--archive", cold, "--db", db, "--artifacts", artifacts);
        Assert.True(moved.Code == 0, moved.Err);
        Assert.Contains("moved 1 blob(s)", moved.Out);
        var restored = await InProcessCli.RunAsync("archive", "restore", "old-data@1", "--db", db, "--artifacts", artifacts);
        Assert.True(restored.Code == 0, restored.Err);
        Assert.Contains("digests verified", restored.Out);
        var badAge = await InProcessCli.RunAsync("archive", "--older-than", "soon", "--archive", cold, "--db", db, "--artifacts", artifacts);
        Assert.Equal(1, badAge.Code);
        Assert.Contains("not an age", badAge.Err);

        var gc = await InProcessCli.RunAsync("gc", "--runs", "--purge-after-days", "0", "--db", db, "--artifacts", artifacts);
        Assert.True(gc.Code == 0, gc.Err);
        Assert.Contains("remove 1 run(s) and 0 experiment(s)", gc.Out);
        Assert.Contains("to-purge", gc.Out);

        var erase = await InProcessCli.RunAsync("erase-user", "ana", "--db", db);
        Assert.True(erase.Code == 0, erase.Err);
        Assert.Contains("replaced the name with erased-user-", erase.Out);
        Assert.Contains("experiments.created_by", erase.Out);

        var verify = await InProcessCli.RunAsync("audit", "verify", "--db", db);
        Assert.True(verify.Code == 0, verify.Out + verify.Err);
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static void CopyDirectory(string from, string to)
    {
        foreach (var d in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories)) File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
    }
}
