using System.Diagnostics;
using System.Text;
using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Storage.Archive;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Lineage.Tests.Support;

namespace Lineage.Bench;

/// <summary>
/// Archival (issue 13): N small versions registered (in process, 16 at a time), made 200 days old, then archived in one
/// run of <see cref="Archiver"/> (what <c>lineage archive</c> runs) and 100 of them restored one after another. The blob
/// store and the archive are two folders, or two buckets of the S3-compatible server named by --s3.
/// </summary>
public static class ArchiveBench
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        using var dir = new TempDir();
        await using var db = await Database.OpenAsync(dir.File("archive.db"));
        var hot = await OpenStoreAsync(o, dir, "hot");
        var cold = await OpenStoreAsync(o, dir, "cold");
        Console.WriteLine($"archive: {o.SmallVersions:N0} versions, store {hot.Location}, archive {cold.Location}");

        var artifacts = new ArtifactStore(db, hot);
        var seed = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, o.SmallVersions), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var blob = await hot.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes($"archived row set {i:D9} " + new string('x', 1000))));
            await artifacts.RegisterAsync(new ArtifactRegistration(null, $"ds-{i % 100}", "dataset", null, new ArtifactContent.File(blob.Digest, blob.Size)));
        });
        seed.Stop();
        await db.WriteAsync(s => s.Connection.ExecuteAsync("UPDATE artifact_versions SET created_at = @at",
            new { at = DateTimeOffset.UtcNow.AddDays(-200).ToUnixTimeMilliseconds() }, s.Transaction));

        var archiver = new Archiver(db, hot);
        var watch = Stopwatch.StartNew();
        var report = await archiver.ArchiveAsync(new ArchiveOptions(TimeSpan.FromDays(180)), cold, "bench");
        var archiveTime = watch.Elapsed;
        if (report.Blobs != o.SmallVersions) throw new InvalidOperationException($"archived {report.Blobs} of {o.SmallVersions} blobs");

        var restoreTimes = new List<double>();
        var total = Stopwatch.StartNew();
        for (var i = 0; i < 100; i++)
        {
            var name = $"ds-{i}";
            watch.Restart();
            // As 'lineage archive restore' does: the archive location recorded at archival is opened (and checked) per restore.
            await archiver.RestoreAsync(null, name, new VersionRef(1, null),
                location => o.S3Endpoint is null ? Task.FromResult<IBlobStore>(new LocalFolderBlobStore(location)) : BlobStores.OpenAsync(location, o.S3Endpoint),
                "bench");
            restoreTimes.Add(watch.Elapsed.TotalMilliseconds);
        }
        total.Stop();

        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| seed: {o.SmallVersions:N0} versions of ~1 KB registered in process, 16 at a time | {seed.Elapsed.TotalSeconds:N1} s |");
        Console.WriteLine($"| archive {report.Blobs:N0} versions ({report.Bytes / 1e6:N1} MB) | {archiveTime.TotalSeconds:N1} s ({report.Blobs / archiveTime.TotalSeconds:N0} versions/s) |");
        Console.WriteLine($"| restore 100 versions one after another: total | {total.Elapsed.TotalSeconds:N1} s |");
        Console.WriteLine($"| restore one version: median (p90) | {Statistics.Median(restoreTimes):N0} ms ({restoreTimes.Order().ElementAt(89):N0} ms) |");
        (hot as IDisposable)?.Dispose();
        (cold as IDisposable)?.Dispose();
        return 0;
    }

    private static async Task<IBlobStore> OpenStoreAsync(BenchOptions o, TempDir dir, string name)
    {
        if (o.S3Endpoint is not { } endpoint) return new LocalFolderBlobStore(dir.File(name));
        var bucket = $"lineage-bench-{name}-" + Guid.NewGuid().ToString("N")[..12];
        using (var s3 = new S3Settings(bucket, "", endpoint).CreateClient())
            await s3.PutBucketAsync(bucket);
        return await BlobStores.OpenAsync($"s3://{bucket}/bench", endpoint);
    }
}
