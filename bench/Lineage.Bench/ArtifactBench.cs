using System.Diagnostics;
using System.Net.Http.Headers;
using Lineage.Tests.Support;

namespace Lineage.Bench;

/// <summary>
/// Artifact transfer and registration benchmark against a real `lineage server` process:
/// upload and download of one large file through the server (sampling the server's memory
/// meanwhile), then many small registrations from concurrent connections.
/// </summary>
public static class ArtifactBench
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        using var dir = new TempDir();
        var artifacts = dir.File("artifacts");
        string[] extra = [];
        if (o.S3Endpoint is { } endpoint)
        {
            var bucket = "lineage-bench-" + Guid.NewGuid().ToString("N")[..12];
            using (var s3 = new Lineage.Storage.Blobs.S3Settings(bucket, "", endpoint).CreateClient())
                await s3.PutBucketAsync(bucket);
            artifacts = $"s3://{bucket}/bench";
            extra = ["--s3-endpoint", endpoint];
        }
        await using var server = await ServerProcess.StartAsync(dir.File("bench.db"), artifacts, extra);
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = Timeout.InfiniteTimeSpan };
        Console.WriteLine($"artifacts: file={o.FileBytes / 1048576.0:N0} MiB, small versions={o.SmallVersions:N0}, concurrency={o.Concurrency}");

        var upRates = new List<double>();
        var downRates = new List<double>();
        long peakRss = 0;
        for (var round = 0; round < o.Rounds; round++)
        {
            using var sampler = new RssSampler(server);
            var watch = Stopwatch.StartNew();
            var content = new StreamContent(new GeneratedStream(o.FileBytes, seed: round), 1 << 20);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = o.FileBytes;
            using (var up = await http.PostAsync($"/api/v1/artifacts/upload?name=big&type=dataset", content))
                up.EnsureSuccessStatusCode();
            upRates.Add(o.FileBytes / watch.Elapsed.TotalSeconds);

            watch.Restart();
            await using (var down = await http.GetStreamAsync($"/api/v1/artifacts/big/versions/latest/content"))
            {
                var buffer = new byte[1 << 20];
                long total = 0;
                int n;
                while ((n = await down.ReadAsync(buffer)) > 0) total += n;
                if (total != o.FileBytes) throw new InvalidOperationException($"downloaded {total} of {o.FileBytes} bytes");
            }
            downRates.Add(o.FileBytes / watch.Elapsed.TotalSeconds);
            peakRss = Math.Max(peakRss, sampler.Stop());
            Console.WriteLine($"  round {round + 1}: up {upRates[^1] / 1e6:N0} MB/s, down {downRates[^1] / 1e6:N0} MB/s, server peak RSS {peakRss / 1048576.0:N0} MiB");
        }

        // Small versions: distinct 64-byte contents, one request each (upload + register).
        long next = -1;
        var small = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, o.Concurrency).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= o.SmallVersions) return;
                var body = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes($"small artifact number {i:D12} ................................"));
                body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                using var r = await http.PostAsync($"/api/v1/artifacts/upload?name=small-{i % 100}&type=config", body);
                r.EnsureSuccessStatusCode();
            }
        })));
        var smallRate = o.SmallVersions / small.Elapsed.TotalSeconds;

        // Registration alone: content already in the store (what the SDK does after its dedup check),
        // one JSON request per version.
        var known = new List<(string Digest, long Size)>();
        for (var i = 0; i < 100; i++)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes($"shared small content {i}");
            using var put = await http.PutAsync("/api/v1/blobs", new ByteArrayContent(bytes));
            put.EnsureSuccessStatusCode();
            known.Add((Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), bytes.Length));
        }
        next = -1;
        var register = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, o.Concurrency).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= o.SmallVersions) return;
                var (digest, size) = known[(int)(i % known.Count)];
                var json = "{\"name\":\"reg-" + (i % 100) + "\",\"type\":\"config\",\"metadata\":{\"i\":" + i +
                           "},\"file\":{\"digest\":\"" + digest + "\",\"size\":" + size + "}}";
                using var r = await http.PostAsync("/api/v1/artifacts", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
                r.EnsureSuccessStatusCode();
            }
        })));
        var registerRate = o.SmallVersions / register.Elapsed.TotalSeconds;

        var s3Lines = o.S3Endpoint is null ? [] : await S3ComparisonAsync(o, http, server, artifacts, o.S3Endpoint);
        if (o.S3Endpoint is { } s3Endpoint)
        {
            // The ceiling for small versions on S3: the same number of small PUTs sent straight to the S3 server from as many
            // connections, with no Lineage server in between (each upload + register costs the server one such PUT).
            var bucket = artifacts["s3://".Length..].Split('/')[0];
            using var s3 = new Lineage.Storage.Blobs.S3Settings(bucket, "", s3Endpoint).CreateClient();
            next = -1;
            var puts = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, o.Concurrency).Select(_ => Task.Run(async () =>
            {
                while (true)
                {
                    var i = Interlocked.Increment(ref next);
                    if (i >= o.SmallVersions) return;
                    await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest
                    {
                        BucketName = bucket, Key = $"direct/{i}", UseChunkEncoding = false,
                        InputStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"direct small object {i:D12} ................................")),
                    });
                }
            })));
            s3Lines.Add($"| S3: small PUTs straight to the S3 server ({o.SmallVersions:N0}, {o.Concurrency} connections, no Lineage) | {o.SmallVersions / puts.Elapsed.TotalSeconds:N0} PUTs/s |");
        }

        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        foreach (var line in s3Lines) Console.WriteLine(line);
        Console.WriteLine($"| upload {o.FileBytes / 1e9:N1} GB through the server, median of {o.Rounds} | {Statistics.Median(upRates) / 1e6:N0} MB/s |");
        Console.WriteLine($"| download {o.FileBytes / 1e9:N1} GB through the server, median of {o.Rounds} | {Statistics.Median(downRates) / 1e6:N0} MB/s |");
        Console.WriteLine($"| server peak resident memory during transfers | {peakRss / 1048576.0:N0} MiB |");
        Console.WriteLine($"| small versions, upload + register in one request ({o.SmallVersions:N0}) | {smallRate:N0} versions/s |");
        Console.WriteLine($"| small versions, register only, content already stored ({o.SmallVersions:N0}) | {registerRate:N0} versions/s |");
        return 0;
    }

    /// <summary>
    /// Upload through the server with the digest named (the SDK's and CLI's path: parts go straight to the final key)
    /// against the same bytes sent directly to the same S3 server by the AWS SDK's TransferUtility (multipart, 8 MiB parts).
    /// </summary>
    private static async Task<List<string>> S3ComparisonAsync(BenchOptions o, HttpClient http, ServerProcess server, string artifacts, string endpoint)
    {
        var viaServer = new List<double>();
        var direct = new List<double>();
        long peakRss = 0;
        var bucket = artifacts["s3://".Length..].Split('/')[0];
        using var s3 = new Lineage.Storage.Blobs.S3Settings(bucket, "", endpoint).CreateClient();
        using var transfer = new Amazon.S3.Transfer.TransferUtility(s3);
        for (var round = 0; round < o.Rounds; round++)
        {
            var seed = 1000 + round;
            string digest;
            using (var sha = System.Security.Cryptography.SHA256.Create())
                digest = Convert.ToHexStringLower(await sha.ComputeHashAsync(new GeneratedStream(o.FileBytes, seed)));
            using var sampler = new RssSampler(server);
            var watch = Stopwatch.StartNew();
            var content = new StreamContent(new GeneratedStream(o.FileBytes, seed), 1 << 20);
            content.Headers.ContentLength = o.FileBytes;
            using (var up = await http.PutAsync($"/api/v1/blobs?digest={digest}", content)) up.EnsureSuccessStatusCode();
            viaServer.Add(o.FileBytes / watch.Elapsed.TotalSeconds);
            peakRss = Math.Max(peakRss, sampler.Stop());

            watch.Restart();
            await transfer.UploadAsync(new Amazon.S3.Transfer.TransferUtilityUploadRequest
            {
                BucketName = bucket, Key = $"direct/{round}", InputStream = new GeneratedStream(o.FileBytes, seed + 500), PartSize = 8 << 20,
            });
            direct.Add(o.FileBytes / watch.Elapsed.TotalSeconds);
            Console.WriteLine($"  s3 round {round + 1}: through the server {viaServer[^1] / 1e6:N0} MB/s, direct multipart {direct[^1] / 1e6:N0} MB/s, server peak RSS {peakRss / 1048576.0:N0} MiB");
        }
        var ratio = Statistics.Median(viaServer) / Statistics.Median(direct);
        return
        [
            $"| S3: upload {o.FileBytes / 1e9:N1} GB through the server, digest named (SDK/CLI path), median of {o.Rounds} | {Statistics.Median(viaServer) / 1e6:N0} MB/s |",
            $"| S3: the same bytes straight to the S3 server (TransferUtility multipart), median of {o.Rounds} | {Statistics.Median(direct) / 1e6:N0} MB/s |",
            $"| S3: through the server / direct | {ratio:P0} |",
            $"| S3: server peak resident memory during those uploads | {peakRss / 1048576.0:N0} MiB |",
        ];
    }

    /// <summary>Reads the server's resident memory every 50 ms and keeps the highest value.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private long _peak;

        public RssSampler(ServerProcess server) =>
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    _peak = Math.Max(_peak, server.ResidentBytes());
                    try { await Task.Delay(50, _stop.Token); } catch (OperationCanceledException) { }
                }
            });

        public long Stop()
        {
            _stop.Cancel();
            _loop.Wait();
            return _peak;
        }

        public void Dispose() => _stop.Cancel();
    }

    /// <summary>Pseudo-random, non-repeating bytes made on the fly: no test file to prepare, no dedup.</summary>
    private sealed class GeneratedStream(long length, int seed) : Stream
    {
        private readonly byte[] _block = MakeBlock(seed);
        private long _position;

        private static byte[] MakeBlock(int seed)
        {
            var block = new byte[1 << 20];
            new Random(seed).NextBytes(block);
            return block;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            var blockOffset = (int)(_position % _block.Length);
            n = Math.Min(n, _block.Length - blockOffset);
            _block.AsSpan(blockOffset, n).CopyTo(buffer);
            // Stamp the block number so no two megabytes are equal.
            if (blockOffset == 0 && n >= 8) BitConverter.TryWriteBytes(buffer, _position / _block.Length);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => ValueTask.FromResult(Read(buffer.Span));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
