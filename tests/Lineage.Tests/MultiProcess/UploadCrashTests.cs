using System.Net;
using System.Security.Cryptography;
using Lineage.Tests.Support;

namespace Lineage.Tests.MultiProcess;

/// <summary>An upload cut off by SIGKILL leaves nothing visible: no blob under a digest name, no version.</summary>
public sealed class UploadCrashTests
{
    [Fact]
    public async Task a_server_killed_during_an_upload_shows_no_partial_blob_after_restart()
    {
        using var dir = new TempDir();
        var db = dir.File("upload.db");
        var artifacts = dir.File("artifacts");
        var data = RandomNumberGenerator.GetBytes(64 * 1024 * 1024);
        var digest = Convert.ToHexStringLower(SHA256.HashData(data));

        await using (var server = await ServerProcess.StartAsync(db, artifacts))
        {
            var halfway = new TaskCompletionSource();
            using var http = new HttpClient { BaseAddress = server.Address };
            var content = new StreamContent(new SlowStream(data, halfway));
            content.Headers.ContentLength = data.Length;
            var upload = http.PostAsync($"/api/v1/artifacts/upload?name=big&type=dataset&digest={digest}", content);
            await halfway.Task;
            await Task.Delay(200); // let the server write part of it to its temp file
            server.KillHard();
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => upload);
        }

        // Before restart a temp file may remain; nothing is under a digest name.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(artifacts, "sha256"), "*", SearchOption.AllDirectories));

        await using (var restarted = await ServerProcess.StartAsync(db, artifacts))
        {
            using var http = new HttpClient { BaseAddress = restarted.Address };
            using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/blobs/{digest}"));
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
            using var version = await http.GetAsync("/api/v1/artifacts/big/versions/latest");
            Assert.Equal(HttpStatusCode.NotFound, version.StatusCode);
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(artifacts, "tmp")));

            // The same upload after restart succeeds whole.
            using var retry = await http.PostAsync($"/api/v1/artifacts/upload?name=big&type=dataset&digest={digest}", new ByteArrayContent(data));
            Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
            Assert.Equal(data, await http.GetByteArrayAsync("/api/v1/artifacts/big/versions/1/content"));
        }
    }

    /// <summary>Sends the first half quickly, signals, then trickles so the kill lands mid-upload.</summary>
    private sealed class SlowStream(byte[] data, TaskCompletionSource halfway) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().Result;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_position >= data.Length / 2)
            {
                halfway.TrySetResult();
                await Task.Delay(50, ct);
            }
            var n = Math.Min(Math.Min(buffer.Length, 64 * 1024), data.Length - _position);
            data.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
