using System.Text;
using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Core.Lineage;
using Lineage.Core.Tracking;
using Lineage.Storage.Archive;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Storage.Governance;
using Lineage.Storage.Lineage;
using Lineage.Storage.Tracking;
using Lineage.Tests.Support;

namespace Lineage.Tests.Storage;

/// <summary>
/// Storage lifecycle (issue 13, items 4 and 5): archival to cold storage and back, hard delete of deleted runs and
/// experiments, erasure of a user's name. Run on SQLite, PostgreSQL, and with both blob stores in S3 buckets.
/// </summary>
public abstract class LifecycleContract : StoreTestBase
{
    private IBlobStore _hot = null!;
    private IBlobStore _cold = null!;
    private ArtifactStore _artifacts = null!;

    private static readonly long DaysAgo200 = Clock.NowMs() - 200L * 86_400_000;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _hot = await NewBlobStoreAsync("hot");
        _cold = await NewBlobStoreAsync("cold");
        _artifacts = new ArtifactStore(Db, _hot);
    }

    public override async Task DisposeAsync()
    {
        (_hot as IDisposable)?.Dispose();
        (_cold as IDisposable)?.Dispose();
        await base.DisposeAsync();
    }

    protected virtual Task<IBlobStore> NewBlobStoreAsync(string name) => Task.FromResult<IBlobStore>(new LocalFolderBlobStore(Dir.File(name)));

    /// <summary>Replaces an archived copy's bytes behind the store's back.</summary>
    protected virtual Task DamageAsync(IBlobStore store, string digest) =>
        File.WriteAllBytesAsync(Directory.EnumerateFiles(((LocalFolderBlobStore)store).Root, digest, SearchOption.AllDirectories).Single(),
            "damaged bytes!!"u8.ToArray());

    private Task<IBlobStore> OpenCold(string location)
    {
        Assert.Equal(_cold.Location, location);
        return Task.FromResult<IBlobStore>(new NotDisposing(_cold));
    }

    private async Task Sql(string sql, object? args = null) =>
        await Db.WriteAsync(async s => await s.Connection.ExecuteAsync(sql, args, s.Transaction));

    private Task<T?> Scalar<T>(string sql, object? args = null) =>
        Db.ReadAsync(s => s.Connection.ExecuteScalarAsync<T>(sql, args, s.Transaction));

    private async Task<ArtifactVersion> Register(string name, string text, string type = "dataset", bool old = true)
    {
        var blob = await _hot.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        var v = await Acting.As("ana", () => _artifacts.RegisterAsync(new ArtifactRegistration(null, name, type, null, new ArtifactContent.File(blob.Digest, blob.Size))));
        if (old) await Sql("UPDATE artifact_versions SET created_at = @at WHERE id = @id", new { at = DaysAgo200, id = v.Id });
        return v;
    }

    // ---- archival ---------------------------------------------------------------------------------------------------

    [Fact]
    public async Task content_not_read_for_the_period_moves_to_the_archive_and_restore_brings_it_back_verified()
    {
        var cold = await Register("churn-data", "old rows, never read");
        var read = await Register("churn-data", "old rows, read yesterday");
        var fresh = await Register("churn-data", "rows registered today", old: false);
        var reads = new ReadTracker(Db);
        reads.Record(read.Digest);
        reads.Record(read.Digest); // many reads between flushes are one row
        Assert.Equal(1, await reads.FlushAsync());
        Assert.Equal(0, await reads.FlushAsync());
        var archiver = new Archiver(Db, _hot);

        var dry = await archiver.ArchiveAsync(new ArchiveOptions(TimeSpan.FromDays(180), DryRun: true), _cold, "test");
        Assert.Equal([("churn-data", 1L)], dry.Versions.Select(v => (v.Name, v.Version)));
        Assert.NotNull(await _hot.SizeOfAsync(cold.Digest)); // a dry run moves nothing
        Assert.Null(await _cold.SizeOfAsync(cold.Digest));

        var report = await archiver.ArchiveAsync(new ArchiveOptions(TimeSpan.FromDays(180)), _cold, "test");
        Assert.Equal((1, cold.Size), (report.Blobs, report.Bytes));
        Assert.Null(await _hot.SizeOfAsync(cold.Digest));
        Assert.Equal(cold.Size, await _cold.SizeOfAsync(cold.Digest));
        Assert.NotNull(await _hot.SizeOfAsync(read.Digest));
        Assert.NotNull(await _hot.SizeOfAsync(fresh.Digest));
        // The version, its digest and lineage stay; the archive is recorded with one version using it (the 409's hint).
        Assert.Equal(cold.Digest, (await _artifacts.GetAsync(null, "churn-data", new VersionRef(1, null))).Digest);
        var found = Assert.Single(await archiver.FindAsync([cold.Digest, read.Digest]));
        Assert.Equal(("churn-data", 1L, _cold.Location), (found.Name, found.Version!.Value, found.Location));
        // verify does not call archived content missing; a second run finds nothing more.
        Assert.Empty((await new ArtifactMaintenance(Db, _hot).VerifyAsync(deep: true)).Problems);
        Assert.Equal(0, (await archiver.ArchiveAsync(new ArchiveOptions(TimeSpan.FromDays(180)), _cold, "test")).Blobs);

        var restored = await archiver.RestoreAsync(null, "churn-data", new VersionRef(1, null), OpenCold, "test");
        Assert.Equal(1, restored.Blobs);
        await using (var back = await _hot.OpenReadAsync(cold.Digest))
            Assert.Equal("old rows, never read", await new StreamReader(back!).ReadToEndAsync());
        Assert.Null(await _cold.SizeOfAsync(cold.Digest));
        Assert.Empty(await archiver.FindAsync([cold.Digest]));
        var notArchived = await Assert.ThrowsAsync<LineageException>(() => archiver.RestoreAsync(null, "churn-data", new VersionRef(1, null), OpenCold, "test"));
        Assert.Equal(ErrorCode.InvalidParameterValue, notArchived.Code);
        var actions = await Db.ReadAsync(async s => (await s.Connection.QueryAsync<string>("SELECT action FROM audit_log ORDER BY seq")).ToList());
        Assert.Equal(["artifacts.archive", "artifacts.archive", "artifacts.restore"], actions);
    }

    [Fact]
    public async Task content_another_version_still_needs_stays_hot_whatever_the_type_filter_or_alias()
    {
        var dataset = await Register("shared-data", "the same bytes");
        await Register("shared-model", "the same bytes", type: "model");
        var held = await Register("held", "an alias points here");
        await Acting.As("ana", () => _artifacts.SetAliasAsync(null, "held", "production", 1));
        var onlyDataset = await Register("alone", "a dataset of its own");
        var archiver = new Archiver(Db, _hot);

        var report = await archiver.ArchiveAsync(new ArchiveOptions(TimeSpan.FromDays(180), Type: "dataset"), _cold, "test");
        Assert.Equal([("alone", 1L)], report.Versions.Select(v => (v.Name, v.Version)));
        Assert.NotNull(await _hot.SizeOfAsync(dataset.Digest)); // the model version of the same content does not match --type
        Assert.NotNull(await _hot.SizeOfAsync(held.Digest));
        Assert.Null(await _hot.SizeOfAsync(onlyDataset.Digest));

        var all = await archiver.ArchiveAsync(new ArchiveOptions(TimeSpan.FromDays(180)), _cold, "test");
        Assert.Equal([("shared-data", 1L), ("shared-model", 1L)], all.Versions.Select(v => (v.Name, v.Version)));
        Assert.Equal(1, all.Blobs); // one blob, two versions
        Assert.NotNull(await _hot.SizeOfAsync(held.Digest));
    }

    [Fact]
    public async Task a_damaged_archive_copy_is_refused_on_restore_and_the_version_stays_archived()
    {
        var v = await Register("features", "precious bytes that will rot in the archive");
        var archiver = new Archiver(Db, _hot);
        await archiver.ArchiveAsync(new ArchiveOptions(TimeSpan.FromDays(180)), _cold, "test");
        await DamageAsync(_cold, v.Digest);

        var ex = await Assert.ThrowsAsync<LineageException>(() => archiver.RestoreAsync(null, "features", new VersionRef(1, null), OpenCold, "test"));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        Assert.Null(await _hot.SizeOfAsync(v.Digest));
        Assert.Single(await archiver.FindAsync([v.Digest]));
    }

    // ---- gc --runs ----------------------------------------------------------------------------------------------------

    [Fact]
    public async Task runs_deleted_before_the_delay_are_removed_with_their_data_and_their_execution_stays_as_a_tombstone()
    {
        var experiment = await Store.CreateExperimentAsync(null, "churn");
        var old = await Store.CreateRunAsync(experiment.Id, "old-run", user: "ana");
        await Store.LogBatchAsync(old.Info.RunId, new RunBatch([new MetricPoint("loss", 0.5, 1, 1)], [new KeyValue("lr", "0.1")], [new KeyValue("note", "x")]));
        var produced = await _artifacts.RegisterAsync(new ArtifactRegistration(null, "model-out", "model", null,
            new ArtifactContent.File((await _hot.PutAsync(new MemoryStream("weights"u8.ToArray()))).Digest, 7), RunId: old.Info.RunId));
        var execution = await new LineageStore(Db).ExecutionOfRunAsync(old.Info.RunId);
        var recent = await Store.CreateRunAsync(experiment.Id, "recent-run");
        var active = await Store.CreateRunAsync(experiment.Id, "active-run");
        await Store.DeleteRunAsync(old.Info.RunId);
        await Store.DeleteRunAsync(recent.Info.RunId);
        await Sql("UPDATE runs SET deleted_at = @at WHERE uuid = @id", new { at = DaysAgo200, id = old.Info.RunId });
        var purge = new RunPurge(Db);

        var dry = await purge.PurgeAsync(TimeSpan.FromDays(30), dryRun: true, "test");
        Assert.Equal([old.Info.RunId], dry.Runs.Select(r => r.RunId));
        Assert.NotNull(await Store.GetRunAsync(old.Info.RunId));

        var report = await purge.PurgeAsync(TimeSpan.FromDays(30), dryRun: false, "test");
        Assert.Equal([old.Info.RunId], report.Runs.Select(r => r.RunId));
        Assert.Equal((1L, 1L, 1L), (report.Rows["params"], report.Rows["latestMetrics"], report.Rows["runs"]));
        Assert.True(report.Rows["tags"] >= 1);
        Assert.Equal(ErrorCode.ResourceDoesNotExist, (await Assert.ThrowsAsync<LineageException>(() => Store.GetRunAsync(old.Info.RunId))).Code);
        Assert.Equal(0, await Scalar<long>("SELECT COUNT(*) FROM params WHERE run_id NOT IN (SELECT id FROM runs)"));
        Assert.Equal(0, await Scalar<long>("SELECT COUNT(*) FROM metric_chunks WHERE run_id NOT IN (SELECT id FROM runs)"));
        // The tombstone: the execution keeps its name, its times and its output edge; the version stays, unlinked.
        var tomb = await new LineageStore(Db).GetExecutionAsync(execution.Id);
        Assert.Equal(("old-run", (string?)null), (tomb.Name, tomb.RunId));
        Assert.Equal(1, await Scalar<long>("SELECT COUNT(*) FROM lineage_events WHERE execution_id = @id AND kind = 'output'", new { id = execution.Id }));
        var version = await _artifacts.GetByIdAsync(produced.Id);
        Assert.Null(version.ProducerRunId);
        Assert.NotNull(await Store.GetRunAsync(recent.Info.RunId)); // deleted, but within the delay
        Assert.NotNull(await Store.GetRunAsync(active.Info.RunId));
        Assert.Equal("runs.purge", await Scalar<string>("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1"));
    }

    [Fact]
    public async Task a_deleted_experiment_goes_with_all_its_runs_but_never_the_default_experiment()
    {
        var experiment = await Store.CreateExperimentAsync(null, "abandoned");
        await Store.SetExperimentTagAsync(experiment.Id, "team", "ml");
        var run = await Store.CreateRunAsync(experiment.Id, "in-abandoned");
        var inDefault = await Store.CreateRunAsync(0, "in-default");
        await Store.DeleteExperimentAsync(experiment.Id);
        await Store.DeleteExperimentAsync(0);
        await Sql("UPDATE experiments SET deleted_at = @at", new { at = DaysAgo200 });
        await Sql("UPDATE runs SET deleted_at = @at", new { at = DaysAgo200 });

        var report = await new RunPurge(Db).PurgeAsync(TimeSpan.FromDays(30), dryRun: false, "test");
        Assert.Equal([experiment.Id.ToString()], report.Experiments.Select(e => e.Id));
        Assert.Equal(new[] { run.Info.RunId, inDefault.Info.RunId }.Order(), report.Runs.Select(r => r.RunId).Order());
        Assert.Equal(ErrorCode.ResourceDoesNotExist, (await Assert.ThrowsAsync<LineageException>(() => Store.GetExperimentAsync(experiment.Id))).Code);
        Assert.Equal("Default", (await Store.GetExperimentAsync(0)).Name);
        Assert.Equal(0, await Scalar<long>("SELECT COUNT(*) FROM experiment_tags"));
    }

    // ---- erase-user ---------------------------------------------------------------------------------------------------

    [Fact]
    public async Task erasing_a_user_replaces_the_name_everywhere_and_the_audit_chain_still_verifies()
    {
        var gov = new GovernanceStore(Db);
        var log = new AuditLog(Db);
        await gov.CreatePrincipalAsync("ana", PrincipalKind.User, null, false, "admin");
        await gov.IssueTokenAsync("ana", "laptop", null, "admin");
        await log.AppendAsync(new AuditRecord("ana", "10.0.0.1", "POST /api/v1/runs", "/api/v1/users/ana/runs", 200, """{"user":"ana","rows":["x","ana"]}"""));
        await log.AppendAsync(new AuditRecord("unverified:ana", null, "POST /api/v1/runs", "/api/v1/runs", 200, """{"note":"anabolic"}"""));
        await log.AppendAsync(new AuditRecord("bob", null, "GET /x", "/x", 200, "{}"));
        var run = await Store.CreateRunAsync(0, "by-ana", user: "ana", tags: new Dictionary<string, string> { ["mlflow.user"] = "ana" });
        await Register("data", "rows", old: false);

        var dry = await new UserErasure(Db).EraseAsync("ana", dryRun: true, "test");
        // principal.create and token.create (target principal:ana) and the two entries above; "anabolic" is not the name.
        Assert.Equal(4, dry.AuditEntries);
        Assert.Equal(1, await Scalar<long>("SELECT COUNT(*) FROM principals WHERE name = 'ana'")); // the dry run changed nothing
        var report = await new UserErasure(Db).EraseAsync("ana", dryRun: false, "test");
        Assert.StartsWith("erased-user-", report.Pseudonym);
        Assert.Equal(4, report.AuditEntries);

        var after = await Store.GetRunAsync(run.Info.RunId);
        Assert.Equal((report.Pseudonym, report.Pseudonym), (after.Info.User, after.Tags["mlflow.user"]));
        Assert.Equal(report.Pseudonym, (await _artifacts.GetAsync(null, "data", new VersionRef(1, null))).CreatedBy);
        Assert.DoesNotContain(await Db.ReadAsync(async s => (await s.Connection.QueryAsync<string>(
            "SELECT actor || ' ' || target || ' ' || summary FROM audit_log")).ToList()), e => e.Contains("\"ana\"") || e.Contains("/ana/") || e.StartsWith("ana "));
        Assert.Contains(await Db.ReadAsync(async s => (await s.Connection.QueryAsync<string>("SELECT summary FROM audit_log")).ToList()), e => e.Contains("anabolic"));
        Assert.Equal(0, await Scalar<long>("SELECT COUNT(*) FROM principals WHERE name = 'ana'"));
        Assert.Equal(0, await Scalar<long>("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL"));
        var verified = await log.VerifyAsync();
        Assert.True(verified.Intact, verified.FirstBreak?.Reason);

        // A redacted entry edited afterwards is caught, and so is a forged redaction record.
        var redactedSeq = await Scalar<long>("SELECT MIN(seq) FROM audit_redactions");
        await Sql("UPDATE audit_log SET summary = '{}' WHERE seq = @redactedSeq", new { redactedSeq });
        Assert.Equal(redactedSeq, (await log.VerifyAsync()).FirstBreak?.Seq);
    }

    [Fact]
    public async Task a_forged_redaction_record_breaks_the_audit_chain_at_the_erasure()
    {
        await new AuditLog(Db).AppendAsync(new AuditRecord("ana", null, "GET /a", "/a", 200, "{}"));
        var report = await new UserErasure(Db).EraseAsync("ana", dryRun: false, "test");
        await Sql("UPDATE audit_redactions SET redacted_hash = 'forged'");
        var broken = (await new AuditLog(Db).VerifyAsync()).FirstBreak;
        Assert.NotNull(broken);
        Assert.True(broken.Seq == 1 || broken.Seq == report.ErasureSeq, broken.Reason);
    }

    private sealed class NotDisposing(IBlobStore inner) : IBlobStore
    {
        public string Location => inner.Location;
        public bool RehashByDefault => inner.RehashByDefault;
        public Task<BlobInfo> PutAsync(Stream content, string? expectedDigest = null, long? maxBytes = null, CancellationToken ct = default) =>
            inner.PutAsync(content, expectedDigest, maxBytes, ct);
        public Task<Stream?> OpenReadAsync(string digest, CancellationToken ct = default) => inner.OpenReadAsync(digest, ct);
        public Task<long?> SizeOfAsync(string digest, CancellationToken ct = default) => inner.SizeOfAsync(digest, ct);
        public IAsyncEnumerable<StoredBlob> ListAsync(CancellationToken ct = default) => inner.ListAsync(ct);
        public Task<long> DeleteAsync(string digest, CancellationToken ct = default) => inner.DeleteAsync(digest, ct);
        public Task<bool> ReadyAsync(CancellationToken ct = default) => inner.ReadyAsync(ct);
        public Uri? DirectReadUrl(string digest, string? fileName, TimeSpan validFor) => inner.DirectReadUrl(digest, fileName, validFor);
    }
}

public sealed class SqliteLifecycleTests : LifecycleContract
{
    protected override string NewTarget(TempDir dir) => dir.File($"life-{Guid.NewGuid():N}.db");
}

public sealed class PostgresLifecycleTests : LifecycleContract
{
    protected override string NewTarget(TempDir dir) => PostgresTarget.CreateDatabase();
}

/// <summary>Archival with the blob store and the archive in two buckets of the test S3 server.</summary>
public sealed class SqliteS3LifecycleTests : LifecycleContract
{
    protected override string NewTarget(TempDir dir) => dir.File($"life-{Guid.NewGuid():N}.db");

    protected override async Task<IBlobStore> NewBlobStoreAsync(string name) => await BlobStores.OpenAsync(await S3Target.CreateBucketAsync(prefix: name), S3Target.Endpoint);

    protected override async Task DamageAsync(IBlobStore store, string digest)
    {
        using var s3 = S3Target.Client();
        var s3Store = (S3BlobStore)store;
        await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest
        {
            BucketName = s3Store.Settings.Bucket, Key = s3Store.KeyOf(digest), InputStream = new MemoryStream("damaged bytes!!"u8.ToArray()), UseChunkEncoding = false,
        });
    }
}
