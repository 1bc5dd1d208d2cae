using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Lineage.Client;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using static Lineage.Cli.Import.TransientRetry;

namespace Lineage.Cli.Bundle;

/// <summary>The final report of <c>lineage export</c>.</summary>
public sealed record ExportReport(string File, string Scope, SortedDictionary<string, long> Counts, long Blobs, long BlobBytes, long BundleBytes,
    List<string> Warnings, double Seconds);

/// <summary>
/// Reads a project, or one model version's closure, from a server through its public API (so the caller's access rules
/// apply) and writes a bundle (<see cref="BundleFormat"/>). Content is downloaded once per digest into a staging folder
/// beside the output, checked against its digest, and the tar is written last under a temporary name and moved into place:
/// an interrupted export leaves no bundle that looks complete.
/// </summary>
public sealed class BundleExporter(LineageClient source, string? project, Action<string, long, long> progress)
{
    private const int Page = Limits.MaxPageSize;

    private readonly List<ExperimentRecord> _experiments = [];
    private readonly List<RunRecord> _runs = [];
    private readonly HashSet<string> _runIds = new(StringComparer.Ordinal);
    private readonly SortedDictionary<long, ArtifactVersionDto> _artifacts = [];
    private readonly List<ExecutionRecord> _executions = [];
    private readonly Dictionary<string, List<ManifestEntryDto>> _files = new(StringComparer.Ordinal);
    private readonly List<BundleRecord> _registry = [];
    private readonly List<string> _warnings = [];
    /// <summary>Always named: a listing without a project answers for every project the caller can read.</summary>
    private string Project => project ?? "default";

    /// <summary>Everything the project holds that the bundle format carries (docs/import.md lists what it does not).</summary>
    public async Task<ExportReport> ExportProjectAsync(string file, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        progress("reading experiments", 0, 1);
        var experiments = await AllAsync<ExperimentDto>(async token =>
        {
            var p = await Retry(() => source.ListExperimentsAsync(Project, "active", limit: Page, pageToken: token, ct: ct), ct);
            return (p.Experiments, p.NextPageToken);
        });
        foreach (var e in experiments.OrderBy(e => long.Parse(e.Id, CultureInfo.InvariantCulture))) _experiments.Add(Experiment(e));

        var runs = new List<RunDto>();
        foreach (var e in experiments)
            runs.AddRange(await AllAsync<RunDto>(async token =>
            {
                var p = await Retry(() => source.ListRunsAsync([e.Id], lifecycle: "active", limit: Page, pageToken: token, ct: ct), ct);
                return (p.Runs, p.NextPageToken);
            }));
        await AddRunsAsync(runs, ct);

        progress("reading artifacts", 0, 1);
        foreach (var a in await AllAsync<ArtifactVersionDto>(async token =>
                 {
                     var p = await Retry(() => source.ListArtifactsAsync(project: Project, lifecycle: "all", limit: Page, pageToken: token, ct: ct), ct);
                     return (p.Artifacts, p.NextPageToken);
                 }))
            AddArtifact(a);

        progress("reading executions", 0, 1);
        var executions = await AllAsync<ExecutionDto>(async token =>
        {
            var p = await Retry(() => source.ListExecutionsAsync(Project, limit: Page, pageToken: token, ct: ct), ct);
            return (p.Executions, p.NextPageToken);
        });
        var done = 0;
        foreach (var e in executions.OrderBy(e => long.Parse(e.Id, CultureInfo.InvariantCulture)))
        {
            var graph = await Retry(() => source.GetLineageAsync("execution:" + e.Id, "both", 1, ct), ct);
            AddExecution(e, graph.Edges);
            progress("reading executions", ++done, executions.Count);
        }

        progress("reading the model registry", 0, 1);
        var models = await AllAsync<RegisteredModelDto>(async token =>
        {
            var p = await Retry(() => source.ListModelsAsync(project: Project, limit: Page, pageToken: token, ct: ct), ct);
            return (p.Models, p.NextPageToken);
        });
        foreach (var m in models.OrderBy(m => m.CreatedAt).ThenBy(m => m.Name, StringComparer.Ordinal))
        {
            var versions = await AllAsync<ModelVersionDto>(async token =>
            {
                var p = await Retry(() => source.SearchModelVersionsAsync(m.Name, project: Project, limit: Page, pageToken: token, ct: ct), ct);
                return (p.Versions, p.NextPageToken);
            });
            var history = await Retry(() => source.GetModelHistoryAsync(m.Name, project: Project, ct: ct), ct);
            AddModel(m, versions, history.Changes);
        }
        return await WriteAsync(file, "project", null, null, watch, ct);
    }

