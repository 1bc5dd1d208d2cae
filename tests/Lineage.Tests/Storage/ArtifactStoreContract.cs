using System.Security.Cryptography;
using System.Text;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Tests.Support;

namespace Lineage.Tests.Storage;

/// <summary>Artifact behaviour every store must have, whatever the database.</summary>
public abstract class ArtifactStoreContract : StoreTestBase
{
    private IBlobStore _blobs = null!;
    private ArtifactStore _artifacts = null!;
    private ArtifactMaintenance _maintenance = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _blobs = await NewBlobStoreAsync();
        _artifacts = new ArtifactStore(Db, _blobs);
        _maintenance = new ArtifactMaintenance(Db, _blobs);
    }

    /// <summary>The blob store under test: a folder here, a bucket in the S3 variant.</summary>
    protected virtual Task<IBlobStore> NewBlobStoreAsync() => Task.FromResult<IBlobStore>(new LocalFolderBlobStore(Dir.File("blobs")));

    /// <summary>Replaces a stored blob's bytes behind the store's back (bit rot, a bad copy).</summary>
    protected virtual Task OverwriteBlobAsync(IBlobStore blobs, string digest, byte[] content) =>
        File.WriteAllBytesAsync(Directory.EnumerateFiles(((LocalFolderBlobStore)blobs).Root, digest, SearchOption.AllDirectories).Single(), content);

    public override async Task DisposeAsync()
    {
        (_blobs as IDisposable)?.Dispose();
        await base.DisposeAsync();
    }

    private async Task<ArtifactContent.File> Upload(string text)
    {
        var blob = await _blobs.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        return new ArtifactContent.File(blob.Digest, blob.Size);
    }

    private async Task<ArtifactVersion> Register(string name, string text, string type = "dataset", string? metadata = null, string? user = "ana") =>
        await Acting.As(user, async () => await _artifacts.RegisterAsync(new ArtifactRegistration(null, name, type, metadata, await Upload(text))));

    private static async Task<LineageException> Fails(ErrorCode code, Func<Task> action)
    {
        var ex = await Assert.ThrowsAnyAsync<LineageException>(action);
        Assert.Equal(code, ex.Code);
        return ex;
    }

    [Fact]
    public async Task versions_count_from_one_per_name_and_latest_follows()
    {
        var v1 = await Register("sales", "a,b\n1,2\n", metadata: """{"rows": 1}""");
        var v2 = await Register("sales", "a,b\n1,2\n3,4\n", metadata: """{"rows": 2}""");
        var other = await Register("other", "x");
        Assert.Equal((1, 2, 1), (v1.Version, v2.Version, other.Version));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("a,b\n1,2\n"))), v1.Digest);
        Assert.Equal(8, v1.Size);
        Assert.Equal("ana", v1.CreatedBy);
        Assert.Equal(2, (await _artifacts.GetAsync(null, "sales", ArtifactRules.Ref("latest"))).Version);
        Assert.Equal(1, (await _artifacts.GetAsync(null, "sales", ArtifactRules.Ref("1"))).Version);
        Assert.Equal(v2.Id, (await _artifacts.GetByIdAsync(v2.Id)).Id);
        Assert.Equal("""{"rows":2}""", v2.Metadata);
    }

    [Fact]
    public async Task a_miss_names_what_was_asked_and_what_exists()
    {
        await Register("sales-features", "1");
        await Register("sales-features", "2");
        await Register("sales-features", "3");
        var ex = await Fails(ErrorCode.ResourceDoesNotExist, () => _artifacts.GetAsync(null, "sales-features", ArtifactRules.Ref("7")));
        Assert.Equal("version 7 of 'sales-features' not found; latest is 3", ex.Message);
        ex = await Fails(ErrorCode.ResourceDoesNotExist, () => _artifacts.GetAsync(null, "sales-features", ArtifactRules.Ref("production")));
        Assert.Contains("alias 'production'", ex.Message);
        ex = await Fails(ErrorCode.ResourceDoesNotExist, () => _artifacts.GetAsync(null, "nope", ArtifactRules.Ref("latest")));
        Assert.Contains("'nope'", ex.Message);
    }

    [Fact]
    public async Task identical_content_is_stored_once_across_versions_and_artifacts()
    {
        var a = await Register("a", "same bytes");
        var b = await Register("b", "same bytes");
        var c = await Register("a", "same bytes");
        Assert.Equal(a.Digest, b.Digest);
        Assert.Equal(a.Digest, c.Digest);
        Assert.Single(await _blobs.ListAsync().ToListAsync());
    }

    [Fact]
    public async Task aliases_move_atomically_keep_history_and_protect_their_version()
    {
        await Register("model", "v1");
        await Register("model", "v2");
        await Acting.As("ana", () => _artifacts.SetAliasAsync(null, "model", "production", 1));
        Assert.Equal(1, (await _artifacts.GetAsync(null, "model", ArtifactRules.Ref("production"))).Version);
        var moved = await Acting.As("bo", () => _artifacts.SetAliasAsync(null, "model", "production", 2));
        Assert.Equal(["production"], moved.Aliases);
        Assert.Empty((await _artifacts.GetAsync(null, "model", ArtifactRules.Ref("1"))).Aliases);
        await Fails(ErrorCode.Conflict, () => Acting.As("ana", () => _artifacts.DeleteVersionAsync(null, "model", 2)));
        await Acting.As("cy", () => _artifacts.DeleteAliasAsync(null, "model", "production"));
        var history = await _artifacts.AliasHistoryAsync(null, "model", "production");
        Assert.Equal(new (long?, string?)[] { (1, "ana"), (2, "bo"), (null, "cy") }, history.Select(h => (h.Version, h.ChangedBy)).ToArray());
        await Fails(ErrorCode.InvalidParameterValue, () => _artifacts.SetAliasAsync(null, "model", "latest", 1));
        await Fails(ErrorCode.ResourceDoesNotExist, () => _artifacts.SetAliasAsync(null, "model", "champion", 9));
    }

    [Fact]
    public async Task content_and_metadata_never_change_but_descriptions_and_tags_are_edited_with_history()
    {
        var v = await Register("report", "r1", "report", """{"pages": 3}""");
        await Acting.As("ana", () => _artifacts.SetDescriptionAsync(null, "report", 1, "first draft"));
        await Acting.As("bo", () => _artifacts.SetTagAsync(null, "report", 1, "reviewed", "yes"));
        var edited = await Acting.As("cy", () => _artifacts.DeleteTagAsync(null, "report", 1, "reviewed"));
        Assert.Equal("first draft", edited.Description);
        Assert.Empty(edited.Tags);
        Assert.Equal(v.Digest, edited.Digest);
        Assert.Equal(v.Metadata, edited.Metadata);
        var edits = await _artifacts.EditsAsync(null, "report", 1);
        Assert.Equal(["description:ana", "tags.reviewed:bo", "tags.reviewed:cy"], edits.Select(e => $"{e.Field}:{e.EditedBy}"));
        Assert.Equal("yes", edits[2].OldValue);
        Assert.Null(edits[2].NewValue);
    }

    [Fact]
    public async Task soft_deleted_versions_leave_latest_and_can_be_restored()
    {
        await Register("d", "1");
        await Register("d", "2");
        await Acting.As("ana", () => _artifacts.DeleteVersionAsync(null, "d", 2));
        Assert.Equal(1, (await _artifacts.GetAsync(null, "d", ArtifactRules.Ref("latest"))).Version);
        Assert.Equal(VersionLifecycle.Deleted, (await _artifacts.GetAsync(null, "d", ArtifactRules.Ref("2"))).Lifecycle);
        Assert.Single((await _artifacts.ListAsync(new ArtifactQuery(Name: "d"))).Items);
        await Acting.As("ana", () => _artifacts.RestoreVersionAsync(null, "d", 2));
        Assert.Equal(2, (await _artifacts.GetAsync(null, "d", ArtifactRules.Ref("latest"))).Version);
        Assert.Equal(3, (await Register("d", "3")).Version);
    }

    [Fact]
    public async Task listings_filter_by_type_and_metadata()
    {
        await Register("m1", "1", "model", """{"framework":"torch","layers":12,"final":true}""");
        await Register("m2", "2", "model", """{"framework":"sklearn","layers":1}""");
        await Register("d1", "3", "dataset", """{"framework":"torch"}""");
        var models = await _artifacts.ListAsync(new ArtifactQuery(Type: "model"));
        Assert.Equal(["m2", "m1"], models.Items.Select(v => v.Name));
        var torch = await _artifacts.ListAsync(new ArtifactQuery(Type: "model", Metadata: new Dictionary<string, string> { ["framework"] = "torch" }));
        Assert.Equal("m1", Assert.Single(torch.Items).Name);
        var deep = await _artifacts.ListAsync(new ArtifactQuery(Metadata: new Dictionary<string, string> { ["layers"] = "12", ["final"] = "true" }));
        Assert.Equal("m1", Assert.Single(deep.Items).Name);
        var page1 = await _artifacts.ListAsync(new ArtifactQuery(Limit: 2));
        var page2 = await _artifacts.ListAsync(new ArtifactQuery(Limit: 2, PageToken: page1.NextPageToken));
        Assert.Equal(3, page1.Items.Concat(page2.Items).Select(v => v.Id).Distinct().Count());
        Assert.Null(page2.NextPageToken);
    }

    [Fact]
    public async Task directories_have_a_manifest_and_a_digest_of_their_tree()
    {
        var a = await Upload("weights");
        var b = await Upload("config");
        var files = new[] { new ManifestEntry("model/weights.bin", a.Digest, a.Size), new ManifestEntry("model/config.json", b.Digest, b.Size) };
        var v = await _artifacts.RegisterAsync(new ArtifactRegistration(null, "bert", "model", null, new ArtifactContent.Directory(files)));
        Assert.Equal(ArtifactKind.Directory, v.Kind);
        Assert.Equal(2, v.FileCount);
        Assert.Equal(a.Size + b.Size, v.Size);
        Assert.Equal(Manifests.Digest(files), v.Digest);
        Assert.Equal(["model/config.json", "model/weights.bin"], (await _artifacts.ManifestAsync(v.Id)).Select(f => f.Path));
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("a\\b")]
    [InlineData("a//b")]
    public async Task directory_paths_that_leave_the_directory_are_rejected_and_nothing_is_registered(string path)
    {
        var a = await Upload("x");
        var ex = await Fails(ErrorCode.InvalidParameterValue, () => _artifacts.RegisterAsync(new ArtifactRegistration(null, "evil", "model", null,
            new ArtifactContent.Directory([new ManifestEntry("ok.txt", a.Digest, a.Size), new ManifestEntry(path, a.Digest, a.Size)]))));
        Assert.Equal("files[1].path", ex.Field);
        await Fails(ErrorCode.ResourceDoesNotExist, () => _artifacts.GetAsync(null, "evil", ArtifactRules.Ref("latest")));
    }

    [Fact]
    public async Task registering_content_that_was_never_uploaded_or_a_wrong_size_is_rejected()
    {
        var ghost = new string('a', 64);
        await Fails(ErrorCode.InvalidParameterValue, () => _artifacts.RegisterAsync(new ArtifactRegistration(null, "g", "model", null, new ArtifactContent.File(ghost, 3))));
        var real = await Upload("abc");
        await Fails(ErrorCode.InvalidParameterValue, () => _artifacts.RegisterAsync(new ArtifactRegistration(null, "g", "model", null, new ArtifactContent.File(real.Digest, 99))));
        await Fails(ErrorCode.InvalidParameterValue, () => _artifacts.RegisterAsync(new ArtifactRegistration(null, "g", "model", "[1,2]", real)));
        await Fails(ErrorCode.InvalidParameterValue, () => _artifacts.RegisterAsync(new ArtifactRegistration(null, "bad name!", "model", null, real)));
        await Fails(ErrorCode.InvalidParameterValue, () => _artifacts.RegisterAsync(new ArtifactRegistration(null, "g", "Model", null, real)));
        // Nothing above took a version number.
        Assert.Equal(1, (await _artifacts.RegisterAsync(new ArtifactRegistration(null, "g", "model", null, real))).Version);
    }

    [Fact]
    public async Task external_references_record_uri_and_vouched_digest()
    {
        var digest = new string('b', 64);
        var v = await _artifacts.RegisterAsync(new ArtifactRegistration(null, "lake", "dataset", null,
            new ArtifactContent.External("s3://lake/sales/2026/11/", digest, 5_000_000_000)));
        Assert.Equal(ArtifactKind.External, v.Kind);
        Assert.Equal("s3://lake/sales/2026/11/", v.ExternalUri);
        Assert.Equal(digest, v.Digest);
        await Fails(ErrorCode.InvalidParameterValue, () => _artifacts.RegisterAsync(new ArtifactRegistration(null, "lake", "dataset", null,
            new ArtifactContent.External("not a uri", digest, 1))));
    }

    [Fact]
    public async Task registering_from_a_run_records_the_run_as_producer()
    {
        var run = await Store.CreateRunAsync(0);
        var v = await _artifacts.RegisterAsync(new ArtifactRegistration(null, "out", "model", null, await Upload("w"), RunId: run.Info.RunId));
        Assert.Equal(run.Info.RunId, v.ProducerRunId);
    }

    [Fact]
    public async Task concurrent_registrations_of_one_name_get_versions_one_to_n_without_gaps()
    {
        var content = await Upload("shared");
        var versions = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(async () =>
            (await _artifacts.RegisterAsync(new ArtifactRegistration(null, "hot", "dataset", null, content))).Version)));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), versions.Order());
    }

    [Fact]
    public async Task gc_applies_retention_spares_aliases_purges_old_deletes_and_frees_unreferenced_blobs()
    {
        for (var i = 1; i <= 5; i++) await Register("daily", $"day {i}");
        await Acting.As("ana", () => _artifacts.SetAliasAsync(null, "daily", "golden", 1));
        await _maintenance.SetPolicyAsync(null, "name", "daily", keepLast: 2, keepDays: null);
        var orphan = await _blobs.PutAsync(new MemoryStream("never registered"u8.ToArray()));

        var dry = await _maintenance.CollectAsync(new GcOptions(DryRun: true, UploadGrace: TimeSpan.Zero));
        Assert.Equal([2L, 3L], dry.RetentionDeleted.Select(v => v.Version).Order());
        Assert.Contains(dry.FreedBlobs, b => b.Digest == orphan.Digest);
        Assert.Equal(5, (await _artifacts.ListAsync(new ArtifactQuery(Name: "daily"))).Items.Count); // dry run changed nothing
        Assert.NotNull(await _blobs.SizeOfAsync(orphan.Digest));

        var first = await _maintenance.CollectAsync(new GcOptions(UploadGrace: TimeSpan.Zero));
        Assert.Equal([2L, 3L], first.RetentionDeleted.Select(v => v.Version).Order());
        Assert.Null(await _blobs.SizeOfAsync(orphan.Digest));
        Assert.Equal([1L, 4L, 5L], (await _artifacts.ListAsync(new ArtifactQuery(Name: "daily"))).Items.Select(v => v.Version).Order());
        Assert.Contains((await _artifacts.EditsAsync(null, "daily", 2)), e => e.EditedBy!.StartsWith(ArtifactMaintenance.GcUser));

        // Deleted versions keep their content until the purge delay has passed.
        var v2 = await _artifacts.GetAsync(null, "daily", ArtifactRules.Ref("2"));
        Assert.NotNull(await _blobs.SizeOfAsync(v2.Digest));
        var purge = await _maintenance.CollectAsync(new GcOptions(PurgeAfter: TimeSpan.Zero, UploadGrace: TimeSpan.Zero));
        Assert.Equal([2L, 3L], purge.Purged.Select(v => v.Version).Order());
        Assert.Null(await _blobs.SizeOfAsync(v2.Digest));
        Assert.Equal(VersionLifecycle.Purged, (await _artifacts.GetAsync(null, "daily", ArtifactRules.Ref("2"))).Lifecycle);
        await Fails(ErrorCode.InvalidParameterValue, () => _artifacts.RestoreVersionAsync(null, "daily", 2));
        Assert.NotNull(await _blobs.SizeOfAsync((await _artifacts.GetAsync(null, "daily", ArtifactRules.Ref("golden"))).Digest));
    }

    [Fact]
    public async Task verify_finds_corrupt_and_missing_blobs_and_stats_compare_metadata_with_content()
    {
        var good = await Register("ok", "fine");
        var bad = await Register("bad", "will rot");
        var gone = await Register("gone", "will vanish");
        var shrunk = await Register("shrunk", "will shrink");
        await OverwriteBlobAsync(_blobs, bad.Digest, "rotten!!"u8.ToArray()); // same size: only re-hashing finds it
        await OverwriteBlobAsync(_blobs, shrunk.Digest, "short"u8.ToArray());
        await _blobs.DeleteAsync(gone.Digest);

        // Existence and size come from one listing; only a deep check reads every byte (the default on an object store).
        var shallow = await _maintenance.VerifyAsync(deep: false);
        Assert.Equal(3, shallow.BlobsChecked);
        Assert.Contains(shallow.Problems, p => p.Digest == shrunk.Digest && p.Problem.StartsWith("corrupt: 5 bytes stored") && p.UsedBy.Single() == "shrunk v1");
        Assert.Contains(shallow.Problems, p => p.Digest == gone.Digest && p.Problem == "missing");
        Assert.DoesNotContain(shallow.Problems, p => p.Digest == bad.Digest);
        await OverwriteBlobAsync(_blobs, shrunk.Digest, "will shrink"u8.ToArray());

        var report = await _maintenance.VerifyAsync(deep: true);
        Assert.Equal(3, report.BlobsChecked);
        Assert.Contains(report.Problems, p => p.Digest == bad.Digest && p.Problem.StartsWith("corrupt") && p.UsedBy.Single() == "bad v1");
        Assert.Contains(report.Problems, p => p.Digest == gone.Digest && p.Problem == "missing");
        Assert.DoesNotContain(report.Problems, p => p.Digest == good.Digest);

        var stats = await _maintenance.StatsAsync();
        Assert.True(stats.MetadataBytes > 0);
        Assert.Equal(3, stats.Blobs);
        Assert.Equal(4, stats.Versions);
    }
}

public sealed class ArtifactStoreSqliteTests : ArtifactStoreContract
{
    protected override string NewTarget(TempDir dir) => dir.File($"art-{Guid.NewGuid():N}.db");
}

public sealed class ArtifactStorePostgresTests : ArtifactStoreContract
{
    protected override string NewTarget(TempDir dir) => PostgresTarget.CreateDatabase();
}

/// <summary>The artifact contract with the content in a bucket of the test S3 server (issue 13).</summary>
public sealed class S3ArtifactStoreSqliteTests : ArtifactStoreContract
{
    protected override string NewTarget(TempDir dir) => dir.File($"art-{Guid.NewGuid():N}.db");

    protected override async Task<IBlobStore> NewBlobStoreAsync() => await BlobStores.OpenAsync(await S3Target.CreateBucketAsync(), S3Target.Endpoint);

    protected override async Task OverwriteBlobAsync(IBlobStore blobs, string digest, byte[] content)
    {
        using var s3 = S3Target.Client();
        var store = (S3BlobStore)blobs;
        await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest
        {
            BucketName = store.Settings.Bucket, Key = store.KeyOf(digest), InputStream = new MemoryStream(content), UseChunkEncoding = false,
        });
    }
}
