using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lineage.Client;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using static Lineage.Cli.Import.MlflowRest;
using static Lineage.Cli.Import.TransientRetry;

namespace Lineage.Cli.Import;

/// <summary>What <c>lineage import mlflow</c> does; see <see cref="MlflowImporter"/>.</summary>
public sealed record MlflowImportOptions(
    string Source,
    IReadOnlyList<string> Experiments,
    string? Project,
    int Parallel,
    bool Recheck,
    bool Models,
    bool Artifacts);

/// <summary>The final report of <c>lineage import mlflow</c>.</summary>
public sealed record MlflowImportReport(
    string Source, string Journal, int Experiments, int ExperimentsCreated, int Runs, int RunsCreated, int RunsUpdated, int RunsUnchanged,
    long Params, long Tags, long MetricPoints, long DatasetInputs, long ArtifactFiles, long ArtifactBytes,
    int Models, int ModelsCreated, int VersionsCreated, int StageChanges, int AliasesSet,
    List<ImportProblem> Failed, List<ImportProblem> Warnings, double Seconds);

/// <param name="Item">What it concerns: <c>run &lt;id&gt;</c>, <c>model &lt;name&gt;</c>, <c>experiment &lt;id&gt;</c>.</param>
public sealed record ImportProblem(string Item, string Code, string Message);

/// <summary>
/// Copies an MLflow tracking server's history into Lineage through both servers' HTTP APIs: experiments with tags; runs
/// with params, tags, every metric point (step and timestamp), status, times, dataset inputs and artifact files;
/// registered models with descriptions, tags, versions, stages and aliases. Each imported item carries its MLflow id as a
/// tag (<see cref="RunIdTag"/> …), so an MLflow URL can be looked up, and a re-run finds what it imported before.
/// Writing compares with what the target has and sends only the difference (missing params and tags, the metric points
/// after those already stored, missing files), so an interrupted import resumes without duplicating a point; the
/// journal (<see cref="ImportJournal"/>) skips runs finished before whose source has not changed.
/// </summary>
public sealed class MlflowImporter(LineageClient target, MlflowRest source, MlflowRest targetMlflow, ImportJournal journal, MlflowImportOptions options)
{
    public const string SourceTag = "lineage.import.source";
    public const string ExperimentIdTag = "lineage.import.mlflow.experiment_id";
    public const string RunIdTag = "lineage.import.mlflow.run_id";
    public const string VersionTag = "lineage.import.mlflow.version";

    private readonly ConcurrentDictionary<string, string> _runMap = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _sourceRoots = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<ImportProblem> _failed = [];
    private readonly ConcurrentBag<ImportProblem> _warnings = [];
    private volatile bool _noBulkHistory;
    private long _params, _tags, _points, _datasets, _files, _bytes;
    private int _runsCreated, _runsUpdated, _runsUnchanged, _experimentsCreated, _modelsCreated, _versionsCreated, _stages, _aliases;