    /// <summary>
    /// One model version and what it came from: its artifact, the upstream graph behind it (artifact versions and the
    /// executions between them, with their edges), the runs among those executions with their experiments, params,
    /// tags and metric histories, and the model with this version's aliases and stage. Nothing else of the project.
    /// </summary>
    public async Task<ExportReport> ExportModelVersionAsync(string file, string model, long version, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        progress("reading the model version", 0, 1);
        var mv = await Retry(() => source.GetModelVersionAsync(model, version.ToString(CultureInfo.InvariantCulture), Project, ct), ct);
        var graph = await Retry(() => source.GetLineageAsync("artifact:" + mv.Artifact.Id, "upstream", 100, ct), ct);
        var nodes = graph.Nodes.ToList();
        var done = 0;
        foreach (var node in nodes.Where(n => n.Kind == "artifact"))
        {
            AddArtifact(await Retry(() => source.GetArtifactByIdAsync(NodeNumber(node.Id), ct), ct));
            progress("reading the upstream graph", ++done, nodes.Count);
        }
        var executions = new List<ExecutionDto>();
        foreach (var node in nodes.Where(n => n.Kind == "execution"))
        {
            executions.Add(await Retry(() => source.GetExecutionAsync(NodeNumber(node.Id), ct), ct));
            progress("reading the upstream graph", ++done, nodes.Count);
        }
        var runs = new List<RunDto>();
        foreach (var runId in executions.Select(e => e.RunId).OfType<string>().Distinct(StringComparer.Ordinal))
            runs.Add(await Retry(() => source.GetRunAsync(runId, ct), ct));
        foreach (var experimentId in runs.Select(r => r.ExperimentId).Distinct(StringComparer.Ordinal).OrderBy(id => long.Parse(id, CultureInfo.InvariantCulture)))
            _experiments.Add(Experiment(await Retry(() => source.GetExperimentAsync(experimentId, ct), ct)));
        await AddRunsAsync(runs, ct);
        // Only the upstream walk's edges: an upstream run's other outputs are not part of this version's closure.
        foreach (var e in executions.OrderBy(e => long.Parse(e.Id, CultureInfo.InvariantCulture)))
            AddExecution(e, graph.Edges);

        var m = await Retry(() => source.GetModelAsync(model, Project, ct), ct);
        AddModel(m, [mv], null);
        return await WriteAsync(file, "model-version", model, version, watch, ct);
    }

    // ---- collecting ------------------------------------------------------------------------

    private ExperimentRecord Experiment(ExperimentDto e)
    {
        WarnRedacted($"experiment {e.Name} tag", e.Tags);
        return new ExperimentRecord(e.Id, e.Name, e.Description, e.Tags, e.CreatedAt, e.CreatedBy);
    }

    /// <summary>A sensitive value the caller may not read arrives redacted; the bundle would carry the mask, not the secret.</summary>
    private void WarnRedacted(string what, IEnumerable<KeyValuePair<string, string>> values)
    {
        foreach (var (key, value) in values)
            if (value == Lineage.Core.Governance.SensitiveKeys.Redacted)
                _warnings.Add($"{what} '{key}' is redacted for you (\"***\"), so the bundle holds the mask; export as a project admin to carry the value");
    }

