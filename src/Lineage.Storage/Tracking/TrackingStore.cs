using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Core.Lineage;
using Lineage.Core.Events;
using Lineage.Storage.Engine;
using Lineage.Storage.Query;
using Lineage.Storage.Events;
using Lineage.Storage.Lineage;

namespace Lineage.Storage.Tracking;

/// <summary>
/// Experiment tracking operations: projects, experiments, runs, params, metrics, tags.
/// Each public method is one transaction (through <see cref="Database"/>) and validates its
/// input first, so a rejected call changes nothing. Errors are <see cref="LineageException"/>s:
/// unknown ids are RESOURCE_DOES_NOT_EXIST, taken names RESOURCE_ALREADY_EXISTS, bad input and
/// writes to deleted items INVALID_PARAMETER_VALUE. Thread-safe.
/// </summary>
public sealed class TrackingStore(Database db)
{
    public const long DefaultExperimentId = 0;
    public const int DefaultHistoryPage = 25_000;
    public const int MaxHistoryPage = 100_000;

    private readonly MetricAccess _metrics = new();

    public Database Database => db;

    // ---- projects -------------------------------------------------------------------

    public Task<Project> CreateProjectAsync(string name, string? description)
    {
        Validate.ProjectName(name, "name");
        Validate.Text(description, "description", Limits.MaxDescriptionLength, required: false);
        return db.WriteAsync(async s =>
        {
            _ = await ExperimentAccess.CreateProjectAsync(s, name, description)
                ?? throw LineageException.AlreadyExists($"project '{name}' already exists");
            return (await ExperimentAccess.FindProjectAsync(s, name))!;
        }, keyed: true);
    }

    public Task<Project> GetProjectAsync(string name) =>
        db.ReadAsync(s => ExperimentAccess.RequireProjectAsync(s, name));

    public Task<IReadOnlyList<Project>> ListProjectsAsync() => db.ReadAsync(ExperimentAccess.ListProjectsAsync);

    // ---- experiments ----------------------------------------------------------------

