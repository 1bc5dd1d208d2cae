using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Server;
using Lineage.Tests.Support;

namespace Lineage.Tests.Reliability;

/// <summary>
/// Issue 17, section 3: the store on a small tmpfs mount that fills up, and then turns read-only. Writes answer
/// 507 INSUFFICIENT_STORAGE (full) or 503 (read-only) with a JSON error, never a 500; nothing acknowledged is lost;
/// the server serves writes again as soon as space (or write access) returns, without a restart. Mounting needs
/// root, as scripts/test.sh runs; without it the test fails loudly, it does not skip.
/// </summary>
public sealed class DiskFullTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private string Mount => _dir.File("small-disk");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Mount);
        Run("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", Mount);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Run("umount", "-l", Mount);
        _dir.Dispose();
        return Task.CompletedTask;
    }

    private static void Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {error} — this test needs root to mount a small tmpfs");
    }

    [Fact]
    public async Task a_full_then_read_only_disk_refuses_writes_cleanly_loses_nothing_and_recovers()
    {
        // Ballast that is deleted later to free space.
        var ballast = Path.Combine(Mount, "ballast");
        await File.WriteAllBytesAsync(ballast, new byte[6 << 20]);
        await using var server = await LineageServer.StartAsync(new ServerOptions
        {
            Database = Path.Combine(Mount, "lineage.db"), ArtifactRoot = Path.Combine(Mount, "artifacts"), Port = 0,
        });
        using var http = new HttpClient { BaseAddress = server.Address };
        var experiment = (string)JsonNode.Parse(await Ok(await Post(http, "/api/v1/experiments", """{"name":"disk"}""")))!["id"]!;
        var run = (string)JsonNode.Parse(await Ok(await Post(http, "/api/v1/runs", $$"""{"experimentId":"{{experiment}}"}""")))!["runId"]!;

        // Fill the disk with uploads until one is refused.
        var stored = new List<(string Name, byte[] Bytes)>();
        HttpStatusCode refused = 0;
        for (var i = 0; i < 100 && refused == 0; i++)
        {
            var bytes = RandomNumberGenerator.GetBytes(1 << 20);
            using var response = await Upload(http, $"fill-{i}", bytes);
            if (response.IsSuccessStatusCode) stored.Add(($"fill-{i}", bytes));
            else
            {
                refused = response.StatusCode;
                await AssertCleanError(response, HttpStatusCode.InsufficientStorage, "INSUFFICIENT_STORAGE");
            }
        }
        Assert.True(refused != 0, "the 24 MB disk never filled up");
        Assert.NotEmpty(stored);
        // Metadata writes on a full disk: refused cleanly, or (SQLite has free pages) accepted; never a 500.
        using (var batch = await Post(http, $"/api/v1/runs/{run}/batch", """{"params":[{"key":"p","value":"v"}]}"""))
            Assert.True((int)batch.StatusCode is 200 or 507 or 503, $"{(int)batch.StatusCode} {await batch.Content.ReadAsStringAsync()}");

        // Space returns: writes work again, without a restart.
        File.Delete(ballast);
        var after = RandomNumberGenerator.GetBytes(1 << 20);
        await Ok(await Upload(http, "after-full", after));
        stored.Add(("after-full", after));

        // Read-only: the kernel refuses to remount a file system with files open for writing (the database is), so a
        // read-only bind mount goes over it: every file opened from now on is read-only, as after an ro remount, while
        // the database's open handles keep working. New content is refused with 503 and a body; reads still work.
        Run("mount", "--bind", Mount, Mount);
        Run("mount", "-o", "remount,bind,ro", Mount);
        try
        {
            using var response = await Upload(http, "read-only", RandomNumberGenerator.GetBytes(4096));
            await AssertCleanError(response, HttpStatusCode.ServiceUnavailable, "TEMPORARILY_UNAVAILABLE");
            using var batch = await Post(http, $"/api/v1/runs/{run}/batch", """{"metrics":[{"key":"m","value":1,"step":1}]}""");
            Assert.True((int)batch.StatusCode is 200 or 503, $"{(int)batch.StatusCode} {await batch.Content.ReadAsStringAsync()}");
            await Ok(await http.GetAsync($"/api/v1/runs/{run}"));
        }
        finally
        {
            // The bind mount; the writable tmpfs is below it. Lazily: a read connection the pool opened while the
            // view was read-only still holds a file through it (as a read-only handle, which serves reads the same
            // after a real remount), and a plain umount would refuse with "target is busy".
            Run("umount", "-l", Mount);
        }
        await Ok(await Post(http, $"/api/v1/runs/{run}/batch", """{"metrics":[{"key":"m","value":2,"step":2}]}"""));

        // Nothing acknowledged is lost or changed.
        foreach (var (name, bytes) in stored)
        {
            using var content = await http.GetAsync($"/api/v1/artifacts/{name}/versions/1/content");
            Assert.True(content.IsSuccessStatusCode, $"{name}: {(int)content.StatusCode}");
            Assert.True((await content.Content.ReadAsByteArrayAsync()).AsSpan().SequenceEqual(bytes), $"{name}: content differs");
        }
    }

    private static Task<HttpResponseMessage> Post(HttpClient http, string path, string json) =>
        http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static Task<HttpResponseMessage> Upload(HttpClient http, string name, byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        return http.PostAsync($"/api/v1/artifacts/upload?name={name}&type=dataset", content);
    }

    private static async Task<string> Ok(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {text}");
        return text;
    }

    private static async Task AssertCleanError(HttpResponseMessage response, HttpStatusCode expected, string code, HttpStatusCode? alternative = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected || response.StatusCode == alternative, $"{(int)response.StatusCode} {text}");
        var error = JsonNode.Parse(text)!;
        if (response.StatusCode == expected) Assert.Equal(code, (string?)error["error_code"]);
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
    }
}
