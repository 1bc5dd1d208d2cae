using System.Collections.Concurrent;
using System.Security.Cryptography;
using Lineage.Cli;
using Lineage.Core.Contracts.V1;
using Lineage.Server;
using Lineage.Tests.Support;

namespace Lineage.Tests.Operations;

/// <summary>
/// <c>lineage backup</c> while a server takes writes, then <c>lineage restore</c> into an empty store (issue 17, section 4):
/// every write acknowledged before the backup started is in the restored store, byte for byte, and the restored store
/// passes <c>verify</c> and <c>audit verify</c>. SQLite here; PostgreSQL in <see cref="BackupRestorePostgresTests"/>.
/// </summary>
public abstract class BackupRestoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    protected abstract bool Postgres { get; }

    private string NewDatabase(string name) => Postgres ? PostgresTarget.CreateDatabase() : _dir.File(name);

    private static Task<(int Code, string Out, string Err)> Cli(params string[] args) => InProcessCli.RunAsync(args);

    private sealed record AckedRun(string RunId, int Writer, List<(long Step, double Value)> Points);

    private sealed record AckedArtifact(string Name, byte[] Content);

    [Fact]
    public async Task a_backup_taken_under_write_load_restores_every_write_acknowledged_before_it_started()
    {
        var database = NewDatabase("source.db");
        var artifacts = _dir.File("source-artifacts");
        var server = await LineageServer.StartAsync(new ServerOptions { Database = database, ArtifactRoot = artifacts, Port = 0 });
        var runs = new ConcurrentQueue<(AckedRun Run, DateTime AckedAt)>();
        var uploads = new ConcurrentQueue<(AckedArtifact Artifact, DateTime AckedAt)>();
        string archive = _dir.File("backup.tar");
        DateTime backupStarted;
        await using (server)
        {
            using var client = new Lineage.Client.LineageClient(server.Address);
            var experiment = await client.CreateExperimentAsync("backup-under-load");
            using var stop = new CancellationTokenSource();

            // Writers: runs that log metric batches, and artifact uploads with distinct content, each remembered when acknowledged.
            var writers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var run = await client.CreateRunAsync(new CreateRunRequest(experiment.Id, $"w{w}-{i}"));
                    var points = Enumerable.Range(0, 20).Select(s => ((long)s, w * 1000.0 + i + s / 100.0)).ToList();
                    await client.LogBatchAsync(run.RunId, new BatchRequest(points.Select(p => new LogMetricRequest("loss", p.Item2, p.Item1)).ToList(),
                        [new KeyValueDto("writer", w.ToString())]));
                    runs.Enqueue((new AckedRun(run.RunId, w, points), DateTime.UtcNow));
                }
            })).ToList();
            var uploader = Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var content = RandomNumberGenerator.GetBytes(10_000 + i * 37);
                    var path = _dir.File($"upload-{i}.bin");
                    await File.WriteAllBytesAsync(path, content);
                    var version = await client.RegisterArtifactAsync($"data-{i}", path, "dataset");
                    uploads.Enqueue((new AckedArtifact(version.Name, content), DateTime.UtcNow));
                }
            });

            // Let some writes land, then back up while the writers keep going.
            while (runs.Count < 10 || uploads.Count < 3) await Task.Delay(50);
            backupStarted = DateTime.UtcNow;
            var backup = await Cli("backup", "--to", archive, "--db", database, "--artifacts", artifacts);
            Assert.True(backup.Code == 0, backup.Err + backup.Out);
            Assert.Contains("sha256", backup.Out);
            // Writes kept being acknowledged during the backup, so the test covers a backup under load.
            var countAtBackupEnd = runs.Count;
            while (runs.Count < countAtBackupEnd + 3) await Task.Delay(50);
            stop.Cancel();
            await Task.WhenAll(writers.Append(uploader));
        }
        Assert.True(File.Exists(archive + ".sha256"));

        var restoredDb = NewDatabase("restored.db");
        var restoredArtifacts = _dir.File("restored-artifacts");
        var restore = await Cli("restore", archive, "--db", restoredDb, "--artifacts", restoredArtifacts);
        Assert.True(restore.Code == 0, restore.Err + restore.Out);

        var verify = await Cli("verify", "--db", restoredDb, "--artifacts", restoredArtifacts);
        Assert.True(verify.Code == 0, verify.Err + verify.Out);
        Assert.Contains("0 problem(s)", verify.Out);
        var audit = await Cli("audit", "verify", "--db", restoredDb);
        Assert.True(audit.Code == 0, audit.Err + audit.Out);

        var before = runs.Where(r => r.AckedAt < backupStarted).Select(r => r.Run).ToList();
        var uploadsBefore = uploads.Where(u => u.AckedAt < backupStarted).Select(u => u.Artifact).ToList();
        Assert.True(before.Count >= 10 && uploadsBefore.Count >= 3);
        await using var restored = await LineageServer.StartAsync(new ServerOptions { Database = restoredDb, ArtifactRoot = restoredArtifacts, Port = 0 });
        using var check = new Lineage.Client.LineageClient(restored.Address);
        foreach (var run in before)
        {
            var history = await check.GetFullMetricHistoryAsync(run.RunId, "loss");
            Assert.Equal(run.Points, history.Select(p => (p.Step, p.Value)).ToList());
            Assert.Equal(run.Writer.ToString(), (await check.GetRunAsync(run.RunId)).Params["writer"]);
        }
        foreach (var artifact in uploadsBefore)
        {
            var copy = _dir.File($"pulled-{artifact.Name}");
            await check.DownloadAsync(artifact.Name, copy);
            Assert.Equal(artifact.Content, await File.ReadAllBytesAsync(copy));
        }
        // The restored store takes new writes: identities continue past the restored rows.
        var next = await check.CreateExperimentAsync("after-restore");
        var run2 = await check.CreateRunAsync(new CreateRunRequest(next.Id));
        Assert.NotNull(run2.RunId);
    }

    [Fact]
    public async Task restore_refuses_a_store_that_is_not_empty_and_an_archive_whose_bytes_changed()
    {
        var database = NewDatabase("source.db");
        var artifacts = _dir.File("source-artifacts");
        var content = RandomNumberGenerator.GetBytes(50_000);
        await using (var server = await LineageServer.StartAsync(new ServerOptions { Database = database, ArtifactRoot = artifacts, Port = 0 }))
        {
            using var client = new Lineage.Client.LineageClient(server.Address);
            var path = _dir.File("content.bin");
            await File.WriteAllBytesAsync(path, content);
            await client.RegisterArtifactAsync("content", path, "dataset");
        }
        var archive = _dir.File("backup.tar");
        var backedUp = await Cli("backup", "--to", archive, "--db", database, "--artifacts", artifacts);
        Assert.True(backedUp.Code == 0, backedUp.Err);
        // A second backup never overwrites the first.
        Assert.Equal(1, (await Cli("backup", "--to", archive, "--db", database, "--artifacts", artifacts)).Code);

        // Into the source itself: not empty.
        var intoSource = await Cli("restore", archive, "--db", database, "--artifacts", _dir.File("fresh-artifacts"));
        Assert.Equal(1, intoSource.Code);
        Assert.Contains("not empty", intoSource.Err);

        // One byte of the archive changed: the sidecar digest no longer matches; without the sidecar, the entry digest does not.
        var damaged = _dir.File("damaged.tar");
        File.Copy(archive, damaged);
        File.Copy(archive + ".sha256", damaged + ".sha256");
        var offset = OffsetOf(damaged, content);
        await using (var f = new FileStream(damaged, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = offset;
            var b = f.ReadByte();
            f.Position = offset;
            f.WriteByte((byte)(b ^ 0xff));
        }
        var target = NewDatabase("target.db");
        var refused = await Cli("restore", damaged, "--db", target, "--artifacts", _dir.File("t1"));
        Assert.Equal(1, refused.Code);
        Assert.Contains("damaged", refused.Err);
        File.Delete(damaged + ".sha256");
        var refusedAgain = await Cli("restore", damaged, "--db", target, "--artifacts", _dir.File("t2"));
        Assert.Equal(1, refusedAgain.Code);
        Assert.Contains("damaged", refusedAgain.Err);
        // Nothing was put in place: the same target still takes the intact archive.
        var restored = await Cli("restore", archive, "--db", target, "--artifacts", _dir.File("t3"));
        Assert.True(restored.Code == 0, restored.Err);
    }

    /// <summary>Where <paramref name="content"/> starts inside <paramref name="archive"/> (a blob is stored verbatim).</summary>
    private static long OffsetOf(string archive, byte[] content)
    {
        var bytes = File.ReadAllBytes(archive);
        var at = bytes.AsSpan().IndexOf(content.AsSpan(0, 256));
        return at >= 0 ? at + 1000 : throw new InvalidOperationException("the blob's bytes are not in the archive");
    }

    public void Dispose() => _dir.Dispose();
}

public sealed class BackupRestoreSqliteTests : BackupRestoreTests
{
    protected override bool Postgres => false;
}

public sealed class BackupRestorePostgresTests : BackupRestoreTests
{
    protected override bool Postgres => true;
}