    public Task<Experiment> CreateExperimentAsync(string? project, string name, string? description = null,
        IReadOnlyDictionary<string, string>? tags = null)
    {
        project ??= OperationContext.DefaultProject;
        Validate.Name(name, "name");
        Validate.Text(description, "description", Limits.MaxDescriptionLength, required: false);
        var tagList = CheckTags(tags);
        return db.WriteAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project);
            var now = Clock.NowMs();
            var id = await ExperimentAccess.CreateExperimentAsync(s, p.Id, name, description, now);
            if (id is null)
            {
                var existing = await ExperimentAccess.FindByNameAsync(s, p.Id, name);
                throw LineageException.AlreadyExists(existing is { IsActive: false }
                    ? $"experiment '{name}' already exists in project '{project}' in deleted state (id {existing.Id}); restore it or choose another name"
                    : $"experiment '{name}' already exists in project '{project}' (id {existing?.Id})");
            }
            foreach (var (key, value) in tagList) await ExperimentAccess.SetTagAsync(s, id.Value, key, value);
            await EventOutbox.AppendAsync(s, EventTypes.ExperimentCreated, p.Id, $"experiment:{id}", new { experimentId = $"{id}", name, project });
            return await LoadExperimentAsync(s, await ExperimentAccess.RequireAsync(s, id.Value));
        }, keyed: true);
    }

    public Task<Experiment> GetExperimentAsync(long id) =>
        db.ReadAsync(async s => await LoadExperimentAsync(s, await ExperimentAccess.RequireAsync(s, id)));

    public Task<Experiment> GetExperimentByNameAsync(string? project, string name)
    {
        project ??= OperationContext.DefaultProject;
        return db.ReadAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project);
            var row = await ExperimentAccess.FindByNameAsync(s, p.Id, name)
                      ?? throw LineageException.NotFound($"experiment '{name}' does not exist in project '{project}'");
            return await LoadExperimentAsync(s, row);
        });
    }

    public Task<Page<Experiment>> ListExperimentsAsync(ExperimentQuery query)
    {
        Validate.PageSize(query.Limit);
        var after = PageToken.Decode(query.PageToken, 1);
        return db.ReadAsync(async s =>
        {
            long? projectId = query.Project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, query.Project)).Id;
            var rows = await ExperimentAccess.ListAsync(s, projectId, query, after?[0]);
            var page = rows.Take(query.Limit).ToList();
            var tags = await ExperimentAccess.TagsAsync(s, page.Select(r => r.Id).ToList());
            return new Page<Experiment>(page.Select(r => r.ToModel(tags[r.Id])).ToList(),
                rows.Count > query.Limit ? PageToken.Encode(page[^1].Id) : null);
        });
    }

    public Task<Experiment> UpdateExperimentAsync(long id, string? newName, string? description)
    {
        if (newName is not null) Validate.Name(newName, "name");
        Validate.Text(description, "description", Limits.MaxDescriptionLength, required: false);
        return db.WriteAsync(async s =>
        {
            var row = await ExperimentAccess.RequireActiveAsync(s, id, "update the experiment");
            if (newName is not null && newName != row.Name
                && await ExperimentAccess.FindByNameAsync(s, row.ProjectId, newName) is { } clash)
                throw LineageException.AlreadyExists($"experiment '{newName}' already exists in project '{row.ProjectName}' (id {clash.Id})");
            await ExperimentAccess.UpdateAsync(s, id, newName, description, Clock.NowMs());
            return await LoadExperimentAsync(s, await ExperimentAccess.RequireAsync(s, id));
        }, keyed: true);
    }

    /// <summary>Soft delete; also deletes the experiment's active runs. Deleting a deleted experiment is a no-op.</summary>
    public Task<Experiment> DeleteExperimentAsync(long id) =>
        db.WriteAsync(async s =>
        {
            await ExperimentAccess.RequireAsync(s, id);
            await ExperimentAccess.DeleteAsync(s, id, Clock.NowMs());
            return await LoadExperimentAsync(s, await ExperimentAccess.RequireAsync(s, id));
        }, keyed: true);

    /// <summary>Undoes a delete, runs included. Restoring an active experiment is a no-op.</summary>
    public Task<Experiment> RestoreExperimentAsync(long id) =>
        db.WriteAsync(async s =>
        {
            await ExperimentAccess.RestoreAsync(s, await ExperimentAccess.RequireAsync(s, id), Clock.NowMs());
            return await LoadExperimentAsync(s, await ExperimentAccess.RequireAsync(s, id));
        }, keyed: true);

    /// <summary>Sets an experiment tag; <paramref name="sensitive"/> stores it encrypted whatever its key.</summary>
    public Task<bool> SetExperimentTagAsync(long id, string key, string value, bool sensitive = false)
    {
        Validate.Key(key, "key");
        Validate.Text(value, "value", Limits.MaxTagValueLength);
        return db.WriteAsync(async s =>
        {
            await ExperimentAccess.RequireActiveAsync(s, id, "set a tag");
            await ExperimentAccess.SetTagAsync(s, id, key, value, sensitive);
            return true;
        }, keyed: true);
    }

    public Task<bool> DeleteExperimentTagAsync(long id, string key) =>
        db.WriteAsync(async s =>
        {
            await ExperimentAccess.RequireActiveAsync(s, id, "delete a tag");
            if (await ExperimentAccess.DeleteTagAsync(s, id, key) == 0)
                throw LineageException.NotFound($"experiment {id} has no tag '{key}'");
            return true;
        }, keyed: true);

    // ---- runs -----------------------------------------------------------------------

    public Task<Run> CreateRunAsync(long experimentId, string? name = null, long? startTime = null, string? user = null,
        string? parentRunId = null, RunStatus status = RunStatus.Running, IReadOnlyDictionary<string, string>? tags = null) =>
        CreateRunAsync(experimentId, name, startTime, user, parentRunId, status, tags,
            async (s, uuid) => (await RunAccess.LoadAsync(s, [await RunAccess.RequireAsync(s, uuid)]))[0]);

    /// <summary>Creates a run and answers with its view (artifact URI, inputs) as MLflow's runs/create does, read in the same transaction.</summary>
    public Task<RunView> CreateRunViewAsync(long experimentId, string? name, long? startTime, string? user, string? parentRunId,
        RunStatus status, IReadOnlyDictionary<string, string>? tags) =>
        CreateRunAsync(experimentId, name, startTime, user, parentRunId, status, tags,
            async (s, uuid) => (await ViewAccess.RunViewsAsync(s, [await RunAccess.RequireAsync(s, uuid)]))[0]);

    private Task<T> CreateRunAsync<T>(long experimentId, string? name, long? startTime, string? user, string? parentRunId, RunStatus status,
        IReadOnlyDictionary<string, string>? tags, Func<DbSession, string, Task<T>> answer)
    {
        if (name is not null) Validate.Text(name, "name", Limits.MaxKeyLength);
        if (user is not null) Validate.Text(user, "user", Limits.MaxKeyLength);
        if (parentRunId is not null) parentRunId = Validate.RunId(parentRunId, "parentRunId");
        if (startTime is { } t) Validate.Timestamp(t, "startTime");
        var tagList = CheckTags(tags);
        return db.WriteAsync(async s =>
        {
            var experiment = await ExperimentAccess.RequireActiveAsync(s, experimentId, "create a run");
            long? parentId = null;
            if (parentRunId is not null)
                parentId = (await RunAccess.FindAsync(s, parentRunId))?.Id
                           ?? throw LineageException.NotFound($"parent run with id '{parentRunId}' does not exist");
            var uuid = Guid.NewGuid().ToString("N");
            var start = startTime ?? Clock.NowMs();
            long? end = status is RunStatus.Finished or RunStatus.Failed or RunStatus.Killed ? start : null;
            var id = await RunAccess.CreateAsync(s, uuid, experimentId, name, status, start, end, user, parentId);
            // A run is itself a lineage execution (type 'run'); its state is read from the run.
            await LineageAccess.CreateExecutionAsync(s, experiment.ProjectId, "run", name ?? uuid, ExecutionState.Running, start, null, "{}", id, start);
            await RunAccess.SetTagsAsync(s, id, tagList);
            await EventOutbox.AppendAsync(s, EventTypes.RunCreated, experiment.ProjectId, $"run:{uuid}",
                new { runId = uuid, experimentId = $"{experimentId}", name, status = Rows.Text(status), parentRunId });
            return await answer(s, uuid);
        }, keyed: true);
    }

    public Task<Run> GetRunAsync(string runId)
    {
        runId = Validate.RunId(runId);
        return db.ReadAsync(async s => (await RunAccess.LoadAsync(s, [await RunAccess.RequireAsync(s, runId)]))[0]);
    }

    public Task<Page<Run>> ListRunsAsync(RunQuery query)
    {
        Validate.PageSize(query.Limit);
        var parentRunId = query.ParentRunId is null ? null : Validate.RunId(query.ParentRunId, "parentRunId");
        var after = PageToken.Decode(query.PageToken, 2);
        return db.ReadAsync(async s =>
        {
            long? parentId = null;
            if (parentRunId is not null)
                parentId = (await RunAccess.FindAsync(s, parentRunId))?.Id
                           ?? throw LineageException.NotFound($"parent run with id '{parentRunId}' does not exist");
            var rows = await RunAccess.ListAsync(s, query, parentId, after);
            var page = rows.Take(query.Limit).ToList();
            return new Page<Run>(await RunAccess.LoadAsync(s, page),
                rows.Count > query.Limit ? PageToken.Encode(page[^1].StartTime, page[^1].Id) : null);
        });
    }

    /// <summary>Changes status, end time or name. A terminal status without an end time ends the run now.</summary>
    public Task<Run> UpdateRunAsync(string runId, RunUpdate update)
    {
        runId = Validate.RunId(runId);
        if (update.Name is not null) Validate.Text(update.Name, "name", Limits.MaxKeyLength);
        if (update.EndTime is { } end) Validate.Timestamp(end, "endTime");
        return db.WriteAsync(async s =>
        {
            var row = await RunAccess.RequireActiveAsync(s, runId, "update the run");
            var endTime = update.EndTime;
            if (endTime is null && update.Status is RunStatus.Finished or RunStatus.Failed or RunStatus.Killed && row.EndTime is null)
                endTime = Clock.NowMs();
            await RunAccess.UpdateAsync(s, row.Id, update.Status, endTime, update.Name);
            if (RunEvents.Ended(row.Status, update.Status) is { } ended)
                await EventOutbox.AppendAsync(s, ended, EventProject.OfExperiment(row.ExperimentId), $"run:{runId}",
                    new { runId, experimentId = $"{row.ExperimentId}", name = update.Name ?? row.Name, status = Rows.Text(update.Status!.Value), endTime });
            return (await RunAccess.LoadAsync(s, [await RunAccess.RequireAsync(s, runId)]))[0];
        }, keyed: true);
    }

    /// <summary>Soft delete. Deleting a deleted run is a no-op.</summary>
    public Task<Run> DeleteRunAsync(string runId) => SetRunLifecycleAsync(runId, Lifecycle.Deleted);

    /// <summary>Undoes a delete; the run's experiment must be active. Restoring an active run is a no-op.</summary>
    public Task<Run> RestoreRunAsync(string runId) => SetRunLifecycleAsync(runId, Lifecycle.Active);

    private Task<Run> SetRunLifecycleAsync(string runId, Lifecycle lifecycle)
    {
        runId = Validate.RunId(runId);
        return db.WriteAsync(async s =>
        {
            var row = await RunAccess.RequireAsync(s, runId);
            if (lifecycle == Lifecycle.Active && !row.IsActive)
                await ExperimentAccess.RequireActiveAsync(s, row.ExperimentId, "restore the run");
            if (row.IsActive != (lifecycle == Lifecycle.Active))
                await RunAccess.SetLifecycleAsync(s, row.Id, lifecycle, lifecycle == Lifecycle.Deleted ? Clock.NowMs() : null);
            return (await RunAccess.LoadAsync(s, [await RunAccess.RequireAsync(s, runId)]))[0];
        }, keyed: true);
    }

    /// <summary>
    /// Writes a whole batch or nothing. Params are write-once (a different value rejects the
    /// batch); tags apply in order (the last value of a key wins); metric points are appended.
    /// </summary>
    /// <param name="namingTag">A tag key whose value, when the batch sets it, also becomes the run's name in the same
    /// transaction (MLflow's <c>mlflow.runName</c>: its log-batch renames the run as set-tag does).</param>
    public Task<BatchResult> LogBatchAsync(string runId, RunBatch batch, string? namingTag = null)
    {
        runId = Validate.RunId(runId);
        Validate.Batch(batch);
        return db.WriteAsync(async s =>
        {
            var run = await RunAccess.RequireActiveAsync(s, runId, "log to the run");
            await RunAccess.LogParamsAsync(s, run, batch.Params);
            await RunAccess.SetTagsAsync(s, run.Id, batch.Tags);
            if (namingTag is not null && batch.Tags.LastOrDefault(t => t.Key == namingTag) is { Key: not null } rename)
                await RunAccess.UpdateAsync(s, run.Id, null, null, rename.Value);
            // Tags change the run; metric points and write-once params are data logged into it (and the hot path).
            if (batch.Tags.Count > 0) await s.TouchAsync(Touched.Run, run.Id, Clock.NowMs());
            await _metrics.LogAsync(s, run.Id, batch.Metrics);
            // One event per batch, not per point: counts and the batch's last value of each metric (what alert rules read).
            await EventOutbox.AppendAsync(s, EventTypes.RunDataLogged, EventProject.OfExperiment(run.ExperimentId), $"run:{runId}", RunEvents.Logged(runId, batch));
            s.OnCommitted(() =>
            {
                db.Metrics.Ingested("metric_points", batch.Metrics.Count);
                db.Metrics.Ingested("params", batch.Params.Count);
                db.Metrics.Ingested("tags", batch.Tags.Count);
            });
            return new BatchResult(batch.Metrics.Count, batch.Params.Count, batch.Tags.Count);
        }, keyed: true);
    }

    public Task<bool> DeleteRunTagAsync(string runId, string key)
    {
        runId = Validate.RunId(runId);
        return db.WriteAsync(async s =>
        {
            var run = await RunAccess.RequireActiveAsync(s, runId, "delete a tag");
            if (await RunAccess.DeleteTagAsync(s, run.Id, key) == 0)
                throw LineageException.NotFound($"run '{runId}' has no tag '{key}'");
            await s.TouchAsync(Touched.Run, run.Id, Clock.NowMs());
            return true;
        }, keyed: true);
    }

    /// <summary>Full history of one metric in logged order, a page at a time. An unknown key has an empty history.</summary>
    public Task<Page<SeriesPoint>> GetMetricHistoryAsync(string runId, string key, int? limit = null, string? pageToken = null)
    {
        runId = Validate.RunId(runId);
        Validate.Key(key, "key");
        var size = limit ?? DefaultHistoryPage;
        if (size < 1 || size > MaxHistoryPage)
            throw LineageException.Invalid("limit", $"'limit' must be between 1 and {MaxHistoryPage}, got {size}");
        var from = PageToken.Decode(pageToken, 2);
        return db.ReadAsync(async s =>
        {
            var run = await RunAccess.RequireAsync(s, runId);
            var keyId = await _metrics.FindKeyIdAsync(s, key);
            if (keyId is null) return new Page<SeriesPoint>([], null);
            var (points, next) = await MetricAccess.HistoryAsync(s, run.Id, keyId.Value, from?[0] ?? 0, (int)(from?[1] ?? 0), size);
            return new Page<SeriesPoint>(points, next is { } n ? PageToken.Encode(n.Seq, n.Skip) : null);
        });
    }

    /// <summary>
    /// The whole history of one metric in logged order, read in one transaction (one snapshot), or null when there is no
    /// such run — a malformed run id included — for MLflow's get-history, which answers those with an empty history.
    /// An unknown key is an empty history.
    /// </summary>
    public Task<IReadOnlyList<SeriesPoint>?> FindMetricHistoryAsync(string runId, string key)
    {
        Validate.Key(key, "metric_key");
        var id = runId.Length == 32 && runId.All(char.IsAsciiHexDigit) ? runId.ToLowerInvariant() : null;
        return db.ReadAsync<IReadOnlyList<SeriesPoint>?>(async s =>
        {
            if (id is null || await RunAccess.FindAsync(s, id) is not { } run) return null;
            var keyId = await _metrics.FindKeyIdAsync(s, key);
            if (keyId is null) return [];
            return (await MetricAccess.HistoryAsync(s, run.Id, keyId.Value, 0, 0, int.MaxValue)).Points;
        });
    }

    /// <summary>
    /// The whole series of one metric, reduced to at most <paramref name="maxPoints"/> points by
    /// <see cref="MetricDownsampling.Reduce"/> (for charts), read in one transaction. Also returns how many
    /// points the series has. 404 for an unknown run; an unknown key is an empty series.
    /// </summary>
    public Task<(IReadOnlyList<SeriesPoint> Points, long Total)> GetMetricHistoryDownsampledAsync(string runId, string key, int maxPoints)
    {
        runId = Validate.RunId(runId);
        Validate.Key(key, "key");
        if (maxPoints < MetricDownsampling.MinPoints || maxPoints > MetricDownsampling.MaxPoints)
            throw LineageException.Invalid("maxPoints",
                $"'maxPoints' must be between {MetricDownsampling.MinPoints} and {MetricDownsampling.MaxPoints}, got {maxPoints}");
        return db.ReadAsync(async s =>
        {
            var run = await RunAccess.RequireAsync(s, runId);
            var keyId = await _metrics.FindKeyIdAsync(s, key);
            if (keyId is null) return ((IReadOnlyList<SeriesPoint>)[], 0L);
            var (points, _) = await MetricAccess.HistoryAsync(s, run.Id, keyId.Value, 0, 0, int.MaxValue);
            return (MetricDownsampling.Reduce(points, maxPoints), (long)points.Count);
        });
    }

    /// <summary>Most runs one <see cref="GetMetricHistoriesDownsampledAsync"/> reads (the runs table's largest page).</summary>
    public const int MaxHistoriesRuns = 1_000;

    /// <summary>Most points one <see cref="GetMetricHistoriesDownsampledAsync"/> returns: runs × maxPoints.</summary>
    public const int MaxHistoriesPoints = 1_000_000;

    /// <summary>
    /// One metric of many runs for a chart across runs: each run's series reduced like
    /// <see cref="GetMetricHistoryDownsampledAsync"/>, all read in one transaction with one query over the chunks
    /// (a request per run would cost 1,000 round trips for the runs table's largest page). Runs come back in the
    /// order asked (a repeated id once); a run without the metric has an empty series. 404 names the first run that
    /// does not exist or is not readable.
    /// </summary>
    public Task<IReadOnlyList<RunSeries>> GetMetricHistoriesDownsampledAsync(IReadOnlyList<string>? runIds, string key, int maxPoints)
    {
        if (runIds is null || runIds.Count == 0) throw LineageException.Invalid("runIds", "'runIds' must name at least one run");
        if (runIds.Count > MaxHistoriesRuns)
            throw LineageException.Invalid("runIds", $"'runIds' may name at most {MaxHistoriesRuns} runs, got {runIds.Count}");
        var ids = runIds.Select((id, i) => Validate.RunId(id, $"runIds[{i}]")).Distinct(StringComparer.Ordinal).ToList();
        Validate.Key(key, "key");
        if (maxPoints < MetricDownsampling.MinPoints || maxPoints > MetricDownsampling.MaxPoints)
            throw LineageException.Invalid("maxPoints",
                $"'maxPoints' must be between {MetricDownsampling.MinPoints} and {MetricDownsampling.MaxPoints}, got {maxPoints}");
        if ((long)maxPoints * ids.Count > MaxHistoriesPoints)
            throw LineageException.Invalid("maxPoints",
                $"{ids.Count} runs × maxPoints {maxPoints} is more than {MaxHistoriesPoints:N0} points; ask for fewer points per run");
        return db.ReadAsync(async s =>
        {
            var rows = await RunAccess.IdsOfAsync(s, ids);
            if (ids.FirstOrDefault(id => !rows.ContainsKey(id)) is { } missing)
                throw LineageException.NotFound($"run with id '{missing}' does not exist");
            var keyId = await _metrics.FindKeyIdAsync(s, key);
            var series = keyId is null
                ? new Dictionary<long, RunSeriesRead>()
                : await MetricAccess.HistoriesReducedAsync(s, rows.Values.ToList(), keyId.Value, maxPoints);
            return (IReadOnlyList<RunSeries>)ids.Select(id =>
                series.TryGetValue(rows[id], out var read) ? new RunSeries(id, read.Points, read.TotalPoints) : new RunSeries(id, [], 0)).ToList();
        });
    }

    /// <summary>Keys listed at most per kind by <see cref="GetExperimentFieldsAsync"/>.</summary>
    public const int MaxFieldKeys = 1_000;

    /// <summary>The param, metric and tag keys of an experiment's active runs, sorted (for search completion).</summary>
    public Task<ExperimentFields> GetExperimentFieldsAsync(long experimentId) =>
        db.ReadAsync(async s =>
        {
            var experiment = await ExperimentAccess.RequireAsync(s, experimentId);
            var (parameters, metrics, tags) = await FieldAccess.KeysAsync(s, experiment.Id, MaxFieldKeys);
            return new ExperimentFields(parameters, metrics, tags);
        });

    /// <summary>
    /// The commonest values of one param or tag in an experiment's active runs that start with
    /// <paramref name="prefix"/>, most used first; never a sensitive one.
    /// </summary>
    public Task<IReadOnlyList<string>> GetFieldValuesAsync(long experimentId, string kind, string key, string? prefix, int? limit)
    {
        if (kind is not ("param" or "tag")) throw LineageException.Invalid("kind", $"'kind' must be 'param' or 'tag', got '{kind}'");
        Validate.Key(key, "key");
        var take = limit ?? 20;
        if (take is < 1 or > 100) throw LineageException.Invalid("limit", $"'limit' must be between 1 and 100, got {take}");
        return db.ReadAsync(async s =>
        {
            var experiment = await ExperimentAccess.RequireAsync(s, experimentId);
            return (IReadOnlyList<string>)await FieldAccess.ValuesAsync(s, experiment.Id, kind == "tag", key, prefix ?? "", take);
        });
    }

    private static List<KeyValue> CheckTags(IReadOnlyDictionary<string, string>? tags)
    {
        var list = new List<KeyValue>();
        if (tags is null) return list;
        foreach (var (key, value) in tags)
        {
            Validate.Key(key, $"tags.{key}");
            Validate.Text(value, $"tags.{key}", Limits.MaxTagValueLength);
            list.Add(new KeyValue(key, value));
        }
        if (list.Count > Limits.MaxBatchTags)
            throw LineageException.Invalid("tags", $"at most {Limits.MaxBatchTags} tags, got {list.Count}");
        return list;
    }

    private static async Task<Experiment> LoadExperimentAsync(DbSession s, ExperimentRow row) =>
        row.ToModel((await ExperimentAccess.TagsAsync(s, [row.Id]))[row.Id]);
}
