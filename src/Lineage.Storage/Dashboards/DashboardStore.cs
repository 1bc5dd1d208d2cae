using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Dashboards;

/// <summary>One model version with the latest value of each metric of the run that produced it (null: NaN or no run).</summary>
public sealed record VersionMetrics(long Version, string Stage, string? RunId, long CreatedAt, IReadOnlyDictionary<string, double?> Metrics);

/// <summary>How often artifacts of one name were consumed (lineage input events) in one time bucket starting at <see cref="Bucket"/>.</summary>
public sealed record UsageCount(string Name, long Bucket, long Count);

/// <summary>
/// Aggregates for the web UI's dashboards (issue 8 item 7), computed in SQL so the browser never pulls
/// unbounded lists: the metrics of a model's versions, and dataset/feature-set usage per time bucket.
/// Read-only and thread-safe; each call is one read transaction.
/// </summary>
public sealed class DashboardStore(Database db)
{
    /// <summary>Most buckets one usage query may span, so a wide range with a small bucket cannot ask for millions of rows.</summary>
    public const int MaxBuckets = 2000;

    /// <summary>
    /// The newest <paramref name="limit"/> versions of a model (oldest first), each with its producing run's latest metrics.
    /// Throws NotFound for an unknown project or model.
    /// </summary>
    public Task<IReadOnlyList<VersionMetrics>> ModelMetricsAsync(string? project, string model, int limit) =>
        db.ReadAsync<IReadOnlyList<VersionMetrics>>(async s =>
        {
            var projectName = project ?? OperationContext.DefaultProject;
            var p = await ExperimentAccess.RequireProjectAsync(s, projectName);
            var modelId = await s.Connection.ExecuteScalarAsync<long?>(
                "SELECT id FROM registered_models WHERE project_id = @projectId AND name = @model", new { projectId = p.Id, model }, s.Transaction)
                ?? throw LineageException.NotFound($"model '{model}' does not exist in project '{projectName}'");
            var versions = (await s.Connection.QueryAsync<(long Id, long Version, string Stage, string? RunId, long CreatedAt)>("""
                SELECT mv.id, mv.version, mv.stage, r.uuid, mv.created_at
                FROM model_versions mv LEFT JOIN runs r ON r.id = mv.run_id
                WHERE mv.model_id = @modelId ORDER BY mv.version DESC LIMIT @limit
                """, new { modelId, limit }, s.Transaction)).Reverse().ToList();
            if (versions.Count == 0) return [];
            var minVersion = versions[0].Version;
            var metrics = (await s.Connection.QueryAsync<(long Version, string Key, double? Value)>("""
                SELECT mv.version, k.name, lm.value
                FROM model_versions mv
                JOIN latest_metrics lm ON lm.run_id = mv.run_id
                JOIN metric_keys k ON k.id = lm.key_id
                WHERE mv.model_id = @modelId AND mv.version >= @minVersion
                """, new { modelId, minVersion }, s.Transaction)).ToLookup(m => m.Version);
            return versions.Select(v => new VersionMetrics(v.Version, v.Stage, v.RunId, v.CreatedAt,
                metrics[v.Version].ToDictionary(m => m.Key, m => m.Value is { } x && double.IsFinite(x) ? x : (double?)null))).ToList();
        });

    /// <summary>
    /// Input events of artifacts of <paramref name="type"/> per name and bucket of <paramref name="bucketMs"/> in [from, to),
    /// buckets aligned to the Unix epoch. The caller bounds (to - from) / bucketMs by <see cref="MaxBuckets"/>.
    /// </summary>
    public Task<IReadOnlyList<UsageCount>> UsageAsync(string? project, string type, long bucketMs, long from, long to) =>
        db.ReadAsync<IReadOnlyList<UsageCount>>(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project ?? OperationContext.DefaultProject);
            return (await s.Connection.QueryAsync<(string Name, long Bucket, long Count)>("""
                SELECT n.name, (le.time / @bucketMs) * @bucketMs AS bucket, COUNT(*)
                FROM lineage_events le
                JOIN artifact_versions av ON av.id = le.artifact_id
                JOIN artifact_names n ON n.id = av.name_id
                WHERE le.kind = 'input' AND av.type = @type AND n.project_id = @projectId AND le.time >= @from AND le.time < @to
                GROUP BY n.name, bucket
                ORDER BY bucket, n.name
                """, new { bucketMs, type, projectId = p.Id, from, to }, s.Transaction)).Select(r => new UsageCount(r.Name, r.Bucket, r.Count)).ToList();
        });
}
