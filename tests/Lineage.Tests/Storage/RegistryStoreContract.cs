using System.Text;
using System.Text.Json.Nodes;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Lineage;
using Lineage.Core.Registry;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Storage.Lineage;
using Lineage.Storage.Registry;
using Lineage.Tests.Support;

namespace Lineage.Tests.Storage;

/// <summary>Model registry, deployments, datasets and features on each database: typed views over artifacts and the graph.</summary>
public abstract class RegistryStoreContract : StoreTestBase
{
    private LocalFolderBlobStore _blobs = null!;
    private ArtifactStore _artifacts = null!;
    private ArtifactMaintenance _maintenance = null!;
    private LineageStore _lineage = null!;
    private RegistryStore _registry = null!;
    private DeploymentStore _deployments = null!;
    private DatasetStore _datasets = null!;
    private FeatureStore _features = null!;
    private ManifestBuilder _manifests = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _blobs = new LocalFolderBlobStore(Dir.File("blobs"));
        _artifacts = new ArtifactStore(Db, _blobs);
        _maintenance = new ArtifactMaintenance(Db, _blobs);
        _lineage = new LineageStore(Db);
        _registry = new RegistryStore(Db);
        _deployments = new DeploymentStore(Db);
        _datasets = new DatasetStore(Db);
        _features = new FeatureStore(Db);
        _manifests = new ManifestBuilder(Db, _blobs);
    }

    private async Task<ArtifactVersion> Register(string name, string type, string? runId = null, string? text = null)
    {
        var blob = await _blobs.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes(text ?? name + Guid.NewGuid())));
        return await _artifacts.RegisterAsync(new ArtifactRegistration(null, name, type, null, new ArtifactContent.File(blob.Digest, blob.Size), RunId: runId));
    }

    private static ArtifactPointer Art(ArtifactVersion a) => new(a.Id, null, null, default, "artifact");

    private Task<ModelVersion> Version(string model, ArtifactVersion artifact, IReadOnlyDictionary<string, string>? tags = null,
        ModelVersionStatus status = ModelVersionStatus.Ready) =>
        Acting.As("ana", () => _registry.CreateVersionAsync(new ModelVersionRegistration(null, model, Art(artifact), null, Tags: tags, Status: status)));

    private static async Task<LineageException> Fails(ErrorCode code, Func<Task> action)
    {
        var ex = await Assert.ThrowsAnyAsync<LineageException>(action);
        Assert.Equal(code, ex.Code);
        return ex;
    }

    [Fact]
    public async Task versions_number_from_one_per_model_and_keep_the_producing_run_and_its_artifact()
    {
        var run = await Store.CreateRunAsync(0, "train");
        var weights = await Register("churn-weights", "model", run.Info.RunId);
        await Acting.As("ana", () => _registry.CreateModelAsync(null, "churn", "churn classifier", new Dictionary<string, string> { ["team"] = "growth" }, null));
        await Acting.As("ana", () => _registry.CreateModelAsync(null, "other", null, null, null));
        var v1 = await Version("churn", weights);
        var v2 = await Version("churn", weights);
        var o1 = await Version("other", weights);
        Assert.Equal((1L, 2L, 1L), (v1.Version, v2.Version, o1.Version));
        Assert.Equal(run.Info.RunId, v1.RunId);
        Assert.Equal(weights.Id, v1.Artifact.Id);
        Assert.Equal(ModelVersionStatus.Ready, v1.Status);
        Assert.Equal(ModelStage.None, v1.Stage);
        var model = await _registry.GetModelAsync(null, "churn");
        Assert.Equal(2, model.LatestVersion);
        Assert.Equal("growth", model.Tags["team"]);
        Assert.Equal(2, (await _registry.GetVersionAsync(null, "churn", ArtifactRules.Ref("latest"))).Version);

        // The run's lineage is the model version's lineage: upstream of its artifact is the run.
        var provenance = await _lineage.ProvenanceAsync(v1.Artifact.Id);
        Assert.Contains(provenance.Executions, e => e.RunId == run.Info.RunId);
    }

    [Fact]
    public async Task a_model_version_from_a_run_must_use_an_artifact_that_run_produced()
    {
        var producer = await Store.CreateRunAsync(0, "producer");
        var stranger = await Store.CreateRunAsync(0, "stranger");
        var weights = await Register("w", "model", producer.Info.RunId);
        await _registry.CreateModelAsync(null, "m", null, null, null);
        var ex = await Fails(ErrorCode.InvalidParameterValue, () => _registry.CreateVersionAsync(
            new ModelVersionRegistration(null, "m", Art(weights), stranger.Info.RunId)));
        Assert.Equal("runId", ex.Field);
        Assert.Equal(0, (await _registry.GetModelAsync(null, "m")).LatestVersion);
        await Register("w", "model", stranger.Info.RunId); // v2, by another run: "the run's artifact" is still v1
        var byName = await _registry.CreateVersionAsync(new ModelVersionRegistration(null, "m",
            new ArtifactPointer(null, null, "w", ArtifactRules.Ref("latest"), "artifact"), producer.Info.RunId));
        Assert.Equal((producer.Info.RunId, weights.Id), (byName.RunId, byName.Artifact.Id));
        await Fails(ErrorCode.ResourceDoesNotExist, () => _registry.CreateVersionAsync(new ModelVersionRegistration(null, "m",
            new ArtifactPointer(null, null, "other", ArtifactRules.Ref("latest"), "artifact"), producer.Info.RunId)));
    }

    [Fact]
    public async Task a_model_version_takes_its_artifact_from_the_models_project_only()
    {
        await Store.CreateProjectAsync("vision", null);
        var blob = await _blobs.PutAsync(new MemoryStream("vision weights"u8.ToArray()));
        await _artifacts.RegisterAsync(new ArtifactRegistration("vision", "resnet", "model", null, new ArtifactContent.File(blob.Digest, blob.Size)));
        var local = await Register("resnet", "model");
        await _registry.CreateModelAsync("vision", "classifier", null, null, null);
        var byName = await _registry.CreateVersionAsync(new ModelVersionRegistration("vision", "classifier",
            new ArtifactPointer(null, null, "resnet", ArtifactRules.Ref("1"), "artifact"), null));
        Assert.Equal("vision", byName.Artifact.Project);
        var ex = await Fails(ErrorCode.InvalidParameterValue, () => _registry.CreateVersionAsync(new ModelVersionRegistration("vision", "classifier",
            Art(local), null)));
        Assert.Contains("project 'default'", ex.Message);
        Assert.Equal(1, (await _registry.GetModelAsync("vision", "classifier")).LatestVersion);
    }

    [Fact]
    public async Task concurrent_registrations_of_one_model_get_versions_one_to_n_without_gaps()
    {
        var weights = await Register("w", "model");
        await _registry.CreateModelAsync(null, "hot", null, null, null);
        var versions = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => Task.Run(async () => (await Version("hot", weights)).Version)));
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), versions.Order());
    }

    [Fact]
    public async Task names_are_unique_and_misses_are_404s_that_name_what_exists()
    {
        await _registry.CreateModelAsync(null, "m", null, null, null);
        await Fails(ErrorCode.ResourceAlreadyExists, () => _registry.CreateModelAsync(null, "m", null, null, null));
        await Version("m", await Register("w", "model"));
        var ex = await Fails(ErrorCode.ResourceDoesNotExist, () => _registry.GetVersionAsync(null, "m", ArtifactRules.Ref("7")));
        Assert.Equal("version 7 of registered model 'm' not found; latest is 1", ex.Message);
        ex = await Fails(ErrorCode.ResourceDoesNotExist, () => _registry.GetVersionAsync(null, "m", ArtifactRules.Ref("champion")));
        Assert.Contains("alias 'champion'", ex.Message);
        await Fails(ErrorCode.ResourceDoesNotExist, () => _registry.GetModelAsync(null, "nope"));
        await Fails(ErrorCode.ResourceDoesNotExist, () => _registry.SetAliasAsync(null, "m", "champion", 9));
    }

    [Fact]
    public async Task aliases_move_atomically_one_per_model_and_every_move_is_in_the_history()
    {
        var weights = await Register("w", "model");
        await _registry.CreateModelAsync(null, "m", null, null, null);
        for (var i = 0; i < 3; i++) await Version("m", weights);
        await Acting.As("ana", () => _registry.SetAliasAsync(null, "m", "champion", 1));
        var moved = await Acting.As("bo", () => _registry.SetAliasAsync(null, "m", "champion", 2));
        Assert.Equal(["champion"], moved.Aliases);
        Assert.Empty((await _registry.GetVersionAsync(null, "m", ArtifactRules.Ref("1"))).Aliases);
        Assert.Equal(2, (await _registry.GetModelAsync(null, "m")).Aliases["champion"]);
        await Acting.As("cy", () => _registry.DeleteAliasAsync(null, "m", "champion"));
        var history = await _registry.HistoryAsync(null, "m", "alias", "champion");
        Assert.Equal(new (string?, string?, string?)[] { (null, "1", "ana"), ("1", "2", "bo"), ("2", null, "cy") },
            history.Select(h => (h.OldValue, h.NewValue, h.ChangedBy)).ToArray());
        await Fails(ErrorCode.InvalidParameterValue, () => _registry.SetAliasAsync(null, "m", "latest", 1));
    }

    [Fact]
    public async Task concurrent_alias_moves_last_committed_wins_and_all_are_in_the_history()
    {
        var weights = await Register("w", "model");
        await _registry.CreateModelAsync(null, "m", null, null, null);
        for (var i = 0; i < 8; i++) await Version("m", weights);
        await Task.WhenAll(Enumerable.Range(1, 8).Select(v => Task.Run(() => Acting.As($"user{v}", () => _registry.SetAliasAsync(null, "m", "prod", v)))));
        var history = await _registry.HistoryAsync(null, "m", "alias", "prod");
        Assert.Equal(8, history.Count);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => i.ToString()), history.Select(h => h.NewValue!).Order());
        // Each move saw the one before it, and the alias ends where the last committed move put it.
        for (var i = 1; i < history.Count; i++) Assert.Equal(history[i - 1].NewValue, history[i].OldValue);
        Assert.Equal(long.Parse(history[^1].NewValue!), (await _registry.GetModelAsync(null, "m")).Aliases["prod"]);
    }

    [Fact]
    public async Task a_stage_move_with_archive_existing_archives_the_previous_production_version_and_records_both()
    {
        var weights = await Register("w", "model");
        await _registry.CreateModelAsync(null, "m", null, null, null);
        await Version("m", weights);
        await Version("m", weights);
        await Acting.As("ana", () => _registry.TransitionStageAsync(null, "m", 1, ModelStage.Production, false));
        var v2 = await Acting.As("bo", () => _registry.TransitionStageAsync(null, "m", 2, ModelStage.Production, true));
        Assert.Equal(ModelStage.Production, v2.Stage);
        Assert.Equal(ModelStage.Archived, (await _registry.GetVersionAsync(null, "m", ArtifactRules.Ref("1"))).Stage);
        var history = await _registry.HistoryAsync(null, "m", "stage");
        Assert.Equal(new (long?, string?, string?)[] { (1, "None", "Production"), (1, "Production", "Archived"), (2, "None", "Production") },
            history.Select(h => (h.Version, h.OldValue, h.NewValue)).ToArray());
        var searched = await _registry.SearchVersionsAsync(new ModelVersionQuery(Model: "m", Stage: ModelStage.Archived));
        Assert.Equal([1L], searched.Items.Select(v => v.Version));
    }

    [Fact]
    public async Task promoting_a_version_that_is_not_ready_is_a_400_and_changes_nothing()
    {
        var weights = await Register("w", "model");
        await _registry.CreateModelAsync(null, "m", null, null, null);
        await Version("m", weights, status: ModelVersionStatus.PendingRegistration);
        var ex = await Fails(ErrorCode.InvalidParameterValue, () => Acting.As("ana", () => _registry.SetAliasAsync(null, "m", "champion", 1)));
        Assert.Contains("PENDING_REGISTRATION", ex.Message);
        await Fails(ErrorCode.InvalidParameterValue, () => Acting.As("ana", () => _registry.TransitionStageAsync(null, "m", 1, ModelStage.Staging, false)));
        await Fails(ErrorCode.InvalidParameterValue, () => Acting.As("ana", () => _registry.RequestPromotionAsync(null, "m", 1, "stage", "Production", false, null)));
        await Fails(ErrorCode.InvalidParameterValue, () => Acting.As("ana", () => _deployments.DeployAsync(new DeploymentRequest(null, "prod", "m", 1, null, null))));
        Assert.Empty(await _registry.HistoryAsync(null, "m"));
        Assert.Empty((await _registry.GetModelAsync(null, "m")).Aliases);

        await _registry.UpdateVersionAsync(null, "m", 1, null, ModelVersionStatus.Ready, null);
        Assert.Equal(["champion"], (await Acting.As("ana", () => _registry.SetAliasAsync(null, "m", "champion", 1))).Aliases);
        await Fails(ErrorCode.InvalidParameterValue, () => _registry.UpdateVersionAsync(null, "m", 1, null, ModelVersionStatus.PendingRegistration, null));
    }

    [Fact]
    public async Task with_approvers_only_they_promote_and_requests_are_approved_or_rejected_once()
    {
        var weights = await Register("w", "model");
        await Acting.As("ana", () => _registry.CreateModelAsync(null, "m", null, null, ["carol"]));
        await Version("m", weights);
        await Version("m", weights);

        // Without the approver role: 403 and nothing changes.
        await Fails(ErrorCode.PermissionDenied, () => Acting.As("mallory", () => _registry.SetAliasAsync(null, "m", "champion", 1)));
        await Fails(ErrorCode.PermissionDenied, () => _registry.TransitionStageAsync(null, "m", 1, ModelStage.Production, false));
        await Fails(ErrorCode.PermissionDenied, () => Acting.As("mallory", () => _registry.SetApproversAsync(null, "m", ["mallory"])));
        Assert.Empty(await _registry.HistoryAsync(null, "m"));

        var toProd = await Acting.As("ana", () => _registry.RequestPromotionAsync(null, "m", 1, "stage", "production", true, "ship it"));
        var toAlias = await Acting.As("ana", () => _registry.RequestPromotionAsync(null, "m", 2, "alias", "champion", false, null));
        Assert.Equal(PromotionStatus.Pending, toProd.Status);
        Assert.Equal("Production", toProd.Target);
        Assert.Equal([toAlias.Id, toProd.Id], (await _registry.ListPromotionsAsync(null, "m", PromotionStatus.Pending)).Items.Select(p => p.Id));

        await Fails(ErrorCode.PermissionDenied, () => Acting.As("ana", () => _registry.DecidePromotionAsync(toProd.Id, true, null)));
        var approved = await Acting.As("carol", () => _registry.DecidePromotionAsync(toProd.Id, true, "ok"));
        Assert.Equal((PromotionStatus.Approved, "carol"), (approved.Status, approved.DecidedBy));
        Assert.Equal(ModelStage.Production, (await _registry.GetVersionAsync(null, "m", ArtifactRules.Ref("1"))).Stage);
        var rejected = await Acting.As("carol", () => _registry.DecidePromotionAsync(toAlias.Id, false, "not yet"));
        Assert.Equal(PromotionStatus.Rejected, rejected.Status);
        Assert.Empty((await _registry.GetModelAsync(null, "m")).Aliases);
        await Fails(ErrorCode.Conflict, () => Acting.As("carol", () => _registry.DecidePromotionAsync(toAlias.Id, true, null)));
        await Fails(ErrorCode.ResourceDoesNotExist, () => Acting.As("carol", () => _registry.DecidePromotionAsync(999, true, null)));

        var history = await _registry.HistoryAsync(null, "m");
        Assert.Equal(toProd.Id, Assert.Single(history).RequestId);
        Assert.Empty((await _registry.ListPromotionsAsync(null, "m", PromotionStatus.Pending)).Items);
        Assert.Equal(["champion"], (await Acting.As("carol", () => _registry.SetAliasAsync(null, "m", "champion", 2))).Aliases);
    }

    [Fact]
    public async Task search_across_models_matches_every_tag_filter_newest_first_in_pages()
    {
        var weights = await Register("w", "model");
        await _registry.CreateModelAsync(null, "a", null, null, null);
        await _registry.CreateModelAsync(null, "b", null, null, null);
        for (var i = 0; i < 12; i++)
            await Version(i % 2 == 0 ? "a" : "b", weights, new Dictionary<string, string>
            {
                ["team"] = i % 3 == 0 ? "search" : "ads", ["framework"] = i % 2 == 0 ? "sklearn" : "torch", ["region"] = i < 6 ? "eu" : "us",
            });
        var tags = new Dictionary<string, string> { ["team"] = "search", ["framework"] = "sklearn", ["region"] = "us" }; // i = 6
        var hit = Assert.Single((await _registry.SearchVersionsAsync(new ModelVersionQuery(Tags: tags))).Items);
        Assert.Equal(("a", 4L), (hit.Model, hit.Version));
        var first = await _registry.SearchVersionsAsync(new ModelVersionQuery(Tags: new Dictionary<string, string> { ["team"] = "ads" }, Limit: 5));
        Assert.Equal(5, first.Items.Count);
        var second = await _registry.SearchVersionsAsync(new ModelVersionQuery(Tags: new Dictionary<string, string> { ["team"] = "ads" }, Limit: 5,
            PageToken: first.NextPageToken));
        Assert.Equal(3, second.Items.Count);
        Assert.Null(second.NextPageToken);
        Assert.True(first.Items[0].Id > first.Items[^1].Id);
    }

    [Fact]
    public async Task declared_input_features_must_match_the_feature_set_by_name_dtype_and_shape()
    {
        var raw = await Register("houses", "dataset");
        var set = await Acting.As("ana", () => _features.RegisterAsync(new FeatureSetRegistration(null, "house-features", null,
        [
            new FeatureDefinition("size", "float", [], "living area", "size", "ana"),
            new FeatureDefinition("embedding", "float", [8], null, "encoder(location)", "ana"),
        ], [new ArtifactPointer(raw.Id, null, null, default, "derivedFrom[0]")], null)));
        Assert.Equal("feature_set", set.Artifact.Type);
        Assert.Equal([raw.Id], set.DerivedFrom.Select(a => a.Id));
        var weights = await Register("w", "model");
        await _registry.CreateModelAsync(null, "m", null, null, null);
        ModelVersionRegistration With(params FeatureSpec[] inputs) =>
            new(null, "m", Art(weights), null, FeatureSet: new ArtifactPointer(set.Artifact.Id, null, null, default, "featureSet"), InputFeatures: inputs);

        var ex = await Fails(ErrorCode.InvalidParameterValue, () => _registry.CreateVersionAsync(With(new FeatureSpec("size", "int", []))));
        Assert.Equal("inputFeatures[0].dtype", ex.Field);
        Assert.Contains("declared int but feature set house-features@1 defines it as float", ex.Message);
        ex = await Fails(ErrorCode.InvalidParameterValue, () => _registry.CreateVersionAsync(With(new FeatureSpec("embedding", "float", [16]))));
        Assert.Equal("inputFeatures[0].shape", ex.Field);
        ex = await Fails(ErrorCode.InvalidParameterValue, () => _registry.CreateVersionAsync(With(new FeatureSpec("bedrooms", "int", []))));
        Assert.Equal("inputFeatures[0].name", ex.Field);
        Assert.Equal(0, (await _registry.GetModelAsync(null, "m")).LatestVersion);

        var ok = await _registry.CreateVersionAsync(With(new FeatureSpec("size", "float", []), new FeatureSpec("embedding", "float", [8])));
        Assert.Equal(set.Artifact.Id, ok.FeatureSet!.Id);
        Assert.Equal(2, ok.InputFeatures.Count);
        var usage = await _features.UsageAsync("embedding");
        Assert.Equal([set.Artifact.Id], usage.FeatureSets.Select(a => a.Id));
        Assert.Equal([("m", 1L)], usage.ModelVersions);
        // The feature set sits in the graph: the raw dataset's impact reaches it.
        Assert.Contains((await _lineage.ImpactAsync(raw.Id)).Artifacts, a => a.Id == set.Artifact.Id);
    }

    [Fact]
    public async Task deployments_move_through_their_states_roll_back_and_report_what_is_deployed_where()
    {
        var data = await Register("data", "dataset");
        var run = await Store.CreateRunAsync(0, "train");
        await _lineage.LogRunInputAsync(run.Info.RunId, data.Id, "training_data");
        var weights = await Register("w", "model", run.Info.RunId);
        await _registry.CreateModelAsync(null, "m", null, null, null);
        await Version("m", weights);
        await Version("m", weights);

        var ex = await Fails(ErrorCode.InvalidParameterValue, () => Acting.As("ana", () => _deployments.DeployAsync(new DeploymentRequest(null, null, "m", 1, null, null))));
        Assert.Equal("environment", ex.Field);
        var d1 = await Acting.As("ana", () => _deployments.DeployAsync(new DeploymentRequest(null, "prod", "m", 1, "https://m.example/v1", """{"replicas":2}""")));
        Assert.Equal(DeploymentStatus.Pending, d1.Status);
        await Acting.As("ops", () => _deployments.SetStatusAsync(d1.Id, DeploymentStatus.Healthy, null));
        await Fails(ErrorCode.Conflict, () => Acting.As("ops", () => _deployments.SetStatusAsync(d1.Id, DeploymentStatus.Pending, null)));

        var d2 = await Acting.As("ana", () => _deployments.DeployAsync(new DeploymentRequest(null, "prod", "m", 2, "https://m.example/v2", null)));
        Assert.Equal(DeploymentStatus.Retired, (await _deployments.GetAsync(d1.Id)).Status);
        await Acting.As("ops", () => _deployments.SetStatusAsync(d2.Id, DeploymentStatus.Failed, "crash loop"));
        var staging = await Acting.As("ana", () => _deployments.DeployAsync(new DeploymentRequest(null, "staging", "m", 2, null, null)));

        var back = await Acting.As("ops", () => _deployments.RollbackAsync(d2.Id, "v2 crashes"));
        Assert.Equal((1L, d2.Id, "https://m.example/v1"), (back.Version, back.RollbackOf!.Value, back.EndpointUrl));
        var retired = await _deployments.GetAsync(d2.Id);
        Assert.Equal(DeploymentStatus.Retired, retired.Status);
        Assert.Equal(["pending", "failed", "retired"], retired.Events.Select(e => RegistryRules.DeploymentText(e.Status)));
        Assert.Equal("ops", retired.Events[^1].Actor);
        await Fails(ErrorCode.Conflict, () => Acting.As("ops", () => _deployments.RollbackAsync(staging.Id, null)));
        await Acting.As("ops", () => _deployments.SetStatusAsync(back.Id, DeploymentStatus.Healthy, null));

        var live = await _deployments.ListAsync(null, null, null, null, liveOnly: true);
        Assert.Equal([("prod", 1L), ("staging", 2L)], live.Items.Select(d => (d.Environment, d.Version)));
        var history = await _deployments.ListAsync(null, "prod", null, null, liveOnly: false);
        Assert.Equal([back.Id, d2.Id, d1.Id], history.Items.Select(d => d.Id));
        var stats = (await _deployments.StatsAsync(null)).ToDictionary(s => s.Environment);
        Assert.Equal((3L, 2L, 1L, 1L), (stats["prod"].Deployments, stats["prod"].Succeeded, stats["prod"].Failed, stats["prod"].Rollbacks));
        Assert.Equal(2.0 / 3, stats["prod"].SuccessRate!.Value, 6);
        Assert.Null(stats["staging"].SuccessRate);

        // Deployments are executions in the graph: the training data's impact reaches them.
        var impact = await _lineage.ImpactAsync(data.Id);
        Assert.Equal(4, impact.Executions.Count(e => e.Type == "deployment"));
        Assert.Equal(ExecutionState.Complete, (await _lineage.GetExecutionAsync(back.ExecutionId!.Value)).State);
    }

    [Fact]
    public async Task dataset_facts_are_written_once_checked_against_a_declared_schema_and_diffed()
    {
        var schema = await Acting.As("ana", () => _datasets.CreateSchemaAsync(null, "houses", [new ColumnSpec("size", "float", false), new ColumnSpec("bedrooms", "int", true)]));
        Assert.Equal(1, schema.Version);
        await Register("houses", "dataset");
        await Register("houses", "dataset");
        var bad = new DatasetFactsInput("s3://raw/houses.csv", "s3", 1_700_000_000_000, "houses@1",
            [new ColumnSpec("size", "float", false), new ColumnSpec("bedrooms", "float", true)], 100, null);
        var ex = await Fails(ErrorCode.InvalidParameterValue, () => _datasets.SetFactsAsync(null, "houses", ArtifactRules.Ref("1"), bad));
        Assert.Equal("columns[1].dtype", ex.Field);
        Assert.Contains("schema houses@1 says int", ex.Message);
        ex = await Fails(ErrorCode.InvalidParameterValue, () => _datasets.SetFactsAsync(null, "houses", ArtifactRules.Ref("1"),
            bad with { Columns = [new ColumnSpec("size", "float", false)] }));
        Assert.Contains("'bedrooms'", ex.Message);
        Assert.Null((await _datasets.GetAsync(null, "houses", ArtifactRules.Ref("1"))).Facts);

        var good = bad with
        {
            Columns = [new ColumnSpec("size", "float", false), new ColumnSpec("bedrooms", "int", true)],
            Profile = new Dictionary<string, ColumnProfile> { ["bedrooms"] = new(0.2, 1, 7, 3.1, 7) },
        };
        var v1 = await _datasets.SetFactsAsync(null, "houses", ArtifactRules.Ref("1"), good);
        Assert.Equal((100L, "houses", 1L), (v1.Facts!.RowCount!.Value, v1.Facts.SchemaName!, v1.Facts.SchemaVersion!.Value));
        Assert.Equal(0.2, v1.Facts.Profile["bedrooms"].MissingPct);
        await Fails(ErrorCode.ResourceAlreadyExists, () => _datasets.SetFactsAsync(null, "houses", ArtifactRules.Ref("1"), good));
        await _datasets.SetFactsAsync(null, "houses", ArtifactRules.Ref("2"), good with
        {
            Schema = null, Profile = null,
            Columns = [new ColumnSpec("size", "double", false), new ColumnSpec("location", "str", true)],
        });
        var validated = await Acting.As("bot", () => _datasets.AddValidationsAsync(null, "houses", ArtifactRules.Ref("1"), [("missing_below_1pct", true, "0.2%")]));
        Assert.Equal(("missing_below_1pct", true), (validated.Validations[0].Name, validated.Validations[0].Passed));

        var diff = await _datasets.DiffAsync(null, "houses", ArtifactRules.Ref("1"), ArtifactRules.Ref("2"));
        Assert.Equal(["size:dtype_changed:float:double", "location:added::str (nullable)", "bedrooms:removed:int (nullable):"],
            diff.Changes.Select(c => $"{c.Column}:{c.Change}:{c.From}:{c.To}"));
        await Register("model-file", "model");
        await Fails(ErrorCode.InvalidParameterValue, () => _datasets.GetAsync(null, "model-file", ArtifactRules.Ref("1")));
    }

    [Fact]
    public async Task gc_and_deletion_keep_the_artifacts_of_registered_model_versions()
    {
        for (var i = 0; i < 3; i++) await Register("weights", "model");
        await _registry.CreateModelAsync(null, "m", null, null, null);
        await Version("m", await _artifacts.GetAsync(null, "weights", ArtifactRules.Ref("1")));
        var ex = await Fails(ErrorCode.Conflict, () => Acting.As("ana", () => _artifacts.DeleteVersionAsync(null, "weights", 1)));
        Assert.Contains("m v1", ex.Message);
        await _maintenance.SetPolicyAsync(null, "name", "weights", keepLast: 1, keepDays: null);
        var report = await _maintenance.CollectAsync(new GcOptions(UploadGrace: TimeSpan.Zero));
        Assert.Equal([2L], report.RetentionDeleted.Select(v => v.Version));
        var kept = await _artifacts.GetAsync(null, "weights", ArtifactRules.Ref("1"));
        Assert.Equal(VersionLifecycle.Active, kept.Lifecycle);
        Assert.NotNull(await _blobs.SizeOfAsync(kept.Digest));
    }

    [Fact]
    public async Task a_manifest_names_run_data_steps_and_registry_facts_and_verify_catches_a_corrupt_blob()
    {
        var raw = await Register("raw", "dataset", text: "raw rows");
        var clean = await Register("clean", "dataset", text: "clean rows");
        await _lineage.CreateExecutionAsync(null, "preprocessing", "impute", ExecutionState.Complete,
            """{"imputations":[{"column":"bedrooms","strategy":"median","value":3}]}""", [new EventInput(raw.Id, "raw")], [new EventInput(clean.Id, "clean")]);
        var run = await Store.CreateRunAsync(0, "train");
        await Store.LogBatchAsync(run.Info.RunId, new RunBatch([new MetricPoint("rmse", 0.5, 0, 1)],
            [new KeyValue("n_estimators", "100"), new KeyValue("random_seed", "42"), new KeyValue("criterion", "mse")], []));
        await _lineage.LogRunInputAsync(run.Info.RunId, clean.Id, "training_data");
        var weights = await Register("weights", "model", run.Info.RunId, "the weights");
        await _registry.CreateModelAsync(null, "m", null, null, null);
        await Version("m", weights);
        await Acting.As("ana", () => _registry.SetAliasAsync(null, "m", "champion", 1));

        var m = await _manifests.BuildAsync(null, "m", ArtifactRules.Ref("champion"));
        Assert.Equal("m-v1", (string?)m["model_id"]);
        Assert.Equal("raw@1", (string?)m["dataset_version"]);
        Assert.Equal("clean@1", (string?)m["trained_on"]);
        Assert.Equal(100L, (long)m["hyperparameters"]!["n_estimators"]!);
        Assert.Equal("mse", (string?)m["hyperparameters"]!["criterion"]);
        Assert.Equal(42L, (long)m["seeds"]!["random_seed"]!);
        Assert.Equal(0.5, (double)m["evaluation_metrics"]!["rmse"]!);
        Assert.Equal(3, (int)m["preprocessing_details"]!["imputations"]![0]!["value"]!);
        Assert.Equal(["preprocessing", "run"], m["steps"]!.AsArray().Select(s => (string)s!["type"]!));
        Assert.Equal(3, m["artifacts"]!.AsArray().Count);
        Assert.Equal("champion", (string?)m["registry"]!["history"]![0]!["name"]);

        var checks = await _manifests.VerifyAsync(m);
        Assert.All(checks, c => Assert.Equal("ok", c.Status));
        File.WriteAllText(BlobPath(clean.Digest), "tampered");
        checks = await _manifests.VerifyAsync(m);
        Assert.Equal("corrupt", checks.Single(c => c.Name == "clean").Status);
        var edited = (JsonObject)m.DeepClone();
        edited["artifacts"]![0]!["digest"] = new string('0', 64);
        Assert.Equal("mismatch", (await _manifests.VerifyAsync(edited))[0].Status);
    }

    private string BlobPath(string digest) =>
        Directory.EnumerateFiles(Dir.File("blobs"), digest, SearchOption.AllDirectories).Single();
}

public sealed class RegistryStoreSqliteTests : RegistryStoreContract
{
    protected override string NewTarget(TempDir dir) => dir.File($"reg-{Guid.NewGuid():N}.db");
}

public sealed class RegistryStorePostgresTests : RegistryStoreContract
{
    protected override string NewTarget(TempDir dir) => PostgresTarget.CreateDatabase();
}
