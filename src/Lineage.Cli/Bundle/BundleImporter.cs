using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lineage.Cli.Import;
using Lineage.Client;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using static Lineage.Cli.Bundle.BundleExporter;
using static Lineage.Cli.Import.TransientRetry;

namespace Lineage.Cli.Bundle;

/// <param name="InBundle">Records of this type in the bundle.</param>
/// <param name="Imported">Records that needed a write on the target now (created, or completed after an interruption).</param>
/// <param name="Present">Records the target had already, exactly: nothing written.</param>
public sealed record ImportCount(string Type, long InBundle, long Imported, long Present);

/// <summary>The final report of <c>lineage import bundle</c>.</summary>
public sealed record BundleImportReport(string File, string Source, string Scope, string Project, List<ImportCount> Records, long BlobsUploaded,
    long BlobBytesUploaded, List<ImportProblem> Warnings, double Seconds);

/// <summary>
/// Imports a bundle (<see cref="BundleFormat"/>) into a server through its public API. First every member is read and
/// checked against the manifest (sizes, SHA-256, nothing missing or extra, every record parsed): a damaged or altered
/// bundle is refused before anything is written. Then the content the target lacks is uploaded (content-addressed,
/// one HEAD per blob) and the records are applied in file order. Each record has a natural key on the target (a name, or
/// the source's id or number kept in a <c>lineage.import.*</c> tag or property) that is looked up before writing, and
/// only what the target lacks is written (with idempotency keys made from the content), so running the same import again,
/// after it finished or after an interruption, completes what is missing and otherwise changes nothing.
/// </summary>
public sealed class BundleImporter(LineageClient target, string file, string? projectOption, Action<string, long, long> progress)
{
    private BundleManifest _manifest = null!;
    private List<BundleRecord> _records = null!;
    private string _source = null!;
    private string _project = null!;

