using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Lineage;
using Lineage.Core.Registry;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Lineage.Storage.Lineage;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Registry;

/// <summary>One artifact a manifest names, checked again: ok, mismatch, missing, corrupt or external (bytes not held here).</summary>
public sealed record DigestCheck(string Project, string Name, long Version, string Digest, string Status, string? Detail);

/// <summary>
/// Reproducibility manifests (format 1, snake_case like the issue's metadata.json): everything needed to rebuild
/// a model version — code version, environment, params, seeds, input dataset versions with digests, preprocessing
/// and feature steps, metrics, registry and deployment facts — read in one transaction from the run, the upstream
/// lineage walk, the dataset/feature views, the registry and deployments. <see cref="VerifyAsync"/> re-checks every
/// digest a manifest names against the store and the blob bytes.
/// </summary>
public sealed class ManifestBuilder(Database db, IBlobStore blobs)
{
    public const int FormatVersion = 1;

    public Task<JsonObject> BuildAsync(string? project, string model, VersionRef reference) =>
        db.ReadAsync(async s =>
        {
            var row = await RegistryAccess.ResolveVersionAsync(s, project, model, reference);
            var mv = await RegistryAccess.LoadVersionAsync(s, row.Id);
            var root = new NodeId(NodeKind.Artifact, mv.Artifact.Id);
            var reached = await LineageAccess.WalkAsync(s, root, downstream: false, LineageAccess.MaxDepth);
            var depth = reached.ToDictionary(r => r.Node, r => r.Depth);
            var artifactIds = reached.Where(r => r.Node.Kind == NodeKind.Artifact).Select(r => r.Node.Id).ToList();
            var artifactRows = (await s.Connection.QueryAsync<VersionRow>($"{ArtifactAccess.SelectVersion} WHERE {s.Dialect.InSet("v.id", "ids")}",
                new { ids = s.Dialect.Set(artifactIds) }, s.Transaction)).ToList();
            var artifacts = (await ArtifactAccess.LoadAsync(s, artifactRows)).ToDictionary(a => a.Id);
            var executions = (await LineageAccess.ExecutionsAsync(s, reached.Where(r => r.Node.Kind == NodeKind.Execution).Select(r => r.Node.Id).ToList()))
                .Select(e => e.ToModel()).ToDictionary(e => e.Id);
            var events = await LineageAccess.EventsOfExecutionsAsync(s, executions.Keys.ToList());

            var m = new JsonObject
            {
                ["manifest_version"] = FormatVersion,
                ["generated_at"] = Clock.NowMs(),
                ["model_id"] = $"{mv.Model}-v{mv.Version}",
            };
            m["model"] = new JsonObject
            {
                ["project"] = mv.Project, ["name"] = mv.Model, ["version"] = mv.Version, ["status"] = RegistryRules.StatusText(mv.Status),
                ["stage"] = RegistryRules.StageText(mv.Stage), ["aliases"] = Arr(mv.Aliases), ["tags"] = Obj(mv.Tags), ["description"] = mv.Description,
                ["created_at"] = mv.CreatedAt, ["created_by"] = mv.CreatedBy,
                ["input_features"] = new JsonArray(mv.InputFeatures.Select(f => (JsonNode)new JsonObject
                    { ["name"] = f.Name, ["dtype"] = f.Dtype, ["shape"] = new JsonArray(f.Shape.Select(x => (JsonNode)x).ToArray()) }).ToArray()),
            };
            m["artifact"] = ArtifactJson(mv.Artifact);

            // The run that trained it: code version, environment, params, seeds, metrics.
            Run? run = null;
            if (mv.RunId is { } runId)
                run = (await RunAccess.LoadAsync(s, [await RunAccess.RequireAsync(s, runId)]))[0];
            m["run"] = run is null ? null : new JsonObject
            {
                ["run_id"] = run.Info.RunId, ["experiment_id"] = run.Info.ExperimentId.ToString(CultureInfo.InvariantCulture), ["name"] = run.Info.Name,
                ["status"] = run.Info.Status.ToString().ToUpperInvariant(), ["start_time"] = run.Info.StartTime, ["end_time"] = run.Info.EndTime,
                ["user"] = run.Info.User,
            };
            var tags = run?.Tags ?? new Dictionary<string, string>();
            m["code_version"] = new JsonObject
            {
                ["git_commit"] = tags.GetValueOrDefault("lineage.source.git.commit"), ["git_branch"] = tags.GetValueOrDefault("lineage.source.git.branch"),
                ["git_dirty"] = tags.GetValueOrDefault("lineage.source.git.dirty"), ["git_remote"] = tags.GetValueOrDefault("lineage.source.git.remote"),
                ["code_artifacts"] = new JsonArray(artifacts.Values.Where(a => a.Type == "code").OrderBy(a => a.Id).Select(a => (JsonNode)Ref(a)).ToArray()),
            };
            m["environment"] = Obj(tags.Where(t => t.Key.StartsWith("lineage.", StringComparison.Ordinal) && !t.Key.StartsWith("lineage.source.", StringComparison.Ordinal))
                .ToDictionary(t => t.Key["lineage.".Length..], t => t.Value));
            var parameters = run?.Params ?? new Dictionary<string, string>();
            m["params"] = Obj(parameters);
            m["hyperparameters"] = Typed(parameters.Where(p => !IsSeed(p.Key)));
            m["seeds"] = Typed(parameters.Where(p => IsSeed(p.Key)));
            var metrics = new JsonObject();
            foreach (var point in run?.LatestMetrics ?? []) metrics[point.Key] = double.IsFinite(point.Value) ? point.Value : point.Value.ToString(CultureInfo.InvariantCulture);
            m["evaluation_metrics"] = metrics;

            // Datasets upstream, with digests and their facts; the source dataset and what training read directly.
            var datasets = new JsonArray();
            var datasetIds = artifacts.Values.Where(a => a.Type == "dataset").Select(a => a.Id).ToList();
            var allFacts = await DatasetAccess.FactsOfAsync(s, datasetIds);
            var allValidations = await DatasetAccess.ValidationsOfAsync(s, datasetIds);
            foreach (var a in artifacts.Values.Where(a => a.Type == "dataset").OrderBy(a => a.Id))
            {
                var facts = allFacts.GetValueOrDefault(a.Id);
                var d = Ref(a);
                d["depth"] = depth[new NodeId(NodeKind.Artifact, a.Id)];
                if (facts is not null)
                {
                    d["source_uri"] = facts.SourceUri;
                    d["source_system"] = facts.SourceSystem;
                    d["ingested_at"] = facts.IngestedAt;
                    d["row_count"] = facts.RowCount;
                    d["schema"] = facts.SchemaName is null ? null : $"{facts.SchemaName}@{facts.SchemaVersion}";
                    d["columns"] = new JsonArray(facts.Columns.Select(c => (JsonNode)new JsonObject
                        { ["name"] = c.Name, ["dtype"] = c.Dtype, ["nullable"] = c.Nullable }).ToArray());
                    var validations = allValidations[a.Id];
                    d["validations"] = new JsonArray(validations.Select(v => (JsonNode)new JsonObject
                        { ["check"] = v.Name, ["passed"] = v.Passed, ["details"] = v.Details }).ToArray());
                }
                datasets.Add(d);
            }
            m["datasets"] = datasets;
            // The source dataset: the most upstream dataset version (ingested, not derived from another dataset).
            var source = artifacts.Values.Where(a => a.Type == "dataset")
                .OrderByDescending(a => depth[new NodeId(NodeKind.Artifact, a.Id)]).ThenBy(a => a.Id).FirstOrDefault();
            m["dataset_version"] = source is null ? null : $"{source.Name}@{source.Version}";
            m["dataset_digest"] = source?.Digest;
            var runExecution = run is null ? null : executions.Values.FirstOrDefault(e => e.RunId == run.Info.RunId);
            var trainedOn = runExecution is null ? null : events.Where(e => e.ExecutionId == runExecution.Id && e.Kind == "input")
                .Select(e => artifacts.GetValueOrDefault(e.ArtifactId)).FirstOrDefault(a => a?.Type == "dataset");
            m["trained_on"] = trainedOn is null ? null : $"{trainedOn.Name}@{trainedOn.Version}";
            m["trained_on_digest"] = trainedOn?.Digest;

            if (mv.FeatureSet is { } fs)
            {
                var fj = Ref(fs);
                fj["features"] = new JsonArray((await FeatureAccess.FeaturesAsync(s, fs.Id)).Select(f => (JsonNode)new JsonObject
                {
                    ["name"] = f.Name, ["dtype"] = f.Dtype, ["shape"] = new JsonArray(f.Shape.Select(x => (JsonNode)x).ToArray()),
                    ["transformation"] = f.Transformation, ["description"] = f.Description, ["owner"] = f.Owner,
                }).ToArray());
                m["feature_set"] = fj;
                if (!artifacts.ContainsKey(fs.Id)) artifacts[fs.Id] = fs;
            }

            // Steps upstream, oldest first, with their properties; preprocessing properties merged as the issue's preprocessing_details.
            var steps = new JsonArray();
            var preprocessing = new JsonObject();
            foreach (var e in executions.Values.OrderByDescending(e => depth[new NodeId(NodeKind.Execution, e.Id)]).ThenBy(e => e.Id))
            {
                var properties = JsonNode.Parse(e.Properties) as JsonObject ?? new JsonObject();
                string Label(long id) => artifacts.TryGetValue(id, out var a) ? $"{a.Name}@{a.Version}" : $"artifact:{id}";
                steps.Add(new JsonObject
                {
                    ["execution_id"] = e.Id, ["type"] = e.Type, ["name"] = e.Name, ["state"] = e.State.ToString().ToUpperInvariant(), ["run_id"] = e.RunId,
                    ["inputs"] = new JsonArray(events.Where(x => x.ExecutionId == e.Id && x.Kind == "input").Select(x => (JsonNode)Label(x.ArtifactId)).ToArray()),
                    ["outputs"] = new JsonArray(events.Where(x => x.ExecutionId == e.Id && x.Kind == "output").Select(x => (JsonNode)Label(x.ArtifactId)).ToArray()),
                    ["properties"] = properties.DeepClone(),
                });
                if (e.Type != "preprocessing") continue;
                foreach (var (key, value) in properties)
                {
                    if (value is JsonArray items && preprocessing[key] is JsonArray existing)
                        foreach (var item in items) existing.Add(item?.DeepClone());
                    else preprocessing[key] = value?.DeepClone();
                }
            }
            m["steps"] = steps;
            m["preprocessing_details"] = preprocessing;

            // Registry and deployment facts.
            var history = await RegistryAccess.HistoryAsync(s, row.ModelId, null, null, mv.Version);
            m["registry"] = new JsonObject
            {
                ["stage"] = RegistryRules.StageText(mv.Stage), ["aliases"] = Arr(mv.Aliases),
                ["history"] = new JsonArray(history.Select(h => (JsonNode)new JsonObject
                {
                    ["kind"] = h.Kind, ["name"] = h.Name, ["old_value"] = h.OldValue, ["new_value"] = h.NewValue, ["changed_at"] = h.ChangedAt,
                    ["changed_by"] = h.ChangedBy, ["request_id"] = h.RequestId,
                }).ToArray()),
            };
            var deploymentIds = (await s.Connection.QueryAsync<long>("SELECT id FROM deployments WHERE version_id = @id ORDER BY id", new { id = row.Id },
                s.Transaction)).ToList();
            var deployments = new List<Deployment>();
            foreach (var id in deploymentIds) deployments.AddRange(await DeploymentAccess.LoadAsync(s, [(await DeploymentAccess.FindAsync(s, id))!]));
            m["deployments"] = new JsonArray(deployments.Select(d => (JsonNode)new JsonObject
            {
                ["deployment_id"] = d.Id, ["environment"] = d.Environment, ["endpoint_url"] = d.EndpointUrl, ["status"] = RegistryRules.DeploymentText(d.Status),
                ["deployed_at"] = d.CreatedAt, ["deployed_by"] = d.CreatedBy, ["rollback_of"] = d.RollbackOf, ["config"] = JsonNode.Parse(d.Config),
            }).ToArray());
            var live = deployments.Where(d => d.Status != DeploymentStatus.Retired)
                .OrderBy(d => d.Status == DeploymentStatus.Healthy ? 0 : 1).ThenByDescending(d => d.Id).FirstOrDefault();
            m["deployed_on"] = live?.Environment;
            m["endpoint_url"] = live?.EndpointUrl;
            m["deployed_at"] = live?.CreatedAt;
            m["health"] = live is null ? null : RegistryRules.DeploymentText(live.Status);

            // Everything named above, with digests: what --verify re-checks.
            m["artifacts"] = new JsonArray(artifacts.Values.OrderBy(a => a.Id).Select(a => (JsonNode)Ref(a)).ToArray());
            return m;
        });