    private async Task AddRunsAsync(List<RunDto> runs, CancellationToken ct)
    {
        var byId = runs.ToDictionary(r => r.RunId, StringComparer.Ordinal);
        var done = 0;
        // Parents before children: the importer names a child's parent by the id the target gave it.
        foreach (var run in runs.OrderBy(r => Depth(r)).ThenBy(r => r.StartTime).ThenBy(r => r.RunId, StringComparer.Ordinal))
        {
            var metrics = new Dictionary<string, List<HistoryPointDto>>(StringComparer.Ordinal);
            foreach (var key in run.Metrics.Select(m => m.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
                metrics[key] = await Retry(() => source.GetFullMetricHistoryAsync(run.RunId, key, ct), ct);
            WarnRedacted($"run {run.RunId} param", run.Params);
            WarnRedacted($"run {run.RunId} tag", run.Tags);
            var parent = run.ParentRunId is { } p && byId.ContainsKey(p) ? p : null;
            if (run.ParentRunId is not null && parent is null)
                _warnings.Add($"run {run.RunId}: its parent run {run.ParentRunId} is not in the bundle; imported without a parent");
            _runIds.Add(run.RunId);
            _runs.Add(new RunRecord(run.RunId, run.ExperimentId, run.Name, run.Status, run.StartTime, run.EndTime, run.User, parent, run.Params, run.Tags,
                metrics, run.CreatedAt, run.CreatedBy));
            progress("reading runs", ++done, runs.Count);
        }

        int Depth(RunDto r)
        {
            var depth = 0;
            for (var at = r; at.ParentRunId is { } p && byId.TryGetValue(p, out var parent) && depth < runs.Count; at = parent) depth++;
            return depth;
        }
    }

    private void AddArtifact(ArtifactVersionDto a)
    {
        if (a.Type == "feature_set")
        {
            // The feature store made it (with its definition and execution); registering it by hand would be a different thing.
            _warnings.Add($"artifact {a.Name}@{a.Version}: a feature set; feature sets are not exported");
            return;
        }
        if (a.Lifecycle == "purged")
        {
            _warnings.Add($"artifact {a.Name}@{a.Version}: purged (its content is gone); not exported, so later numbers of '{a.Name}' shift on import");
            return;
        }
        if (a.Metadata.ValueKind == JsonValueKind.Object)
            WarnRedacted($"artifact {a.Name}@{a.Version} metadata", a.Metadata.EnumerateObject()
                .Where(p => p.Value.ValueKind == JsonValueKind.String).Select(p => KeyValuePair.Create(p.Name, p.Value.GetString()!)));
        _artifacts[long.Parse(a.Id, CultureInfo.InvariantCulture)] = a;
    }

    private void AddExecution(ExecutionDto e, List<GraphEdgeDto> edges)
    {
        if (e.RunId is null && e.Type is "deployment" or "feature_engineering")
        {
            // The server records these for deployments and feature sets, which are not exported: a bare copy would pretend otherwise.
            _warnings.Add($"execution {e.Id}: a {e.Type} execution; deployments and feature sets are not exported");
            return;
        }
        if (e.RunId is not null && !_runIds.Contains(e.RunId))
        {
            _warnings.Add($"execution {e.Id}: its run {e.RunId} is not in the bundle (deleted?); its lineage is not exported");
            return;
        }
        var self = "execution:" + e.Id;
        var inputs = new List<EdgeRecord>();
        var outputs = new List<EdgeRecord>();
        foreach (var edge in edges.Where(x => x.From == self || x.To == self))
        {
            var artifact = NodeNumber(edge.From == self ? edge.To : edge.From);
            if (!_artifacts.ContainsKey(long.Parse(artifact, CultureInfo.InvariantCulture)))
            {
                _warnings.Add($"execution {e.Id}: artifact version {artifact} (another project, or purged) is not in the bundle; that edge is not exported");
                continue;
            }
            (edge.From == self ? outputs : inputs).Add(new EdgeRecord(artifact, edge.Role));
        }
        _executions.Add(new ExecutionRecord(e.Id, e.Type, e.Name, e.State, e.Properties, e.RunId, inputs, outputs, e.StartTime, e.EndTime,
            e.CreatedAt, e.CreatedBy));
    }

    private void AddModel(RegisteredModelDto m, List<ModelVersionDto> versions, List<RegistryChangeDto>? history)
    {
        _registry.Add(new ModelRecord(m.Name, m.Description, m.Tags, m.CreatedAt, m.CreatedBy));
        var exported = new HashSet<long>();
        foreach (var v in versions.OrderBy(v => v.Version))
        {
            if (!_artifacts.ContainsKey(long.Parse(v.Artifact.Id, CultureInfo.InvariantCulture)))
            {
                _warnings.Add($"model {m.Name} v{v.Version}: its artifact {v.Artifact.Name}@{v.Artifact.Version} is not in the bundle; not exported");
                continue;
            }
            exported.Add(v.Version);
            _registry.Add(new ModelVersionRecord(m.Name, v.Version, v.Artifact.Id, v.RunId, v.Status, v.StatusMessage, v.Description, v.Tags,
                v.CreatedAt, v.CreatedBy));
        }
        var sequence = 0;
        foreach (var c in history ?? [])
            _registry.Add(new RegistryChangeRecord(m.Name, ++sequence, c.Kind, c.Name, c.Version, c.OldValue, c.NewValue, c.ChangedAt, c.ChangedBy));
        _registry.Add(new ModelStateRecord(m.Name,
            m.Aliases.Where(a => exported.Contains(a.Value)).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal),
            versions.Where(v => exported.Contains(v.Version)).ToDictionary(v => v.Version.ToString(CultureInfo.InvariantCulture), v => v.Stage),
            m.Approvers));
    }

    // ---- writing ---------------------------------------------------------------------------

    private async Task<ExportReport> WriteAsync(string file, string scope, string? model, long? version, Stopwatch watch, CancellationToken ct)
    {
        var target = Path.GetFullPath(file);
        var staging = target + ".partial.d";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(Path.Combine(staging, "blobs"));
        try
        {
            var blobs = await DownloadBlobsAsync(staging, ct);

            var records = new List<BundleRecord>();
            records.AddRange(_experiments);
            records.AddRange(_runs);
            records.AddRange(_artifacts.Values.OrderBy(a => a.Name, StringComparer.Ordinal).ThenBy(a => a.Version).Select(ToRecord));
            foreach (var a in _artifacts.Values.Where(a => a.Lifecycle == "active").OrderBy(a => a.Name, StringComparer.Ordinal).ThenBy(a => a.Version))
                records.AddRange(a.Aliases.Order(StringComparer.Ordinal).Select(alias => new ArtifactAliasRecord(a.Name, alias, a.Version)));
            records.AddRange(_executions);
            records.AddRange(_registry);
            var recordsPath = Path.Combine(staging, BundleFormat.RecordsPath);
            await using (var output = File.Create(recordsPath))
                foreach (var r in records)
                {
                    await JsonSerializer.SerializeAsync(output, r, BundleJson.Default.BundleRecord, ct);
                    output.WriteByte((byte)'\n');
                }

            var members = new List<BundleMember> { new(BundleFormat.RecordsPath, new FileInfo(recordsPath).Length, await Sha256Async(recordsPath, ct)) };
            members.AddRange(blobs.Order(StringComparer.Ordinal).Select(d => new BundleMember(BundleFormat.BlobPrefix + d,
                new FileInfo(Path.Combine(staging, "blobs", d)).Length, d)));
            var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var g in records.GroupBy(BundleFormat.TypeName)) counts[g.Key] = g.Count();
            counts["blob"] = blobs.Count;
            var manifest = new BundleManifest(BundleFormat.Format, BundleFormat.Version, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                source.BaseAddress.AbsoluteUri.TrimEnd('/'), Project, scope, model, version, counts, members);

            var total = members.Sum(m => m.Size);
            progress("writing the bundle", 0, total);
            var partial = target + ".partial";
            await using (var output = File.Create(partial))
            await using (var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: false))
            {
                var manifestEntry = new PaxTarEntry(TarEntryType.RegularFile, BundleFormat.ManifestPath)
                {
                    DataStream = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(manifest, BundleJson.Default.BundleManifest)),
                };
                await tar.WriteEntryAsync(manifestEntry, ct);
                long written = 0;
                foreach (var m in members)
                {
                    var path = m.Path == BundleFormat.RecordsPath ? recordsPath : Path.Combine(staging, "blobs", m.Sha256);
                    await tar.WriteEntryAsync(path, m.Path, ct);
                    progress("writing the bundle", written += m.Size, total);
                }
            }
            File.Move(partial, target, overwrite: true);
            return new ExportReport(target, scope, counts, blobs.Count, members.Skip(1).Sum(m => m.Size), new FileInfo(target).Length,
                _warnings, Math.Round(watch.Elapsed.TotalSeconds, 3));
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>A directory's files come from its manifest; the record keeps them so the importer registers the same tree.</summary>
    private ArtifactRecord ToRecord(ArtifactVersionDto a) =>
        new(a.Id, a.Name, a.Version, a.Type, a.Kind, a.Digest, a.Size, a.Metadata, a.Description, a.Tags,
            a.ProducerRunId is { } run && _runIds.Contains(run) ? run : null, a.Lifecycle, a.Kind == "external" ? a.StorageUri : null,
            _files.GetValueOrDefault(a.Id), a.CreatedAt, a.CreatedBy);

