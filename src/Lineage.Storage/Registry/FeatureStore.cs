using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Lineage;
using Lineage.Core.Registry;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Engine;
using Lineage.Storage.Lineage;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Registry;

/// <summary>
/// Feature sets: versioned groups of feature definitions. A feature set version is an artifact version of type
/// <c>feature_set</c> whose content is its canonical definition JSON (digest over it), so it takes part in the
/// lineage graph like any artifact: a <c>feature_engineering</c> execution consumes the datasets it is derived
/// from and produces it; model versions reference it. Each public method is one transaction.
/// </summary>
public sealed class FeatureStore(Database db)
{
    public Task<FeatureSet> RegisterAsync(FeatureSetRegistration r)
    {
        var project = r.Project ?? OperationContext.DefaultProject;
        ArtifactRules.Name(r.Name);
        var features = RegistryRules.Features(r.Features);
        Validate.Text(r.Description, "description", Limits.MaxDescriptionLength, required: false);
        var runId = r.RunId is null ? null : Validate.RunId(r.RunId, "runId");
        var (digest, size) = FeatureAccess.Digest(features);
        return db.WriteAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project);
            var sources = new List<VersionRow>();
            foreach (var pointer in r.DerivedFrom) sources.Add(await RegistryAccess.ResolveArtifactAsync(s, pointer));
            if (runId is not null) await RunAccess.RequireAsync(s, runId);
            var now = Clock.NowMs();
            var name = await ArtifactAccess.NextVersionAsync(s, p.Id, r.Name);
            var metadata = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object> { ["features"] = features.Count });
            var id = await ArtifactAccess.InsertVersionAsync(s, name.Id, name.LatestVersion, "feature_set", ArtifactKind.External, digest, size,
                FeatureAccess.Uri(project, r.Name, name.LatestVersion), metadata, r.Description, null, s.Actor, now);
            await FeatureAccess.InsertAsync(s, id, features);
            // A new execution and a new artifact: these edges cannot close a cycle.
            var properties = runId is null ? "{}" : System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["runId"] = runId });
            var execution = await LineageAccess.CreateExecutionAsync(s, p.Id, "feature_engineering", $"build {r.Name} v{name.LatestVersion}",
                ExecutionState.Complete, now, now, properties, null, now);
            foreach (var source in sources.DistinctBy(x => x.Id))
                await LineageAccess.AddEventAsync(s, execution, source.Id, EventKind.Input, "source", now);
            await LineageAccess.AddEventAsync(s, execution, id, EventKind.Output, "feature_set", now);
            return await LoadAsync(s, (await ArtifactAccess.FindByIdAsync(s, id))!);
        }, keyed: true);
    }

    public Task<FeatureSet> GetAsync(string? project, string name, VersionRef reference) =>
        db.ReadAsync(async s =>
        {
            var row = await RegistryAccess.ResolveArtifactAsync(s, new ArtifactPointer(null, project, name, reference, "name"));
            if (row.Type != "feature_set") throw LineageException.Invalid("name", $"artifact '{name}' v{row.Version} is a {row.Type}, not a feature_set");
            return await LoadAsync(s, row);
        });

    /// <summary>Which feature set versions define a feature and which model versions consume it.</summary>
    public Task<FeatureUsage> UsageAsync(string feature)
    {
        Validate.Key(feature, "feature");
        return db.ReadAsync(async s =>
        {
            var setIds = await FeatureAccess.FeatureSetsWithAsync(s, feature);
            var rows = setIds.Count == 0 ? [] : (await s.Connection.QueryAsync<VersionRow>(
                $"{ArtifactAccess.SelectVersion} WHERE {s.Dialect.InSet("v.id", "ids")} ORDER BY v.id", new { ids = s.Dialect.Set(setIds) }, s.Transaction)).ToList();
            return new FeatureUsage(feature, await ArtifactAccess.LoadAsync(s, rows), await FeatureAccess.ModelVersionsUsingAsync(s, feature));
        });
    }

    internal static async Task<FeatureSet> LoadAsync(DbSession s, VersionRow row)
    {
        var artifact = await RegistryAccess.LoadArtifactAsync(s, row);
        var sourceIds = (await s.Connection.QueryAsync<long>("""
            SELECT i.artifact_id FROM lineage_events o JOIN lineage_events i ON i.execution_id = o.execution_id AND i.kind = 'input'
            WHERE o.artifact_id = @id AND o.kind = 'output' ORDER BY i.artifact_id
            """, new { id = row.Id }, s.Transaction)).Distinct().ToArray();
        var sources = sourceIds.Length == 0 ? [] : (await s.Connection.QueryAsync<VersionRow>(
            $"{ArtifactAccess.SelectVersion} WHERE {s.Dialect.InSet("v.id", "sourceIds")} ORDER BY v.id", new { sourceIds = s.Dialect.Set(sourceIds) }, s.Transaction)).ToList();
        return new FeatureSet(artifact, await FeatureAccess.FeaturesAsync(s, row.Id), await ArtifactAccess.LoadAsync(s, sources));
    }
}