    /// <summary>Re-checks the digests a manifest names: the stored digest must equal the manifest's, and the bytes must hash to it.</summary>
    public async Task<IReadOnlyList<DigestCheck>> VerifyAsync(JsonObject manifest, CancellationToken ct = default)
    {
        if (manifest["artifacts"] is not JsonArray list)
            throw LineageException.Invalid("artifacts", "the manifest has no 'artifacts' list; pass a manifest produced by Lineage");
        var wanted = new List<(string Project, string Name, long Version, string Digest)>();
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonObject a || a["name"]?.GetValue<string>() is not { } name || a["digest"]?.GetValue<string>() is not { } digest
                || a["version"] is not JsonValue version)
                throw LineageException.Invalid($"artifacts[{i}]", "each entry needs name, version and digest");
            wanted.Add((a["project"]?.GetValue<string>() ?? OperationContext.DefaultProject, name, version.GetValue<long>(), digest));
        }
        var found = await db.ReadAsync(async s =>
        {
            var result = new List<(int Index, ArtifactVersion? Version, IReadOnlyList<ManifestEntry> Files, IReadOnlyList<FeatureDefinition> Features)>();
            for (var i = 0; i < wanted.Count; i++)
            {
                var w = wanted[i];
                var p = await ExperimentAccess.FindProjectAsync(s, w.Project);
                var nameRow = p is null ? null : await ArtifactAccess.FindNameAsync(s, p.Id, w.Name);
                var row = nameRow is null ? null : await ArtifactAccess.FindAsync(s, nameRow.Id, new VersionRef(w.Version, null));
                if (row is null) { result.Add((i, null, [], [])); continue; }
                var version = (await ArtifactAccess.LoadAsync(s, [row]))[0];
                result.Add((i, version, await ArtifactAccess.FilesAsync(s, row.Id),
                    version.Type == "feature_set" ? await FeatureAccess.FeaturesAsync(s, row.Id) : []));
            }
            return result;
        }, ct);
        var checks = new List<DigestCheck>();
        foreach (var (i, version, files, features) in found)
        {
            var w = wanted[i];
            DigestCheck Check(string status, string? detail) => new(w.Project, w.Name, w.Version, w.Digest, status, detail);
            if (version is null) { checks.Add(Check("missing", "no such artifact version in this store")); continue; }
            if (!string.Equals(version.Digest, w.Digest, StringComparison.OrdinalIgnoreCase))
            {
                checks.Add(Check("mismatch", $"the store records sha256 {version.Digest}"));
                continue;
            }
            if (version.Lifecycle == VersionLifecycle.Purged) { checks.Add(Check("missing", "purged by gc: the content is gone")); continue; }
            switch (version.Kind)
            {
                case ArtifactKind.File:
                    checks.Add(await HashAsync(version.Digest, ct) is { } actual
                        ? actual == version.Digest ? Check("ok", null) : Check("corrupt", $"the content hashes to {actual}")
                        : Check("missing", "the content is not in the blob store"));
                    break;
                case ArtifactKind.Directory:
                {
                    if (Manifests.Digest(files) != version.Digest) { checks.Add(Check("corrupt", "the file list no longer hashes to the directory digest")); break; }
                    string? problem = null;
                    foreach (var f in files)
                    {
                        var fileHash = await HashAsync(f.Digest, ct);
                        if (fileHash != f.Digest) { problem = fileHash is null ? $"'{f.Path}' is missing" : $"'{f.Path}' hashes to {fileHash}"; break; }
                    }
                    checks.Add(problem is null ? Check("ok", $"{files.Count} files") : Check("corrupt", problem));
                    break;
                }
                default:
                    if (version.Type == "feature_set" && features.Count > 0)
                        checks.Add(FeatureAccess.Digest(features).Digest == version.Digest ? Check("ok", "definitions re-hashed")
                            : Check("corrupt", "the feature definitions no longer hash to the recorded digest"));
                    else checks.Add(Check("external", $"bytes live at {version.ExternalUri}; the recorded digest matches but cannot be re-hashed here"));
                    break;
            }
        }
        return checks;
    }

    private async Task<string?> HashAsync(string digest, CancellationToken ct)
    {
        await using var stream = await blobs.OpenReadAsync(digest, ct);
        if (stream is null) return null;
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
    }

    private static bool IsSeed(string key) => key.Contains("seed", StringComparison.OrdinalIgnoreCase);

    private static JsonObject ArtifactJson(ArtifactVersion a)
    {
        var j = Ref(a);
        j["kind"] = a.Kind.ToString().ToLowerInvariant();
        j["size"] = a.Size;
        j["uri"] = a.ExternalUri;
        j["metadata"] = JsonNode.Parse(a.Metadata);
        return j;
    }

    private static JsonObject Ref(ArtifactVersion a) => new()
    {
        ["project"] = a.Project, ["name"] = a.Name, ["version"] = a.Version, ["type"] = a.Type, ["digest"] = a.Digest,
    };

    private static JsonArray Arr(IEnumerable<string> items) => new(items.Select(i => (JsonNode)i).ToArray());

    private static JsonObject Obj(IEnumerable<KeyValuePair<string, string>> items)
    {
        var o = new JsonObject();
        foreach (var (k, v) in items.OrderBy(i => i.Key, StringComparer.Ordinal)) o[k] = v;
        return o;
    }

    /// <summary>Params are strings; a manifest shows numbers and booleans as such (n_estimators: 100), everything else as text.</summary>
    private static JsonObject Typed(IEnumerable<KeyValuePair<string, string>> items)
    {
        var o = new JsonObject();
        foreach (var (k, v) in items.OrderBy(i => i.Key, StringComparer.Ordinal))
            o[k] = long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l
                : double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d
                : v is "true" or "false" ? v == "true"
                : (JsonNode)v;
        return o;
    }
}
