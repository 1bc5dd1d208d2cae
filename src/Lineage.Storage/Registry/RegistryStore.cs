using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Registry;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Core.Events;
using Lineage.Storage.Engine;
using Lineage.Storage.Events;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Registry;

/// <summary>
/// The model registry: registered models, versions (typed views over artifact versions, keeping the
/// producing run), aliases, stages, approvals and the full history of alias and stage changes.
/// Each public method is one transaction; a rejected request changes nothing.
/// Errors: unknown model/version/alias/request → RESOURCE_DOES_NOT_EXIST; a name taken → RESOURCE_ALREADY_EXISTS;
/// promoting a version that is not READY, bad input → INVALID_PARAMETER_VALUE; a user who is not an approver of
/// a model with approvers → PERMISSION_DENIED; deciding a request twice → CONFLICT. Thread-safe.
/// <para>Approval rule (until governance brings real principals): the acting user is the <c>Lineage-User</c>
/// header. A model with an empty approvers list is open: anyone may move its aliases and stages. Once it has
/// approvers, only they may move aliases/stages, change the approvers, or approve/reject promotion requests;
/// anyone may file a request. Approving always needs an approver.</para>
/// </summary>
public sealed class RegistryStore(Database db)
{
    public Database Database => db;

    public Task<RegisteredModel> CreateModelAsync(string? project, string name, string? description, IReadOnlyDictionary<string, string>? tags,
        IReadOnlyList<string>? approvers)
    {
        RegistryRules.ModelName(name);
        Validate.Text(description, "description", Limits.MaxDescriptionLength, required: false);
        var tagList = CheckTags(tags, "tags");
        var approverList = CheckApprovers(approvers);
        return db.WriteAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project ?? s.RequestProject);
            var now = Clock.NowMs();
            var id = await RegistryAccess.InsertModelAsync(s, p.Id, name, description, s.Actor, now)
                     ?? throw LineageException.AlreadyExists($"registered model '{name}' already exists in project '{p.Name}'");
            foreach (var (k, v) in tagList) await RegistryAccess.SetModelTagAsync(s, id, k, v);
            if (approverList.Count > 0) await RegistryAccess.ReplaceApproversAsync(s, id, approverList, s.Actor, now);
            await EventOutbox.AppendAsync(s, EventTypes.RegisteredModelCreated, p.Id, $"registered_model:{project}/{name}",
                new { name, description, tags = tags is { Count: > 0 } ? tags : null });
            return await LoadModelAsync(s, p.Id, name);
        }, keyed: true);
    }

    public Task<RegisteredModel> GetModelAsync(string? project, string name) =>
        db.ReadAsync(async s => (await RegistryAccess.LoadModelsAsync(s, [await RegistryAccess.RequireModelAsync(s, project, name)]))[0]);

    public Task<Page<RegisteredModel>> ListModelsAsync(string? project, string? nameContains, IReadOnlyDictionary<string, string>? tags, int limit = 100,
        string? pageToken = null)
    {
        Validate.PageSize(limit);
        var before = PageToken.DecodeOne(pageToken);
        return db.ReadAsync(async s =>
        {
            long? projectId = project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, project)).Id;
            var rows = await RegistryAccess.ListModelsAsync(s, projectId, nameContains, tags, before, limit + 1);
            var page = rows.Take(limit).ToList();
            return new Page<RegisteredModel>(await RegistryAccess.LoadModelsAsync(s, page), rows.Count > limit ? PageToken.Encode(page[^1].Id) : null);
        });
    }

    public Task<RegisteredModel> UpdateModelAsync(string? project, string name, string? description)
    {
        Validate.Text(description, "description", Limits.MaxDescriptionLength, required: false);
        return ModelEdit(project, name, (s, m) => RegistryAccess.SetModelDescriptionAsync(s, m.Id, description, Clock.NowMs()));
    }

    public Task<RegisteredModel> SetModelTagAsync(string? project, string name, string key, string value)
    {
        Validate.Key(key, "key");
        Validate.Text(value, "value", Limits.MaxTagValueLength);
        return ModelEdit(project, name, (s, m) => RegistryAccess.SetModelTagAsync(s, m.Id, key, value));
    }

    public Task<RegisteredModel> DeleteModelTagAsync(string? project, string name, string key) =>
        ModelEdit(project, name, async (s, m) =>
        {
            if (await RegistryAccess.DeleteModelTagAsync(s, m.Id, key) == 0)
                throw LineageException.NotFound($"registered model '{name}' has no tag '{key}'");
        });

    /// <summary>Replaces the approvers of a model. Once a model has approvers, only one of them may change the list.</summary>
    public Task<RegisteredModel> SetApproversAsync(string? project, string name, IReadOnlyList<string> approvers)
    {
        var list = CheckApprovers(approvers);
        return ModelEdit(project, name, async (s, m) =>
        {
            await RequireApproverIfAnyAsync(s, m, s.Actor, "change the approvers of");
            await RegistryAccess.ReplaceApproversAsync(s, m.Id, list, s.Actor, Clock.NowMs());
        });
    }

    /// <summary>
    /// Registers the next version of a model from an artifact version, or from the artifact a run produced.
    /// The run is the artifact's producer unless given; lineage to the data is the artifact's lineage.
    /// Validation: declared input features must match the feature set (name, dtype, shape).
    /// </summary>
    public Task<ModelVersion> CreateVersionAsync(ModelVersionRegistration r)
    {
        RegistryRules.ModelName(r.Model, "model");
        Validate.Text(r.Description, "description", Limits.MaxDescriptionLength, required: false);
        var tags = CheckTags(r.Tags, "tags");
        var runId = r.RunId is null ? null : Validate.RunId(r.RunId, "runId");
        var inputs = RegistryRules.InputFeatures(r.InputFeatures);
        if (r.Artifact is null) throw LineageException.Invalid("artifact", "a model version needs 'artifact' (the model's artifact version)");
        if (inputs.Count > 0 && r.FeatureSet is null)
            throw LineageException.Invalid("featureSet", "declared 'inputFeatures' need the 'featureSet' they come from");
        return db.WriteAsync(async s =>
        {
            var model = await RegistryAccess.RequireModelAsync(s, r.Project, r.Model);
            // "The run's artifact": a name with no version and a run means the newest version of that name the run produced.
            var artifactRow = runId is not null && r.Artifact is { Id: null, Name: { } artifactName, Ref.IsLatest: true }
                ? await RegistryAccess.RunArtifactAsync(s, r.Artifact.Project ?? model.Project, artifactName, runId)
                  ?? throw new LineageException(ErrorCode.ResourceDoesNotExist, $"run {runId} produced no version of artifact '{artifactName}'", "artifact")
                : await RegistryAccess.ResolveArtifactAsync(s, r.Artifact with { Project = r.Artifact.Project ?? model.Project });
            // Projects are the tenancy unit: a model version's bytes live in the model's project.
            if (artifactRow.Project != model.Project)
                throw LineageException.Invalid("artifact",
                    $"artifact '{artifactRow.Name}' v{artifactRow.Version} is in project '{artifactRow.Project}', the model in '{model.Project}'");
            if (artifactRow.Lifecycle != "active")
                throw LineageException.Invalid("artifact", $"version {artifactRow.Version} of artifact '{artifactRow.Name}' is {artifactRow.Lifecycle}; register an active version");
            long? runRow = null;
            if (runId is not null)
            {
                var run = await RunAccess.RequireAsync(s, runId);
                if (artifactRow.ProducerRunUuid is { } producer && producer != runId)
                    throw LineageException.Invalid("runId", $"artifact '{artifactRow.Name}' v{artifactRow.Version} was produced by run {producer}, not {runId}");
                runRow = run.Id;
            }
            else if (artifactRow.ProducerRunUuid is { } producer)
                runRow = (await RunAccess.RequireAsync(s, producer)).Id;

            long? featureSetId = null;
            if (r.FeatureSet is not null)
            {
                var fs = await RegistryAccess.ResolveArtifactAsync(s, r.FeatureSet with { Project = r.FeatureSet.Project ?? model.Project });
                if (fs.Type != "feature_set")
                    throw LineageException.Invalid("featureSet", $"artifact '{fs.Name}' v{fs.Version} is a {fs.Type}, not a feature_set");
                var defined = await FeatureAccess.FeaturesAsync(s, fs.Id);
                RegistryRules.MatchFeatures(inputs, defined, $"{fs.Name}@{fs.Version}");
                featureSetId = fs.Id;
            }
            var now = Clock.NowMs();
            var version = await RegistryAccess.NextVersionAsync(s, model.Id, now);
            var id = await RegistryAccess.InsertVersionAsync(s, model.Id, version, artifactRow.Id, runRow, r.Status, r.Description, featureSetId, s.Actor, now);
            foreach (var (k, v) in tags) await RegistryAccess.SetVersionTagAsync(s, id, k, v);
            await RegistryAccess.InsertInputFeaturesAsync(s, id, inputs);
            await EventOutbox.AppendAsync(s, EventTypes.ModelVersionCreated, model.ProjectId, $"model_version:{model.Project}/{model.Name}/{version}",
                RegistryEvents.VersionCreated(model.Name, version, runId ?? artifactRow.ProducerRunUuid, $"{artifactRow.Name}@{artifactRow.Version}", r.Description, tags, s.Actor));
            return await RegistryAccess.LoadVersionAsync(s, id);
        }, keyed: true);
    }

    public Task<ModelVersion> GetVersionAsync(string? project, string model, VersionRef reference) =>
        db.ReadAsync(async s => await RegistryAccess.LoadVersionAsync(s, (await RegistryAccess.ResolveVersionAsync(s, project, model, reference)).Id));

    /// <summary>Versions of one model or of all models, filtered by tags (all must match), stage and status; newest first.</summary>
    public Task<Page<ModelVersion>> SearchVersionsAsync(ModelVersionQuery q)
    {
        Validate.PageSize(q.Limit);
        if (q.Model is not null) RegistryRules.ModelName(q.Model, "model");
        var before = PageToken.DecodeOne(q.PageToken);
        return db.ReadAsync(async s =>
        {
            long? projectId = q.Project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, q.Project)).Id;
            long? modelId = q.Model is null ? null : (await RegistryAccess.RequireModelAsync(s, q.Project, q.Model)).Id;
            var rows = await RegistryAccess.SearchVersionsAsync(s, q, projectId, modelId, before, q.Limit + 1);
            var page = rows.Take(q.Limit).ToList();
            return new Page<ModelVersion>(await RegistryAccess.LoadVersionsAsync(s, page), rows.Count > q.Limit ? PageToken.Encode(page[^1].Id) : null);
        });
    }

    /// <summary>Changes description and/or status (null = unchanged). A READY or FAILED version cannot go back to PENDING.</summary>
    public Task<ModelVersion> UpdateVersionAsync(string? project, string model, long version, string? description, ModelVersionStatus? status,
        string? statusMessage)
    {
        Validate.Text(description, "description", Limits.MaxDescriptionLength, required: false);
        Validate.Text(statusMessage, "statusMessage", Limits.MaxDescriptionLength, required: false);
        return VersionEdit(project, model, version, async (s, row) =>
        {
            var next = status ?? row.StatusValue;
            if (next == ModelVersionStatus.PendingRegistration && row.StatusValue != ModelVersionStatus.PendingRegistration)
                throw LineageException.Invalid("status", $"version {version} of '{model}' is {row.Status}; it cannot go back to PENDING_REGISTRATION");
            var now = Clock.NowMs();
            await RegistryAccess.UpdateVersionAsync(s, row.Id, description ?? row.Description, next, statusMessage ?? row.StatusMessage, now);
            await RegistryAccess.TouchModelAsync(s, row.ModelId, now);
        });
    }

    public Task<ModelVersion> SetVersionTagAsync(string? project, string model, long version, string key, string value)
    {
        Validate.Key(key, "key");
        Validate.Text(value, "value", Limits.MaxTagValueLength);
        return VersionEdit(project, model, version, async (s, row) =>
        {
            await RegistryAccess.SetVersionTagAsync(s, row.Id, key, value);
            await EventOutbox.AppendAsync(s, EventTypes.ModelVersionTagSet, EventProject.Named(row.Project), $"model_version:{row.Project}/{row.Model}/{version}",
                new { name = row.Model, version = $"{version}", key, value });
        });
    }

    public Task<ModelVersion> DeleteVersionTagAsync(string? project, string model, long version, string key) =>
        VersionEdit(project, model, version, async (s, row) =>
        {
            if (await RegistryAccess.DeleteVersionTagAsync(s, row.Id, key) == 0)
                throw LineageException.NotFound($"version {version} of '{model}' has no tag '{key}'");
            await EventOutbox.AppendAsync(s, EventTypes.ModelVersionTagDeleted, EventProject.Named(row.Project), $"model_version:{row.Project}/{row.Model}/{version}",
                new { name = row.Model, version = $"{version}", key });
        });

    /// <summary>Points an alias at a version, atomically; concurrent moves serialize on the model and all land in the history.</summary>
    public Task<ModelVersion> SetAliasAsync(string? project, string model, string alias, long version)
    {
        ArtifactRules.Alias(alias);
        return db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, project, model, lockRow: true);
            await RequireApproverIfAnyAsync(s, m, s.Actor, "move aliases of");
            var row = await RegistryAccess.RequireVersionAsync(s, m, version);
            await ApplyAliasAsync(s, m, alias, row, s.Actor, null);
            return await RegistryAccess.LoadVersionAsync(s, row.Id);
        }, keyed: true);
    }

    /// <summary>
    /// Deletes a registered model with its versions, tags, aliases, approvers, history and promotion requests;
    /// the artifact versions and their lineage stay. Refused (409) while any version is deployed.
    /// </summary>
    public Task<bool> DeleteModelAsync(string? project, string name) =>
        db.WriteAsync(async s =>
        {
            await RegistryAccess.DeleteModelAsync(s, await RegistryAccess.RequireModelAsync(s, project, name, lockRow: true));
            return true;
        }, keyed: true);

    /// <summary>
    /// Deletes one version (its tags and pending promotion requests go with it; the artifact version stays).
    /// Refused (409) while it is deployed or an alias names it: moving an alias is an approver's decision,
    /// so a writer's delete must not make it implicitly.
    /// </summary>
    public Task<bool> DeleteVersionAsync(string? project, string model, long version) =>
        db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, project, model, lockRow: true);
            var row = await RegistryAccess.RequireVersionAsync(s, m, version);
            var aliases = (await s.Connection.QueryAsync<string>("SELECT alias FROM model_aliases WHERE model_id = @Id AND version = @version ORDER BY alias",
                new { m.Id, version }, s.Transaction)).ToList();
            if (aliases.Count > 0)
                throw LineageException.Conflict($"version {version} of '{model}' is aliased as {string.Join(", ", aliases.Select(a => $"'{a}'"))}; " +
                                                "move or delete the alias first");
            await RegistryAccess.DeleteVersionAsync(s, m, row);
            return true;
        }, keyed: true);

    public Task<bool> DeleteAliasAsync(string? project, string model, string alias)
    {
        ArtifactRules.Alias(alias);
        return db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, project, model, lockRow: true);
            await RequireApproverIfAnyAsync(s, m, s.Actor, "move aliases of");
            var old = await RegistryAccess.AliasVersionAsync(s, m.Id, alias) ?? throw await RegistryAccess.AliasMissingAsync(s, m, alias);
            var now = Clock.NowMs();
            await RegistryAccess.MoveAliasAsync(s, m.Id, alias, null, s.Actor, now);
            await RegistryAccess.RecordChangeAsync(s, m.Id, "alias", alias, old, Num(old), null, s.Actor, now, null);
            await EventOutbox.AppendAsync(s, EventTypes.ModelAliasMoved, m.ProjectId, $"registered_model:{m.Project}/{m.Name}",
                new { name = m.Name, alias, fromVersion = old, toVersion = (long?)null });
            return true;
        }, keyed: true);
    }

    /// <summary>Moves a version to a stage; with <paramref name="archiveExisting"/> the versions already in that stage go to Archived.</summary>
    public Task<ModelVersion> TransitionStageAsync(string? project, string model, long version, ModelStage stage, bool archiveExisting) =>
        db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, project, model, lockRow: true);
            await RequireApproverIfAnyAsync(s, m, s.Actor, "change stages of");
            var row = await RegistryAccess.RequireVersionAsync(s, m, version);
            await ApplyStageAsync(s, m, row, stage, archiveExisting, s.Actor, null);
            return await RegistryAccess.LoadVersionAsync(s, row.Id);
        }, keyed: true);

    /// <summary>Every alias and stage change of a model, oldest first; optionally one kind, one alias, one version.</summary>
    public Task<IReadOnlyList<RegistryChange>> HistoryAsync(string? project, string model, string? kind = null, string? alias = null, long? version = null)
    {
        if (kind is not (null or "alias" or "stage")) throw LineageException.Invalid("kind", "'kind' must be alias or stage");
        return db.ReadAsync(async s => await RegistryAccess.HistoryAsync(s, (await RegistryAccess.RequireModelAsync(s, project, model)).Id, kind, alias, version));
    }

    /// <summary>Files a promotion request: point <paramref name="target"/> alias at the version (kind alias) or move it to a stage (kind stage).</summary>
    public Task<PromotionRequest> RequestPromotionAsync(string? project, string model, long version, string kind, string target, bool archiveExisting,
        string? comment)
    {
        target = kind switch
        {
            "alias" => ArtifactRules.Alias(target, "alias"),
            "stage" => RegistryRules.StageText(RegistryRules.Stage(target)),
            _ => throw LineageException.Invalid("kind", "a promotion targets an 'alias' or a 'stage'"),
        };
        Validate.Text(comment, "comment", Limits.MaxDescriptionLength, required: false);
        return db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, project, model);
            var row = await RegistryAccess.RequireVersionAsync(s, m, version);
            RequireReady(row, kind == "alias" ? $"alias '{target}'" : $"stage {target}");
            var id = await RegistryAccess.InsertPromotionAsync(s, m.Id, version, kind, target, archiveExisting, comment, s.Actor, Clock.NowMs());
            await EventOutbox.AppendAsync(s, EventTypes.PromotionRequested, m.ProjectId, $"promotion:{id}",
                new { promotionId = id, name = m.Name, version, kind, target, comment, requestedBy = s.Actor });
            return (await RegistryAccess.FindPromotionAsync(s, id))!.ToModel();
        }, keyed: true);
    }

    public Task<PromotionRequest> GetPromotionAsync(long id) =>
        db.ReadAsync(async s => (await RegistryAccess.FindPromotionAsync(s, id) ?? throw PromotionMissing(id)).ToModel());

    public Task<Page<PromotionRequest>> ListPromotionsAsync(string? project, string? model, PromotionStatus? status, int limit = 100, string? pageToken = null)
    {
        Validate.PageSize(limit);
        var before = PageToken.DecodeOne(pageToken);
        return db.ReadAsync(async s =>
        {
            long? projectId = project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, project)).Id;
            long? modelId = model is null ? null : (await RegistryAccess.RequireModelAsync(s, project, model)).Id;
            var rows = await RegistryAccess.ListPromotionsAsync(s, projectId, modelId, status is { } st ? RegistryRules.PromotionText(st) : null, before,
                limit + 1);
            var page = rows.Take(limit).Select(r => r.ToModel()).ToList();
            return new Page<PromotionRequest>(page, rows.Count > limit ? PageToken.Encode(page[^1].Id) : null);
        });
    }

    /// <summary>An approver approves (the alias/stage change is applied in the same transaction) or rejects a pending request.</summary>
    public Task<PromotionRequest> DecidePromotionAsync(long id, bool approve, string? comment)
    {
        Validate.Text(comment, "comment", Limits.MaxDescriptionLength, required: false);
        return db.WriteAsync(async s =>
        {
            var request = await RegistryAccess.FindPromotionAsync(s, id) ?? throw PromotionMissing(id);
            var m = await RegistryAccess.RequireModelAsync(s, request.Project, request.Model, lockRow: true);
            var approvers = await RegistryAccess.ApproversAsync(s, m.Id);
            if (s.Actor is null || !approvers.Contains(s.Actor))
                throw new LineageException(ErrorCode.PermissionDenied, approvers.Count == 0
                    ? $"registered model '{m.Name}' has no approvers; set them (PUT …/approvers) before deciding promotion requests"
                    : $"user '{s.Actor ?? "(anonymous)"}' is not an approver of '{m.Name}' (approvers: {string.Join(", ", approvers)})");
            if (request.Status != "PENDING")
                throw LineageException.Conflict($"promotion request {id} was already {request.Status.ToLowerInvariant()} by {request.DecidedBy ?? "someone"}");
            var now = Clock.NowMs();
            if (approve)
            {
                var row = await RegistryAccess.RequireVersionAsync(s, m, request.Version);
                if (request.Kind == "alias") await ApplyAliasAsync(s, m, request.Target, row, s.Actor, id);
                else await ApplyStageAsync(s, m, row, RegistryRules.Stage(request.Target), request.ArchiveExisting != 0, s.Actor, id);
            }
            if (await RegistryAccess.DecidePromotionAsync(s, id, approve ? PromotionStatus.Approved : PromotionStatus.Rejected, s.Actor, comment, now) == 0)
                throw new RetryTransactionException($"promotion request {id} was decided concurrently");
            await EventOutbox.AppendAsync(s, approve ? EventTypes.PromotionApproved : EventTypes.PromotionRejected, m.ProjectId, $"promotion:{id}",
                new { promotionId = id, name = m.Name, request.Version, request.Kind, request.Target, comment, decidedBy = s.Actor });
            return (await RegistryAccess.FindPromotionAsync(s, id))!.ToModel();
        }, keyed: true);
    }

    private static async Task ApplyAliasAsync(DbSession s, ModelRow m, string alias, ModelVersionRow row, string? user, long? requestId)
    {
        RequireReady(row, $"alias '{alias}'");
        var old = await RegistryAccess.AliasVersionAsync(s, m.Id, alias);
        if (old == row.Version) return;
        var now = Clock.NowMs();
        await RegistryAccess.MoveAliasAsync(s, m.Id, alias, row.Version, user, now);
        await RegistryAccess.RecordChangeAsync(s, m.Id, "alias", alias, row.Version, Num(old), Num(row.Version), user, now, requestId);
        await EventOutbox.AppendAsync(s, EventTypes.ModelAliasMoved, m.ProjectId, $"registered_model:{m.Project}/{m.Name}",
            new { name = m.Name, alias, fromVersion = old, toVersion = row.Version, promotionId = requestId });
    }

    private static async Task ApplyStageAsync(DbSession s, ModelRow m, ModelVersionRow row, ModelStage stage, bool archiveExisting, string? user,
        long? requestId)
    {
        if (stage is ModelStage.Staging or ModelStage.Production) RequireReady(row, $"stage {stage}");
        var now = Clock.NowMs();
        if (archiveExisting && stage is ModelStage.Staging or ModelStage.Production)
            foreach (var other in await RegistryAccess.VersionsInStageAsync(s, m.Id, stage))
            {
                if (other.Id == row.Id) continue;
                await RegistryAccess.SetStageAsync(s, other.Id, ModelStage.Archived, now);
                await RegistryAccess.RecordChangeAsync(s, m.Id, "stage", null, other.Version, other.Stage, "Archived", user, now, requestId);
            }
        if (row.StageValue == stage) return;
        await RegistryAccess.SetStageAsync(s, row.Id, stage, now);
        await RegistryAccess.TouchModelAsync(s, m.Id, now);
        await RegistryAccess.RecordChangeAsync(s, m.Id, "stage", null, row.Version, row.Stage, RegistryRules.StageText(stage), user, now, requestId);
        await EventOutbox.AppendAsync(s, EventTypes.ModelStageChanged, m.ProjectId, $"model_version:{m.Project}/{m.Name}/{row.Version}",
            new { name = m.Name, version = row.Version, fromStage = row.Stage, toStage = RegistryRules.StageText(stage), archiveExisting, promotionId = requestId });
    }

    /// <summary>Validation rule: only READY versions are promoted (to an alias, Staging or Production).</summary>
    private static void RequireReady(ModelVersionRow row, string target)
    {
        if (row.StatusValue != ModelVersionStatus.Ready)
            throw LineageException.Invalid("version",
                $"version {row.Version} of '{row.Model}' is {row.Status}; only a READY version can be promoted to {target}");
    }

    private static async Task RequireApproverIfAnyAsync(DbSession s, ModelRow m, string? user, string action)
    {
        var approvers = await RegistryAccess.ApproversAsync(s, m.Id);
        if (approvers.Count > 0 && (user is null || !approvers.Contains(user)))
            throw new LineageException(ErrorCode.PermissionDenied,
                $"user '{user ?? "(anonymous)"}' may not {action} '{m.Name}': it needs the approver role ({string.Join(", ", approvers)}); file a promotion request instead");
    }

    private Task<RegisteredModel> ModelEdit(string? project, string name, Func<DbSession, ModelRow, Task> change) =>
        db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, project, name, lockRow: true);
            await change(s, m);
            return (await RegistryAccess.LoadModelsAsync(s, [(await RegistryAccess.FindModelAsync(s, m.ProjectId, m.Name))!]))[0];
        }, keyed: true);

    private Task<ModelVersion> VersionEdit(string? project, string model, long version, Func<DbSession, ModelVersionRow, Task> change) =>
        db.WriteAsync(async s =>
        {
            var m = await RegistryAccess.RequireModelAsync(s, project, model);
            var row = await RegistryAccess.RequireVersionAsync(s, m, version);
            await change(s, row);
            return await RegistryAccess.LoadVersionAsync(s, row.Id);
        }, keyed: true);

    private static async Task<RegisteredModel> LoadModelAsync(DbSession s, long projectId, string name) =>
        (await RegistryAccess.LoadModelsAsync(s, [(await RegistryAccess.FindModelAsync(s, projectId, name))!]))[0];

    private static LineageException PromotionMissing(long id) => LineageException.NotFound($"promotion request {id} does not exist");

    private static string? Num(long? v) => v?.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static List<KeyValuePair<string, string>> CheckTags(IReadOnlyDictionary<string, string>? tags, string field) =>
        (tags ?? new Dictionary<string, string>()).Select(t =>
        {
            Validate.Key(t.Key, $"{field}.{t.Key}");
            Validate.Text(t.Value, $"{field}.{t.Key}", Limits.MaxTagValueLength);
            return t;
        }).ToList();

    private static IReadOnlyList<string> CheckApprovers(IReadOnlyList<string>? approvers)
    {
        var list = (approvers ?? []).ToList();
        if (list.Count > RegistryRules.MaxApprovers) throw LineageException.Invalid("approvers", $"at most {RegistryRules.MaxApprovers} approvers");
        for (var i = 0; i < list.Count; i++)
            if (string.IsNullOrWhiteSpace(list[i]) || list[i].Length > 250)
                throw LineageException.Invalid($"approvers[{i}]", "an approver is a user name of 1-250 characters");
        return list.Distinct(StringComparer.Ordinal).ToList();
    }
}