    private readonly Dictionary<string, string> _experiments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, RunDto>> _targetRuns = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ArtifactVersionDto> _artifacts = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, long Version), ArtifactVersionDto> _artifactsByNumber = [];
    private readonly Dictionary<string, List<ArtifactVersionDto>> _targetArtifacts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ExecutionDto>> _targetExecutions = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Model, long Version), long> _modelVersions = [];
    private readonly Dictionary<string, List<ModelVersionDto>> _targetModelVersions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _historyLength = new(StringComparer.Ordinal);
    private readonly HashSet<string> _noReplay = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long InBundle, long Imported, long Present)> _counts = new(StringComparer.Ordinal);
    private readonly List<ImportProblem> _warnings = [];
    private long _blobsUploaded, _blobBytes;

    /// <summary>Always named: a listing without a project answers for every project the caller can read.</summary>
    private string Project => _project;

    public async Task<BundleImportReport> RunAsync(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        await VerifyAsync(ct);
        _project = projectOption ?? _manifest.Project;
        // Source names the exporting server and project: two projects' "sales@1" are two things.
        _source = $"{_manifest.Source}/projects/{_manifest.Project}";
        await EnsureProjectAsync(ct);
        await UploadBlobsAsync(ct);

        var done = 0;
        foreach (var record in _records)
        {
            bool wrote;
            try
            {
                wrote = await ApplyAsync(record, ct);
            }
            catch (LineageException ex) when (ex is not LineageApiException { IsTransient: true })
            {
                // Name the record: the import stops here, and running it again resumes at this record.
                throw new LineageException(ex.Code, $"{record.Label()}: {ex.Message}", ex.Field, ex);
            }
            Count(record, wrote);
            progress("importing records", ++done, _records.Count);
        }
        var counts = _counts.Select(c => new ImportCount(c.Key, c.Value.InBundle, c.Value.Imported, c.Value.Present)).ToList();
        return new BundleImportReport(Path.GetFullPath(file), _manifest.Source, _manifest.Scope, _project, counts, _blobsUploaded, _blobBytes, _warnings,
            Math.Round(watch.Elapsed.TotalSeconds, 3));
    }

    private async Task<bool> ApplyAsync(BundleRecord record, CancellationToken ct) => record switch
    {
        ExperimentRecord r => await ExperimentAsync(r, ct),
        RunRecord r => await RunAsync(r, ct),
        ArtifactRecord r => await ArtifactAsync(r, ct),
        ArtifactAliasRecord r => await ArtifactAliasAsync(r, ct),
        ExecutionRecord r => await ExecutionAsync(r, ct),
        ModelRecord r => await ModelAsync(r, ct),
        ModelVersionRecord r => await ModelVersionAsync(r, ct),
        RegistryChangeRecord r => await RegistryChangeAsync(r, ct),
        ModelStateRecord r => await ModelStateAsync(r, ct),
        _ => throw new UnreachableException(record.GetType().Name),
    };

    private void Count(BundleRecord record, bool wrote)
    {
        var type = BundleFormat.TypeName(record);
        var (n, imported, present) = _counts.GetValueOrDefault(type);
        _counts[type] = (n + 1, imported + (wrote ? 1 : 0), present + (wrote ? 0 : 1));
    }

    // ---- verification: nothing is written before the whole bundle checks out --------------------------

    private static LineageException Damaged(string what) =>
        LineageException.Invalid("FILE", $"the bundle is damaged or was altered: {what}; nothing was imported");

    private async Task VerifyAsync(CancellationToken ct)
    {
        if (!File.Exists(file)) throw LineageException.Invalid("FILE", $"'{file}' is not a file");
        var total = new FileInfo(file).Length;
        progress("verifying the bundle", 0, total);
        await using var stream = File.OpenRead(file);
        try
        {
            await using var tar = new TarReader(stream);
            var first = await tar.GetNextEntryAsync(copyData: false, ct);
            if (first is null || first.Name != BundleFormat.ManifestPath || first.DataStream is null)
                throw Damaged($"its first member is not {BundleFormat.ManifestPath}");
            try
            {
                _manifest = await JsonSerializer.DeserializeAsync(first.DataStream, BundleJson.Default.BundleManifest, ct)
                            ?? throw Damaged("the manifest is empty");
            }
            catch (JsonException ex)
            {
                throw Damaged($"the manifest is not valid ({ex.Message})");
            }
            if (_manifest.Format != BundleFormat.Format) throw Damaged($"the manifest's format is '{_manifest.Format}', not '{BundleFormat.Format}'");
            if (_manifest.FormatVersion != BundleFormat.Version)
                throw LineageException.Invalid("FILE", $"the bundle has format version {_manifest.FormatVersion}; this lineage reads version {BundleFormat.Version}");
            var expected = new Dictionary<string, BundleMember>(StringComparer.Ordinal);
            foreach (var m in _manifest.Members)
            {
                if (!expected.TryAdd(m.Path, m)) throw Damaged($"the manifest lists '{m.Path}' twice");
                if (m.Path.StartsWith(BundleFormat.BlobPrefix, StringComparison.Ordinal) && m.Path[BundleFormat.BlobPrefix.Length..] != m.Sha256)
                    throw Damaged($"blob member '{m.Path}' is not named by its SHA-256 {m.Sha256}");
            }
            if (!expected.ContainsKey(BundleFormat.RecordsPath)) throw Damaged($"the manifest does not list {BundleFormat.RecordsPath}");

            var seen = new HashSet<string>(StringComparer.Ordinal);
            TarEntry? entry;
            while ((entry = await tar.GetNextEntryAsync(copyData: false, ct)) is not null)
            {
                if (!expected.TryGetValue(entry.Name, out var member)) throw Damaged($"member '{entry.Name}' is not in the manifest");
                if (!seen.Add(entry.Name)) throw Damaged($"member '{entry.Name}' appears twice");
                if (entry.EntryType != TarEntryType.RegularFile || entry.DataStream is null) throw Damaged($"member '{entry.Name}' is not a file");
                if (entry.Length != member.Size) throw Damaged($"member '{entry.Name}' has {entry.Length} bytes, the manifest says {member.Size}");
                string actual;
                if (entry.Name == BundleFormat.RecordsPath)
                {
                    var bytes = new byte[entry.Length];
                    await entry.DataStream.ReadExactlyAsync(bytes, ct);
                    actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
                    if (actual == member.Sha256) _records = ParseRecords(bytes);
                }
                else
                {
                    actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(entry.DataStream, ct));
                }
                if (actual != member.Sha256) throw Damaged($"member '{entry.Name}' has SHA-256 {actual}, the manifest says {member.Sha256}");
                progress("verifying the bundle", stream.Position, total);
            }
            var missing = expected.Keys.Where(k => !seen.Contains(k)).Order(StringComparer.Ordinal).FirstOrDefault();
            if (missing is not null) throw Damaged($"member '{missing}' is missing");
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw Damaged($"it is not a readable tar file ({ex.Message})");
        }
        // Every piece of content a record needs must be a member.
        foreach (var a in _records.OfType<ArtifactRecord>())
            foreach (var digest in a.Kind == "directory" ? (a.Files ?? []).Select(f => f.Digest!) : a.Kind == "file" ? [a.Digest] : [])
                if (!_manifest.Members.Any(m => m.Sha256 == digest && m.Path.StartsWith(BundleFormat.BlobPrefix, StringComparison.Ordinal)))
                    throw Damaged($"{a.Label()} needs content {digest}, which is not a member");
    }

    private static List<BundleRecord> ParseRecords(byte[] bytes)
    {
        var records = new List<BundleRecord>();
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            try
            {
                records.Add(JsonSerializer.Deserialize(lines[i], BundleJson.Default.BundleRecord) ?? throw new JsonException("null record"));
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException)
            {
                throw Damaged($"{BundleFormat.RecordsPath} line {i + 1} is not a record ({ex.Message})");
            }
        }
        return records;
    }

    // ---- content -------------------------------------------------------------------------------------

    private async Task EnsureProjectAsync(CancellationToken ct)
    {
        var projects = await Retry(() => target.ListProjectsAsync(ct), ct);
        if (projects.Any(p => p.Name == Project)) return;
        await Retry(() => target.CreateProjectAsync(Project, $"imported from {_manifest.Source}", ct), ct);
    }

    /// <summary>Each blob the target lacks, staged to a temporary file (re-hashed there: the file may have changed since it was verified) and uploaded.</summary>
    private async Task UploadBlobsAsync(CancellationToken ct)
    {
        var blobs = _manifest.Members.Where(m => m.Path.StartsWith(BundleFormat.BlobPrefix, StringComparison.Ordinal)).ToList();
        var total = blobs.Sum(b => b.Size);
        long done = 0;
        progress("uploading content", 0, total);
        await using var stream = File.OpenRead(file);
        await using var tar = new TarReader(stream);
        var temp = Path.GetTempFileName();
        try
        {
            TarEntry? entry;
            while ((entry = await tar.GetNextEntryAsync(copyData: false, ct)) is not null)
            {
                if (!entry.Name.StartsWith(BundleFormat.BlobPrefix, StringComparison.Ordinal)) continue;
                var digest = entry.Name[BundleFormat.BlobPrefix.Length..];
                if (!await Retry(() => target.HasBlobAsync(digest, ct), ct))
                {
                    await using (var output = File.Create(temp))
                        await entry.DataStream!.CopyToAsync(output, ct);
                    if (await Sha256Async(temp, ct) != digest) throw Damaged($"member '{entry.Name}' changed after it was verified");
                    var blob = await Retry(() => target.UploadBlobAsync(temp, ct), ct);
                    if (blob.Digest != digest) throw new LineageException(ErrorCode.InternalError, $"the target stored {entry.Name} as {blob.Digest}");
                    _blobsUploaded++;
                    _blobBytes += entry.Length;
                }
                progress("uploading content", done += entry.Length, total);
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }

    // ---- experiments and runs --------------------------------------------------------------------------

    private Dictionary<string, string> WithProvenance(Dictionary<string, string> tags, long? createdAt, string? createdBy, params (string Key, string Value)[] ids)
    {
        var result = new Dictionary<string, string>(tags, StringComparer.Ordinal) { [BundleFormat.SourceKey] = _source };
        foreach (var (key, value) in ids) result[key] = value;
        // The first creation wins: a bundle exported from an imported copy keeps the original's time and creator.
        if (createdAt is { } at) result.TryAdd(BundleFormat.CreatedAtKey, at.ToString(CultureInfo.InvariantCulture));
        if (createdBy is { Length: > 0 } by) result.TryAdd(BundleFormat.CreatedByKey, by);
        return result;
    }

    private async Task<bool> ExperimentAsync(ExperimentRecord r, CancellationToken ct)
    {
        var tags = WithProvenance(r.Tags, r.CreatedAt, r.CreatedBy);
        ExperimentDto experiment;
        var wrote = false;
        try
        {
            experiment = await Retry(() => target.GetExperimentByNameAsync(r.Name, Project, ct), ct);
        }
        catch (LineageApiException ex) when (ex.Code == ErrorCode.ResourceDoesNotExist)
        {
            experiment = await Retry(() => target.CreateExperimentAsync(r.Name, Project, r.Description, tags, ct), ct);
            wrote = true;
        }
        // An experiment of that name the target had gets the bundle's tags, not provenance: it was not created from the bundle.
        foreach (var (key, value) in r.Tags.Where(t => !t.Key.StartsWith("lineage.import.", StringComparison.Ordinal)))
            if (experiment.Tags.GetValueOrDefault(key) != value)
            {
                await Retry(() => target.SetExperimentTagAsync(experiment.Id, key, value, ct), ct);
                wrote = true;
            }
        if (r.Description is not null && experiment.Description is null)
        {
            await Retry(() => target.UpdateExperimentAsync(experiment.Id, description: r.Description, ct: ct), ct);
            wrote = true;
        }
        _experiments[r.Id] = experiment.Id;
        return wrote;
    }

    private async Task<bool> RunAsync(RunRecord r, CancellationToken ct)
    {
        var experiment = _experiments[r.ExperimentId];
        if (!_targetRuns.TryGetValue(experiment, out var imported))
        {
            // Runs imported before are found by the source's run id tag.
            imported = new Dictionary<string, RunDto>(StringComparer.Ordinal);
            string? token = null;
            do
            {
                var page = await Retry(() => target.ListRunsAsync([experiment], lifecycle: "all", limit: Limits.MaxPageSize, pageToken: token, ct: ct), ct);
                foreach (var run in page.Runs)
                    if (run.Tags.GetValueOrDefault(BundleFormat.SourceKey) == _source && run.Tags.TryGetValue(BundleFormat.RunIdKey, out var id))
                        imported[id] = run;
                token = page.NextPageToken;
            } while (token is not null);
            _targetRuns[experiment] = imported;
        }
        var tags = WithProvenance(r.Tags, r.CreatedAt, r.CreatedBy, (BundleFormat.RunIdKey, r.Id));
        var wrote = false;
        if (!imported.TryGetValue(r.Id, out var existing))
        {
            var parent = r.ParentRunId is null ? null : _runs[r.ParentRunId];
            var created = await Retry(() => target.CreateRunAsync(new CreateRunRequest(experiment, r.Name, r.StartTime, r.User, parent,
                Tags: new() { [BundleFormat.RunIdKey] = r.Id, [BundleFormat.SourceKey] = _source }), Key("run", experiment, r.Id), ct), ct);
            _runs[r.Id] = created.RunId;
            existing = null;
            wrote = true;
        }
        var runId = existing?.RunId ?? _runs[r.Id];
        _runs[r.Id] = runId;

        var newParams = r.Params.Where(p => existing?.Params.GetValueOrDefault(p.Key) is null).Select(p => new KeyValueDto(p.Key, p.Value)).ToList();
        foreach (var p in r.Params.Where(p => existing?.Params.GetValueOrDefault(p.Key) is { } have && have != p.Value))
            _warnings.Add(new ImportProblem(r.Label(), "CONFLICT", $"param '{p.Key}' is '{existing!.Params[p.Key]}' on the target, '{p.Value}' in the bundle; kept the target's"));
        var newTags = tags.Where(t => existing?.Tags.GetValueOrDefault(t.Key) != t.Value
                                      && !(t.Key is BundleFormat.CreatedAtKey or BundleFormat.CreatedByKey && existing?.Tags.ContainsKey(t.Key) == true))
            .Select(t => new KeyValueDto(t.Key, t.Value)).ToList();
        var points = new List<LogMetricRequest>();
        foreach (var (key, history) in r.Metrics)
        {
            // After an interruption the target holds a prefix of each series (batches are all-or-nothing): send the rest.
            var stored = existing is not null && existing.Metrics.Any(m => m.Key == key)
                ? (await Retry(() => target.GetFullMetricHistoryAsync(runId, key, ct), ct)).Count
                : 0;
            points.AddRange(history.Skip(stored).Select(p => new LogMetricRequest(key, p.Value, p.Step, p.Timestamp)));
        }
        wrote |= await SendBatchesAsync(runId, newParams, newTags, points, ct);

        if (existing?.Status != r.Status || existing.EndTime != r.EndTime)
        {
            await Retry(() => target.UpdateRunAsync(runId, new UpdateRunRequest(r.Status, r.EndTime), ct), ct);
            wrote = true;
        }
        return wrote;
    }

    private async Task<bool> SendBatchesAsync(string runId, List<KeyValueDto> parameters, List<KeyValueDto> tags, List<LogMetricRequest> points,
        CancellationToken ct)
    {
        int p = 0, t = 0, m = 0;
        var sent = false;
        while (p < parameters.Count || t < tags.Count || m < points.Count)
        {
            var batch = new BatchRequest(
                points.GetRange(m, Math.Min(Limits.MaxBatchMetrics, points.Count - m)),
                parameters.GetRange(p, Math.Min(Limits.MaxBatchParams, parameters.Count - p)),
                tags.GetRange(t, Math.Min(Limits.MaxBatchTags, tags.Count - t)));
            var key = Key("batch", runId, JsonSerializer.Serialize(batch, LineageJson.Default.BatchRequest));
            await Retry(() => target.LogBatchAsync(runId, batch, key, ct), ct);
            m += batch.Metrics!.Count;
            p += batch.Params!.Count;
            t += batch.Tags!.Count;
            sent = true;
        }
        return sent;
    }

    // ---- artifacts -----------------------------------------------------------------------------------

    private async Task<List<ArtifactVersionDto>> TargetVersionsAsync(string name, CancellationToken ct)
    {
        if (_targetArtifacts.TryGetValue(name, out var versions)) return versions;
        versions = [];
        string? token = null;
        do
        {
            var page = await Retry(() => target.ListArtifactsAsync(name, project: Project, lifecycle: "all", limit: Limits.MaxPageSize, pageToken: token, ct: ct), ct);
            versions.AddRange(page.Artifacts);
            token = page.NextPageToken;
        } while (token is not null);
        return _targetArtifacts[name] = versions;
    }

    private async Task<bool> ArtifactAsync(ArtifactRecord r, CancellationToken ct)
    {
        var number = r.Version.ToString(CultureInfo.InvariantCulture);
        var versions = await TargetVersionsAsync(r.Name, ct);
        var have = versions.FirstOrDefault(v => v.Tags.GetValueOrDefault(BundleFormat.SourceKey) == _source && v.Tags.GetValueOrDefault(BundleFormat.VersionKey) == number);
        var wrote = false;
        if (have is null)
        {
            var tags = WithProvenance(r.Tags, r.CreatedAt, r.CreatedBy, (BundleFormat.VersionKey, number));
            var request = new RegisterArtifactRequest(r.Name, r.Type, Project, r.Metadata, r.Description, tags,
                r.ProducerRunId is null ? null : _runs[r.ProducerRunId],
                File: r.Kind == "file" ? new FileRefDto(r.Digest, r.Size) : null,
                Files: r.Kind == "directory" ? r.Files : null,
                External: r.Kind == "external" ? new ExternalRefDto(r.Uri, r.Digest, r.Size) : null);
            have = await Retry(() => target.RegisterArtifactAsync(request, Key("artifact", r.Name, number, r.Digest), ct), ct);
            versions.Add(have);
            if (have.Version != r.Version)
                _warnings.Add(new ImportProblem(r.Label(), "RENUMBERED",
                    $"imported as {r.Name}@{have.Version}: the target's numbers for '{r.Name}' differ from the source's (tag {BundleFormat.VersionKey} keeps {r.Version})"));
            wrote = true;
        }
        else if (have.Digest != r.Digest)
        {
            throw LineageException.Conflict($"imported before as {r.Name}@{have.Version} with digest {have.Digest}, but the bundle has {r.Digest}");
        }
        if (r.Lifecycle == "deleted" && have.Lifecycle == "active")
        {
            var version = have.Version;
            have = await Retry(() => target.DeleteArtifactVersionAsync(r.Name, version, Project, ct), ct);
            wrote = true;
        }
        _artifacts[r.Id] = have;
        _artifactsByNumber[(r.Name, r.Version)] = have;
        return wrote;
    }

    private async Task<bool> ArtifactAliasAsync(ArtifactAliasRecord r, CancellationToken ct)
    {
        var version = _artifactsByNumber[(r.Name, r.Version)].Version;
        try
        {
            if ((await Retry(() => target.GetArtifactAsync(r.Name, r.Alias, Project, ct), ct)).Version == version) return false;
        }
        catch (LineageApiException ex) when (ex.Code == ErrorCode.ResourceDoesNotExist)
        {
        }
        await Retry(() => target.SetAliasAsync(r.Name, r.Alias, version, Project, ct), ct);
        return true;
    }

    // ---- lineage -------------------------------------------------------------------------------------

    private async Task<bool> ExecutionAsync(ExecutionRecord r, CancellationToken ct)
    {
        var inputs = r.Inputs.Select(e => (Artifact: _artifacts[e.Artifact].Id, e.Role)).ToList();
        var outputs = r.Outputs.Select(e => (Artifact: _artifacts[e.Artifact].Id, e.Role)).ToList();
        if (r.RunId is not null) return await RunLineageAsync(_runs[r.RunId], inputs, outputs, ct);

        if (!_targetExecutions.TryGetValue(r.Type, out var executions))
        {
            executions = [];
            string? token = null;
            do
            {
                var page = await Retry(() => target.ListExecutionsAsync(Project, r.Type, Limits.MaxPageSize, token, ct), ct);
                executions.AddRange(page.Executions);
                token = page.NextPageToken;
            } while (token is not null);
            _targetExecutions[r.Type] = executions;
        }
        var have = executions.FirstOrDefault(e => Property(e.Properties, BundleFormat.SourceKey) == _source && Property(e.Properties, BundleFormat.ExecutionIdKey) == r.Id);
        if (have is null)
        {
            // Executions have no tags: what the API cannot carry goes into their properties, next to the source's own.
            var properties = JsonNode.Parse(r.Properties.GetRawText()) as JsonObject ?? [];
            properties[BundleFormat.SourceKey] = _source;
            properties[BundleFormat.ExecutionIdKey] = r.Id;
            if (!properties.ContainsKey(BundleFormat.CreatedAtKey)) properties[BundleFormat.CreatedAtKey] = r.CreatedAt;
            if (!properties.ContainsKey(BundleFormat.CreatedByKey) && r.CreatedBy is not null) properties[BundleFormat.CreatedByKey] = r.CreatedBy;
            if (!properties.ContainsKey(BundleFormat.StartTimeKey) && r.StartTime is not null) properties[BundleFormat.StartTimeKey] = r.StartTime;
            if (!properties.ContainsKey(BundleFormat.EndTimeKey) && r.EndTime is not null) properties[BundleFormat.EndTimeKey] = r.EndTime;
            var request = new CreateExecutionRequest(r.Type, r.Name, Project, r.State, JsonSerializer.SerializeToElement(properties, BundleNodeJson.Default.JsonObject),
                inputs.Select(i => new EventRequest(new ArtifactRefDto(Id: i.Artifact), i.Role)).ToList(),
                outputs.Select(o => new EventRequest(new ArtifactRefDto(Id: o.Artifact), o.Role)).ToList());
            executions.Add(await Retry(() => target.CreateExecutionAsync(request, Key("execution", r.Id), ct), ct));
            return true;
        }
        var graph = await Retry(() => target.GetLineageAsync("execution:" + have.Id, "both", 1, ct), ct);
        return await AddMissingEdgesAsync(have.Id, graph, inputs, outputs, null, ct);
    }

    /// <summary>A run's inputs go through the run (which makes its execution when it has none); its outputs were mostly recorded when the artifacts were registered.</summary>
    private async Task<bool> RunLineageAsync(string runId, List<(string Artifact, string Role)> inputs, List<(string Artifact, string Role)> outputs,
        CancellationToken ct)
    {
        GraphResponse? graph = null;
        try
        {
            graph = await Retry(() => target.GetLineageAsync("run:" + runId, "both", 1, ct), ct);
        }
        catch (LineageApiException ex) when (ex.Code == ErrorCode.ResourceDoesNotExist)
        {
        }
        return await AddMissingEdgesAsync(graph?.Root[(graph.Root.IndexOf(':') + 1)..], graph, inputs, outputs, runId, ct);
    }

    private async Task<bool> AddMissingEdgesAsync(string? executionId, GraphResponse? graph, List<(string Artifact, string Role)> inputs,
        List<(string Artifact, string Role)> outputs, string? runId, CancellationToken ct)
    {
        var self = "execution:" + executionId;
        var edges = (graph?.Edges ?? []).Select(e => (e.From, e.To, e.Role)).ToHashSet();
        var wrote = false;
        foreach (var (artifact, role) in inputs.Where(i => !edges.Contains(("artifact:" + i.Artifact, self, i.Role))))
        {
            var execution = runId is not null
                ? await Retry(() => target.LogRunInputAsync(runId, new ArtifactRefDto(Id: artifact), role, ct), ct)
                : await Retry(() => target.AddEventsAsync(executionId!, new AddEventsRequest(Inputs: [new EventRequest(new ArtifactRefDto(Id: artifact), role)]), ct), ct);
            executionId = execution.Id;
            self = "execution:" + executionId;
            wrote = true;
        }
        var missing = outputs.Where(o => !edges.Contains((self, "artifact:" + o.Artifact, o.Role))).ToList();
        if (missing.Count > 0)
        {
            if (executionId is null) throw LineageException.NotFound($"run {runId} has no lineage on the target to add outputs to");
            await Retry(() => target.AddEventsAsync(executionId, new AddEventsRequest(Outputs: missing.Select(o =>
                new EventRequest(new ArtifactRefDto(Id: o.Artifact), o.Role)).ToList()), ct), ct);
            wrote = true;
        }
        return wrote;
    }

    private static string? Property(JsonElement properties, string key) =>
        properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    // ---- registry ------------------------------------------------------------------------------------

    private async Task<bool> ModelAsync(ModelRecord r, CancellationToken ct)
    {
        var tags = WithProvenance(r.Tags, r.CreatedAt, r.CreatedBy);
        RegisteredModelDto model;
        var wrote = false;
        try
        {
            model = await Retry(() => target.GetModelAsync(r.Name, Project, ct), ct);
            if (model.Tags.GetValueOrDefault(BundleFormat.SourceKey) != _source)
            {
                // Someone else's model of that name: its history is its own, so only the current state is brought over.
                _noReplay.Add(r.Name);
                _warnings.Add(new ImportProblem(r.Label(), "MERGED", $"the target had a model '{r.Name}' not imported from {_source}; versions are added, its history is not replayed"));
            }
        }
        catch (LineageApiException ex) when (ex.Code == ErrorCode.ResourceDoesNotExist)
        {
            model = await Retry(() => target.CreateModelAsync(r.Name, r.Description, tags, project: Project, ct: ct), ct);
            wrote = true;
        }
        // Provenance went in with the creation; a model the target had gets the bundle's own tags only.
        foreach (var (key, value) in r.Tags.Where(t => !t.Key.StartsWith("lineage.import.", StringComparison.Ordinal)))
            if (model.Tags.GetValueOrDefault(key) != value)
            {
                await Retry(() => target.SetModelTagAsync(r.Name, key, value, Project, ct), ct);
                wrote = true;
            }
        if (r.Description is not null && model.Description is null)
        {
            await Retry(() => target.UpdateModelAsync(r.Name, r.Description, Project, ct), ct);
            wrote = true;
        }
        var history = await Retry(() => target.GetModelHistoryAsync(r.Name, project: Project, ct: ct), ct);
        _historyLength[r.Name] = history.Changes.Count;
        return wrote;
    }

    private async Task<List<ModelVersionDto>> TargetModelVersionsAsync(string model, CancellationToken ct, bool refresh = false)
    {
        if (!refresh && _targetModelVersions.TryGetValue(model, out var versions)) return versions;
        versions = [];
        string? token = null;
        do
        {
            var page = await Retry(() => target.SearchModelVersionsAsync(model, project: Project, limit: Limits.MaxPageSize, pageToken: token, ct: ct), ct);
            versions.AddRange(page.Versions);
            token = page.NextPageToken;
        } while (token is not null);
        return _targetModelVersions[model] = versions;
    }

    private async Task<bool> ModelVersionAsync(ModelVersionRecord r, CancellationToken ct)
    {
        var number = r.Version.ToString(CultureInfo.InvariantCulture);
        var versions = await TargetModelVersionsAsync(r.Model, ct);
        var have = versions.FirstOrDefault(v => v.Tags.GetValueOrDefault(BundleFormat.SourceKey) == _source && v.Tags.GetValueOrDefault(BundleFormat.VersionKey) == number);
        var wrote = false;
        if (have is null)
        {
            var tags = WithProvenance(r.Tags, r.CreatedAt, r.CreatedBy, (BundleFormat.VersionKey, number));
            var request = new CreateModelVersionRequest(new ArtifactRefDto(Id: _artifacts[r.Artifact].Id), Description: r.Description, Tags: tags, Status: r.Status);
            have = await Retry(() => target.CreateModelVersionAsync(r.Model, request, Project, ct, Key("model-version", r.Model, number)), ct);
            versions.Add(have);
            if (have.Version != r.Version)
                _warnings.Add(new ImportProblem(r.Label(), "RENUMBERED",
                    $"imported as {r.Model} v{have.Version}: the target's numbers differ from the source's (tag {BundleFormat.VersionKey} keeps {r.Version})"));
            wrote = true;
        }
        if (r.StatusMessage is not null && have.StatusMessage != r.StatusMessage)
        {
            var version = have.Version;
            await Retry(() => target.UpdateModelVersionAsync(r.Model, version, new UpdateModelVersionRequest(StatusMessage: r.StatusMessage), Project, ct), ct);
            wrote = true;
        }
        _modelVersions[(r.Model, r.Version)] = have.Version;
        return wrote;
    }

    /// <summary>
    /// Replays one alias or stage change. Each replayed change adds exactly one entry to the target model's history, so the
    /// entries the target has for a model it got from this source are the first changes of the bundle's replay: a change
    /// whose sequence number is within that count was replayed before.
    /// </summary>
    private async Task<bool> RegistryChangeAsync(RegistryChangeRecord r, CancellationToken ct)
    {
        if (_noReplay.Contains(r.Model) || r.Sequence <= _historyLength[r.Model]) return false;
        long Map(long source) => _modelVersions.TryGetValue((r.Model, source), out var v) ? v
            : throw LineageException.NotFound($"the change names version {source}, which is not in the bundle");
        try
        {
            switch (r.Kind)
            {
                case "alias" when r.NewValue is null:
                    await Retry(() => target.DeleteModelAliasAsync(r.Model, r.Name!, Project, ct), ct);
                    break;
                case "alias":
                    var to = Map(long.Parse(r.NewValue, CultureInfo.InvariantCulture));
                    await Retry(() => target.SetModelAliasAsync(r.Model, r.Name!, to, Project, ct), ct);
                    break;
                case "stage":
                    var version = Map(r.Version ?? 0);
                    await Retry(() => target.TransitionModelStageAsync(r.Model, version, r.NewValue!, project: Project, ct: ct), ct);
                    break;
                default:
                    throw LineageException.Invalid("kind", $"a '{r.Kind}' change, which this lineage cannot replay");
            }
        }
        catch (LineageException ex) when (ex is not LineageApiException { IsTransient: true })
        {
            // Stop this model's replay (later changes would land out of order); its state record still sets where it ended.
            _noReplay.Add(r.Model);
            _warnings.Add(new ImportProblem(r.Label(), ex.Code.WireName(), $"history replay stopped: {ex.Message}"));
            return false;
        }
        _historyLength[r.Model]++;
        return true;
    }

    private async Task<bool> ModelStateAsync(ModelStateRecord r, CancellationToken ct)
    {
        var model = await Retry(() => target.GetModelAsync(r.Model, Project, ct), ct);
        var versions = await TargetModelVersionsAsync(r.Model, ct, refresh: true);
        var wrote = false;
        foreach (var (alias, source) in r.Aliases)
        {
            var version = _modelVersions[(r.Model, source)];
            if (model.Aliases.TryGetValue(alias, out var at) && at == version) continue;
            await Retry(() => target.SetModelAliasAsync(r.Model, alias, version, Project, ct), ct);
            wrote = true;
        }
        foreach (var (number, stage) in r.Stages)
        {
            var version = _modelVersions[(r.Model, long.Parse(number, CultureInfo.InvariantCulture))];
            if (string.Equals(versions.FirstOrDefault(v => v.Version == version)?.Stage, stage, StringComparison.OrdinalIgnoreCase)) continue;
            await Retry(() => target.TransitionModelStageAsync(r.Model, version, stage, project: Project, ct: ct), ct);
            wrote = true;
        }
        if (!model.Approvers.Order(StringComparer.Ordinal).SequenceEqual(r.Approvers.Order(StringComparer.Ordinal)))
        {
            await Retry(() => target.SetModelApproversAsync(r.Model, r.Approvers, Project, ct), ct);
            wrote = true;
        }
        return wrote;
    }

    // ---- plumbing ------------------------------------------------------------------------------------

    /// <summary>An idempotency key for one write, the same on every retry and every run of this import.</summary>
    private string Key(string kind, params string[] parts) =>
        $"bundle-import-{kind}-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_source + "\n" + _project + "\n" + string.Join('\n', parts))))[..40];
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
internal sealed partial class BundleNodeJson : System.Text.Json.Serialization.JsonSerializerContext;