    /// <summary>Every file and directory version's content, once per digest, each checked against its digest as it arrives.</summary>
    private async Task<HashSet<string>> DownloadBlobsAsync(string staging, CancellationToken ct)
    {
        var wanted = new List<(ArtifactVersionDto Version, string? Path, string Digest, long Size)>();
        foreach (var a in _artifacts.Values)
        {
            if (a.ProducerRunId is { } run && !_runIds.Contains(run))
                _warnings.Add($"artifact {a.Name}@{a.Version}: its producer run {run} is not in the bundle; imported without a producer");
            switch (a.Kind)
            {
                case "file":
                    wanted.Add((a, null, a.Digest, a.Size));
                    break;
                case "directory":
                    var manifest = await Retry(() => source.GetManifestAsync(a.Name, a.Version.ToString(CultureInfo.InvariantCulture), a.Project, ct), ct);
                    _files[a.Id] = manifest.Files;
                    wanted.AddRange(manifest.Files.Select(f => (a, f.Path, f.Digest!, f.Size ?? 0)));
                    break;
            }
        }
        var have = new HashSet<string>(StringComparer.Ordinal);
        var total = wanted.DistinctBy(w => w.Digest).Sum(w => w.Size);
        long done = 0;
        progress("downloading content", 0, total);
        foreach (var (version, path, digest, size) in wanted)
        {
            if (!have.Add(digest)) continue;
            var destination = Path.Combine(staging, "blobs", digest);
            await Retry(async () =>
            {
                await using (var output = File.Create(destination))
                    await source.CopyContentAsync(version.Name, version.Version, output, path, version.Project, ct);
                return true;
            }, ct);
            var actual = await Sha256Async(destination, ct);
            if (actual != digest)
                throw new LineageException(ErrorCode.InternalError,
                    $"the content of {version.Name}@{version.Version}{(path is null ? "" : "/" + path)} hashes to {actual}, not its digest {digest}; run 'lineage verify' on the source");
            progress("downloading content", done += size, total);
        }
        return have;
    }

    // ---- plumbing --------------------------------------------------------------------------

    internal static async Task<string> Sha256Async(string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
    }

    /// <summary>"artifact:12" → "12".</summary>
    private static string NodeNumber(string node) => node[(node.IndexOf(':') + 1)..];

    private static async Task<List<T>> AllAsync<T>(Func<string?, Task<(List<T> Items, string? Next)>> page)
    {
        var all = new List<T>();
        string? token = null;
        do
        {
            var (items, next) = await page(token);
            all.AddRange(items);
            token = next;
        } while (token is not null);
        return all;
    }

}