    /// <summary>Runs the import. <paramref name="progress"/> gets (done, total) items as they finish.</summary>
    public async Task<MlflowImportReport> RunAsync(Action<int, int> progress, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        foreach (var (src, tgt) in journal.All("run")) _runMap[src] = tgt;

        var experiments = await SelectExperimentsAsync(ct);
        var runsByExperiment = new List<(string TargetExperiment, List<JsonNode> Runs)>();
        foreach (var exp in experiments)
        {
            var targetId = await EnsureExperimentAsync(exp, ct);
            if (targetId is null) continue;
            var runs = await Retry(() => source.SearchAllAsync("runs/search", new JsonObject
            {
                ["experiment_ids"] = new JsonArray(Str(exp["experiment_id"])),
                ["max_results"] = 1000,
                ["run_view_type"] = "ACTIVE_ONLY",
                ["order_by"] = new JsonArray("attributes.start_time ASC"),
            }, "runs", ct), ct);
            await MapImportedRunsAsync(targetId, ct);
            runsByExperiment.Add((targetId, runs));
        }
        var models = options.Models ? await Retry(() => source.SearchAllGetAsync("registered-models/search", "registered_models", ct,
            ("max_results", "1000")), ct) : [];

        var total = runsByExperiment.Sum(e => e.Runs.Count) + models.Count;
        var done = 0;
        progress(0, total);
        // Parents before children: a child names its parent's Lineage id, known once the parent exists.
        foreach (var level in Levels(runsByExperiment))
        {
            // Runs go in chunks, each chunk's metric histories read with one bulk request per key; chunks run in parallel.
            var size = Math.Clamp((level.Count + options.Parallel - 1) / Math.Max(1, options.Parallel), 1, BulkMaxRuns);
            await Parallel.ForEachAsync(level.Chunk(size), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallel), CancellationToken = ct },
                async (chunk, token) =>
                {
                    var pending = new List<(string TargetExperiment, JsonNode Run, string Fingerprint)>();
                    foreach (var item in chunk)
                    {
                        if (item.Run["info"]?["artifact_uri"] is { } root) _sourceRoots[RunId(item.Run)] = Str(root)!;
                        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(item.Run.ToJsonString())));
                        if (!options.Recheck && journal.TryGet("run", RunId(item.Run), out var entry) && entry.Fingerprint == fingerprint
                            && _runMap.ContainsKey(RunId(item.Run)))
                        {
                            Interlocked.Increment(ref _runsUnchanged);
                            progress(Interlocked.Increment(ref done), total);
                        }
                        else pending.Add((item.TargetExperiment, item.Run, fingerprint));
                    }
                    var histories = await PrefetchHistoriesAsync(pending.Select(p => p.Run).ToList(), token);
                    foreach (var (targetExperiment, run, fingerprint) in pending)
                    {
                        await Guard($"run {RunId(run)}", () => ImportRunAsync(targetExperiment, run, fingerprint, histories, token));
                        progress(Interlocked.Increment(ref done), total);
                    }
                });
        }
        foreach (var model in models)
        {
            await Guard($"model {Str(model["name"])}", () => ImportModelAsync(model, ct));
            progress(Interlocked.Increment(ref done), total);
        }

        return new MlflowImportReport(options.Source, journal.Path, experiments.Count, _experimentsCreated, total - models.Count, _runsCreated,
            _runsUpdated, _runsUnchanged, _params, _tags, _points, _datasets, _files, _bytes, models.Count, _modelsCreated, _versionsCreated, _stages,
            _aliases, [.. _failed.OrderBy(p => p.Item, StringComparer.Ordinal)], [.. _warnings.OrderBy(p => p.Item, StringComparer.Ordinal)],
            Math.Round(watch.Elapsed.TotalSeconds, 3));
    }

    // ---- experiments ---------------------------------------------------------------------

    private async Task<List<JsonNode>> SelectExperimentsAsync(CancellationToken ct)
    {
        var all = await Retry(() => source.SearchAllAsync("experiments/search", new JsonObject
        {
            ["max_results"] = 1000,
            ["view_type"] = "ACTIVE_ONLY",
        }, "experiments", ct), ct);
        if (options.Experiments.Count == 0) return all;
        var selected = new List<JsonNode>();
        foreach (var wanted in options.Experiments)
        {
            var match = all.FirstOrDefault(e => Str(e["experiment_id"]) == wanted) ?? all.FirstOrDefault(e => Str(e["name"]) == wanted)
                        ?? throw LineageException.Invalid("--experiments", $"the source has no active experiment with the id or name '{wanted}'");
            if (!selected.Contains(match)) selected.Add(match);
        }
        return selected;
    }

    /// <summary>The target experiment of the same name (created when missing), with the source's tags added. Null when it failed.</summary>
    private async Task<string?> EnsureExperimentAsync(JsonNode exp, CancellationToken ct)
    {
        var name = Str(exp["name"])!;
        var sourceId = Str(exp["experiment_id"])!;
        var tags = KeyValues(exp["tags"]);
        tags[ExperimentIdTag] = sourceId;
        tags[SourceTag] = options.Source;
        string? id = null;
        await Guard($"experiment {sourceId}", async () =>
        {
            ExperimentDto experiment;
            try
            {
                experiment = await Retry(() => target.GetExperimentByNameAsync(name, options.Project, ct), ct);
            }
            catch (LineageApiException ex) when (ex.Code == ErrorCode.ResourceDoesNotExist)
            {
                experiment = await Retry(() => target.CreateExperimentAsync(name, options.Project, tags.GetValueOrDefault("mlflow.note.content"), tags, ct), ct);
                Interlocked.Increment(ref _experimentsCreated);
            }
            foreach (var (key, value) in tags)
                if (experiment.Tags.GetValueOrDefault(key) != value)
                    await Retry(() => target.SetExperimentTagAsync(experiment.Id, key, value, ct), ct);
            id = experiment.Id;
        });
        return id;
    }

    /// <summary>Runs imported before (journal lost or another journal) are found by their MLflow id tag.</summary>
    private async Task MapImportedRunsAsync(string targetExperiment, CancellationToken ct)
    {
        string? token = null;
        do
        {
            var page = await Retry(() => target.ListRunsAsync([targetExperiment], lifecycle: "all", limit: 1000, pageToken: token, ct: ct), ct);
            foreach (var run in page.Runs)
                if (run.Tags.TryGetValue(RunIdTag, out var sourceId) && run.Tags.GetValueOrDefault(SourceTag) == options.Source)
                    _runMap[sourceId] = run.RunId;
            token = page.NextPageToken;
        } while (token is not null);
    }

    // ---- runs ----------------------------------------------------------------------------

    private static string RunId(JsonNode run) => Str(run["info"]?["run_id"]) ?? Str(run["info"]?["run_uuid"]) ?? "";

    /// <summary>Runs grouped so that each run's parent (when imported too) is in an earlier group.</summary>
    private static List<List<(string TargetExperiment, JsonNode Run)>> Levels(List<(string TargetExperiment, List<JsonNode> Runs)> experiments)
    {
        var all = experiments.SelectMany(e => e.Runs.Select(r => (e.TargetExperiment, Run: r))).ToList();
        var parentOf = all.ToDictionary(r => RunId(r.Run), r => KeyValues(r.Run["data"]?["tags"]).GetValueOrDefault("mlflow.parentRunId"), StringComparer.Ordinal);
        int Depth(string id, int guard)
        {
            var parent = parentOf.GetValueOrDefault(id);
            return parent is null || guard > 100 || !parentOf.ContainsKey(parent) ? 0 : 1 + Depth(parent, guard + 1);
        }
        return all.GroupBy(r => Depth(RunId(r.Run), 0)).OrderBy(g => g.Key).Select(g => g.ToList()).ToList();
    }

    /// <summary>
    /// The metric histories of these runs, one <c>get-history-bulk</c> request per key for all of them: (run, key) → points.
    /// Runs a bulk answer did not cover completely are absent (read one by one later); nothing at all when the source lacks the route.
    /// </summary>
    private async Task<Dictionary<(string Run, string Key), List<HistoryPoint>>> PrefetchHistoriesAsync(List<JsonNode> runs, CancellationToken ct)
    {
        var found = new Dictionary<(string, string), List<HistoryPoint>>();
        if (_noBulkHistory || runs.Count < 2) return found;
        var runsByKey = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var run in runs)
            if (run["data"]?["metrics"] is JsonArray latest)
                foreach (var key in latest.Select(m => Str(m?["key"])).OfType<string>().Distinct(StringComparer.Ordinal))
                    (runsByKey.TryGetValue(key, out var list) ? list : runsByKey[key] = []).Add(RunId(run));
        foreach (var (key, ids) in runsByKey)
        {
            var answer = await Retry(() => source.BulkHistoryAsync(ids, key, ct), ct);
            if (answer is null)
            {
                _noBulkHistory = true;
                return found;
            }
            foreach (var (run, points) in answer) found[(run, key)] = points;
        }
        return found;
    }

    private async Task ImportRunAsync(string targetExperiment, JsonNode run, string fingerprint, Dictionary<(string Run, string Key), List<HistoryPoint>> histories,
        CancellationToken ct)
    {
        var info = run["info"]!;
        var sourceId = RunId(run);

        var data = run["data"];
        var sourceParams = KeyValues(data?["params"]);
        var sourceTags = KeyValues(data?["tags"]);
        string? parent = null;
        if (sourceTags.TryGetValue("mlflow.parentRunId", out var sourceParent) && _runMap.TryGetValue(sourceParent, out var mappedParent))
            sourceTags["mlflow.parentRunId"] = parent = mappedParent; // MLflow's UI nests by this tag: it must name the Lineage run
        sourceTags[RunIdTag] = sourceId;
        sourceTags[SourceTag] = options.Source;

        // The target run: found by its MLflow id, else created (the id tags are written with it, in one transaction).
        RunDto? existing = null;
        string targetId;
        if (_runMap.TryGetValue(sourceId, out var known))
        {
            targetId = known;
            existing = await Retry(() => target.GetRunAsync(targetId, ct), ct);
        }
        else
        {
            var created = await Retry(() => target.CreateRunAsync(new CreateRunRequest(targetExperiment, Str(info["run_name"]) ?? sourceTags.GetValueOrDefault("mlflow.runName"),
                Long(info["start_time"]), Str(info["user_id"]), parent, Tags: new() { [RunIdTag] = sourceId, [SourceTag] = options.Source }),
                Key("run", targetExperiment + "\n" + sourceId), ct), ct); // per target experiment: the same source may go to several projects
            targetId = created.RunId;
            _runMap[sourceId] = targetId;
        }

        // Params and tags the target lacks; a param with another value is MLflow's own conflict and is reported.
        var newParams = new List<KeyValueDto>();
        foreach (var (key, value) in sourceParams)
        {
            var have = existing?.Params.GetValueOrDefault(key);
            if (have is null) newParams.Add(new KeyValueDto(key, value));
            else if (have != value) _warnings.Add(new ImportProblem($"run {sourceId}", "CONFLICT", $"param '{key}' is '{have}' in Lineage and '{value}' in MLflow; kept '{have}'"));
        }
        var newTags = sourceTags.Where(t => existing?.Tags.GetValueOrDefault(t.Key) != t.Value).Select(t => new KeyValueDto(t.Key, t.Value)).ToList();

        // Metrics: every point after those the target already holds for the key (none for a new run).
        var points = new List<LogMetricRequest>();
        if (data?["metrics"] is JsonArray latest)
            foreach (var key in latest.Select(m => Str(m?["key"])).OfType<string>().Distinct(StringComparer.Ordinal))
            {
                var history = histories.GetValueOrDefault((sourceId, key)) ?? await Retry(() => source.MetricHistoryAsync(sourceId, key, ct), ct);
                var stored = existing is not null && existing.Metrics.Any(m => m.Key == key)
                    ? (await Retry(() => target.GetFullMetricHistoryAsync(targetId, key, ct), ct)).Count
                    : 0;
                for (var i = stored; i < history.Count; i++)
                    points.Add(new LogMetricRequest(key, history[i].Value, history[i].Step, history[i].Timestamp));
            }

        await SendBatchesAsync(targetId, newParams, newTags, points, ct);

        if (run["inputs"]?["dataset_inputs"] is JsonArray { Count: > 0 } inputs)
        {
            // Lineage's MLflow API maps dataset inputs (artifact version + input edge); both are unique, so a repeat adds nothing.
            var body = new JsonObject { ["run_id"] = targetId, ["datasets"] = inputs.DeepClone() };
            await Retry(() => targetMlflow.PostAsync("runs/log-inputs", body, ct, Key("inputs", targetId + body.ToJsonString())), ct);
            Interlocked.Add(ref _datasets, inputs.Count);
        }

        if (options.Artifacts) await CopyArtifactsAsync(sourceId, targetId, existing is null, ct);

        var status = Str(info["status"]) ?? "RUNNING";
        var end = Long(info["end_time"]);
        if (!string.Equals(existing?.Status ?? "RUNNING", status, StringComparison.OrdinalIgnoreCase) || (end is not null && existing?.EndTime != end))
            await Retry(() => target.UpdateRunAsync(targetId, new UpdateRunRequest(status, end)), ct);

        if (existing is null) Interlocked.Increment(ref _runsCreated);
        else Interlocked.Increment(ref _runsUpdated);
        journal.Done("run", sourceId, targetId, fingerprint);
    }

    /// <summary>Params, tags and points in as few all-or-nothing batches as the limits allow, each with an idempotency key made from its content.</summary>
    private async Task SendBatchesAsync(string targetId, List<KeyValueDto> parameters, List<KeyValueDto> tags, List<LogMetricRequest> points,
        CancellationToken ct)
    {
        int p = 0, t = 0, m = 0;
        while (p < parameters.Count || t < tags.Count || m < points.Count)
        {
            var batch = new BatchRequest(
                points.GetRange(m, Math.Min(Limits.MaxBatchMetrics, points.Count - m)),
                parameters.GetRange(p, Math.Min(Limits.MaxBatchParams, parameters.Count - p)),
                tags.GetRange(t, Math.Min(Limits.MaxBatchTags, tags.Count - t)));
            var key = Key("batch", targetId, JsonSerializer.SerializeToUtf8Bytes(batch, LineageJson.Default.BatchRequest));
            await Retry(() => target.LogBatchAsync(targetId, batch, key, ct), ct);
            m += batch.Metrics!.Count;
            p += batch.Params!.Count;
            t += batch.Tags!.Count;
        }
        Interlocked.Add(ref _params, parameters.Count);
        Interlocked.Add(ref _tags, tags.Count);
        Interlocked.Add(ref _points, points.Count);
    }

    /// <summary>Files the target run lacks (by path and size) are streamed from the source's artifact store into the target's proxy.</summary>
    private async Task CopyArtifactsAsync(string sourceId, string targetId, bool newRun, CancellationToken ct)
    {
        List<(string Path, long Size)> files;
        string? sourceRoot;
        try
        {
            (sourceRoot, files) = await Retry(() => source.ListArtifactsAsync(sourceId, ct), ct);
        }
        catch (LineageApiException ex) when (!ex.IsTransient)
        {
            _warnings.Add(new ImportProblem($"run {sourceId}", ex.Code.WireName(), $"artifacts not listed: {ex.Message}"));
            return;
        }
        if (files.Count == 0) return;
        var (targetRoot, present) = await Retry(() => targetMlflow.ListArtifactsAsync(targetId, ct), ct);
        var have = present.ToDictionary(f => f.Path, f => f.Size, StringComparer.Ordinal);
        if (targetRoot is null) throw LineageException.Invalid("artifact_uri", $"the target run {targetId} has no artifact root");
        foreach (var (path, size) in files)
        {
            if (!newRun && have.TryGetValue(path, out var s) && s == size) continue;
            var temp = System.IO.Path.GetTempFileName();
            try
            {
                try
                {
                    await Retry(async () =>
                    {
                        using var response = await source.OpenArtifactAsync(sourceId, sourceRoot, path, ct);
                        await using var output = File.Create(temp);
                        await response.Content.CopyToAsync(output, ct);
                        return true;
                    }, ct);
                }
                catch (LineageApiException ex) when (!ex.IsTransient)
                {
                    _warnings.Add(new ImportProblem($"run {sourceId}", ex.Code.WireName(), $"artifact '{path}' not readable from the source ({sourceRoot}): {ex.Message}"));
                    continue;
                }
                var length = new FileInfo(temp).Length;
                await Retry(async () =>
                {
                    await using var input = File.OpenRead(temp);
                    await targetMlflow.PutArtifactAsync(targetRoot, path, input, length, ct);
                    return true;
                }, ct);
                Interlocked.Increment(ref _files);
                Interlocked.Add(ref _bytes, length);
            }
            finally
            {
                File.Delete(temp);
            }
        }
    }

    // ---- registry ------------------------------------------------------------------------

    private async Task ImportModelAsync(JsonNode model, CancellationToken ct)
    {
        var name = Str(model["name"])!;
        var description = Str(model["description"]);
        var tags = KeyValues(model["tags"]);
        RegisteredModelDto target1;
        try
        {
            target1 = await Retry(() => target.GetModelAsync(name, options.Project, ct), ct);
            if (!string.IsNullOrEmpty(description) && target1.Description != description)
                await Retry(() => target.UpdateModelAsync(name, description, options.Project, ct), ct);
            foreach (var (key, value) in tags)
                if (target1.Tags.GetValueOrDefault(key) != value)
                    await Retry(() => target.SetModelTagAsync(name, key, value, options.Project, ct), ct);
        }
        catch (LineageApiException ex) when (ex.Code == ErrorCode.ResourceDoesNotExist)
        {
            target1 = await Retry(() => target.CreateModelAsync(name, string.IsNullOrEmpty(description) ? null : description, tags, project: options.Project, ct: ct), ct);
            Interlocked.Increment(ref _modelsCreated);
        }

        // Versions already imported, by their MLflow number.
        var imported = new Dictionary<string, ModelVersionDto>(StringComparer.Ordinal);
        string? token = null;
        do
        {
            var page = await Retry(() => target.SearchModelVersionsAsync(name, project: options.Project, limit: 1000, pageToken: token, ct: ct), ct);
            foreach (var v in page.Versions)
                if (v.Tags.TryGetValue(VersionTag, out var number) && v.Tags.GetValueOrDefault(SourceTag) == options.Source)
                    imported[number] = v;
            token = page.NextPageToken;
        } while (token is not null);

        var versions = await Retry(() => source.SearchAllGetAsync("model-versions/search", "model_versions", ct,
            ("filter", $"name='{name.Replace("'", "\\'")}'"), ("max_results", "10000")), ct);
        var numbers = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var v in versions.OrderBy(v => Long(v["version"]) ?? 0))
        {
            var number = Str(v["version"])!;
            var stage = Str(v["current_stage"]) ?? "None";
            var versionDescription = Str(v["description"]);
            var versionTags = KeyValues(v["tags"]);
            if (!imported.TryGetValue(number, out var have))
            {
                var created = await CreateVersionAsync(name, number, v, versionTags, versionDescription, ct);
                numbers[number] = created;
                Interlocked.Increment(ref _versionsCreated);
                if (!string.Equals(stage, "None", StringComparison.OrdinalIgnoreCase))
                {
                    await Retry(() => target.TransitionModelStageAsync(name, created, stage, project: options.Project, ct: ct), ct);
                    Interlocked.Increment(ref _stages);
                }
                continue;
            }
            numbers[number] = have.Version;
            if (!string.Equals(have.Stage, stage, StringComparison.OrdinalIgnoreCase))
            {
                await Retry(() => target.TransitionModelStageAsync(name, have.Version, stage, project: options.Project, ct: ct), ct);
                Interlocked.Increment(ref _stages);
            }
            if (!string.IsNullOrEmpty(versionDescription) && have.Description != versionDescription)
                await Retry(() => target.UpdateModelVersionAsync(name, have.Version, new UpdateModelVersionRequest(versionDescription), options.Project, ct), ct);
            foreach (var (key, value) in versionTags)
                if (have.Tags.GetValueOrDefault(key) != value)
                    await Retry(() => target.SetModelVersionTagAsync(name, have.Version, key, value, options.Project, ct), ct);
        }

        var current = await Retry(() => target.GetModelAsync(name, options.Project, ct), ct);
        if (model["aliases"] is JsonArray aliases)
            foreach (var a in aliases)
            {
                var alias = Str(a?["alias"]);
                if (alias is null || Str(a!["version"]) is not { } number) continue;
                if (!numbers.TryGetValue(number, out var version))
                {
                    _warnings.Add(new ImportProblem($"model {name}", "NOT_FOUND", $"alias '{alias}' names version {number}, which the source did not list"));
                    continue;
                }
                if (current.Aliases.GetValueOrDefault(alias) == version) continue;
                await Retry(() => target.SetModelAliasAsync(name, alias, version, options.Project, ct), ct);
                Interlocked.Increment(ref _aliases);
            }
    }

    /// <summary>
    /// A new version through the target's MLflow API, with the source URI rewritten to the imported run's artifacts:
    /// Lineage then links run → model artifact → version exactly as for a version registered by the MLflow client.
    /// A source outside the run's artifacts (s3://…, or a run not imported) stays as given and becomes an external artifact.
    /// </summary>
    private async Task<long> CreateVersionAsync(string name, string number, JsonNode v, Dictionary<string, string> tags, string? description,
        CancellationToken ct)
    {
        var sourceUri = Str(v["source"]) ?? "";
        var sourceRun = Str(v["run_id"]);
        string? targetRun = null;
        if (!string.IsNullOrEmpty(sourceRun) && _runMap.TryGetValue(sourceRun, out var mapped))
        {
            targetRun = mapped;
            var runsPrefix = $"runs:/{sourceRun}/";
            if (sourceUri.StartsWith(runsPrefix, StringComparison.Ordinal))
                sourceUri = $"runs:/{targetRun}/{sourceUri[runsPrefix.Length..]}";
            else if (_sourceRoots.TryGetValue(sourceRun, out var root) && sourceUri.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal))
            {
                var targetInfo = await Retry(() => targetMlflow.GetAsync("runs/get", ct, ("run_id", targetRun)), ct);
                var targetRoot = Str(targetInfo["run"]?["info"]?["artifact_uri"])!;
                sourceUri = targetRoot.TrimEnd('/') + "/" + sourceUri[(root.TrimEnd('/').Length + 1)..];
            }
        }
        var tagList = new JsonArray();
        foreach (var (key, value) in tags) tagList.Add(new JsonObject { ["key"] = key, ["value"] = value });
        tagList.Add(new JsonObject { ["key"] = VersionTag, ["value"] = number });
        tagList.Add(new JsonObject { ["key"] = SourceTag, ["value"] = options.Source });
        var body = new JsonObject { ["name"] = name, ["source"] = sourceUri, ["tags"] = tagList };
        if (targetRun is not null) body["run_id"] = targetRun;
        if (!string.IsNullOrEmpty(description)) body["description"] = description;
        var answer = await Retry(() => targetMlflow.PostAsync("model-versions/create", body, ct, Key("version", (options.Project ?? "default") + "\n" + name + "\n" + number)), ct);
        return Long(answer["model_version"]?["version"]) ?? throw new LineageApiException(ErrorCode.InternalError,
            $"model-versions/create answered without a version: {answer.ToJsonString()}", 200);
    }

    // ---- plumbing ------------------------------------------------------------------------

    /// <summary>An idempotency key for one write, stable across retries and re-runs of the same import: a hash of what it writes.</summary>
    private string Key(string kind, string what, byte[]? content = null)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(options.Source + "\n" + what));
        if (content is not null) hash.AppendData(content); // the same bytes as appending the content's text to what
        return $"mlflow-import-{kind}-" + Convert.ToHexStringLower(hash.GetHashAndReset())[..40];
    }

    /// <summary>Runs one item; a rejected write fails that item (reported) and the import goes on with the next.</summary>
    private async Task Guard(string item, Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (LineageException ex) when (ex is not LineageApiException { IsTransient: true })
        {
            _failed.Add(new ImportProblem(item, ex.Code.WireName(), ex.Message));
        }
    }

}
