using System.Text.Json;
using Dapper;
using Lineage.Core.Governance;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;
using Lineage.Storage.Governance;

namespace Lineage.Storage.Tracking;

public sealed record PurgedRun(string Project, string Experiment, string RunId, string? Name, long DeletedAt);

public sealed record PurgedExperiment(string Project, string Id, string Name, long DeletedAt);

/// <summary>A deleted run or experiment gc had to keep, and why.</summary>
public sealed record KeptRun(string RunId, string Reason);

/// <summary>What <see cref="RunPurge.PurgeAsync"/> removed (or would remove), with the rows of each kind.</summary>
public sealed record RunPurgeReport(bool DryRun, IReadOnlyList<PurgedRun> Runs, IReadOnlyList<PurgedExperiment> Experiments, IReadOnlyList<KeptRun> Kept,
    IReadOnlyDictionary<string, long> Rows);

/// <summary>
/// Hard delete of runs and experiments deleted longer ago than the purge delay, like <c>mlflow gc</c> (issue 13): their
/// params, tags, metric history, latest metrics, dataset-input tags and MLflow proxy files (whose blobs gc then frees) go;
/// each run's execution stays as a tombstone (its run link cleared, the run's name, state and times copied onto it), so
/// the lineage graph keeps its edges; artifact versions the run produced stay, no longer linked to a run. A run that a
/// registered model version (or an MLflow model version) points at is kept, and so is its experiment. Experiment 0
/// (Default) is never removed. One transaction, with its audit entry.
/// </summary>
public sealed class RunPurge(Database db)
{
    public Task<RunPurgeReport> PurgeAsync(TimeSpan purgeAfter, bool dryRun, string actor, CancellationToken ct = default)
    {
        if (purgeAfter < TimeSpan.Zero) throw Core.Errors.LineageException.Invalid("purge-after-days", "--purge-after-days must not be negative");
        var cutoff = Clock.NowMs() - (long)purgeAfter.TotalMilliseconds;
        return db.WriteAsync(async s =>
        {
            var c = s.Connection;
            var experiments = (await c.QueryAsync<ExperimentRow>("""
                SELECT e.id, p.name AS project, e.name, e.deleted_at FROM experiments e JOIN projects p ON p.id = e.project_id
                WHERE e.lifecycle = 'deleted' AND e.deleted_at < @cutoff AND e.id <> 0 ORDER BY e.id
                """, new { cutoff }, s.Transaction)).ToList();
            var runs = (await c.QueryAsync<RunRow>($"""
                SELECT r.id, r.uuid, r.name, r.experiment_id, e.name AS experiment, p.name AS project, r.deleted_at,
                       (SELECT MIN(mv.id) FROM model_versions mv WHERE mv.run_id = r.id) AS model_version,
                       (SELECT MIN(m.version_id) FROM mlflow_model_versions m WHERE m.run_id = r.uuid) AS mlflow_version
                FROM runs r JOIN experiments e ON e.id = r.experiment_id JOIN projects p ON p.id = e.project_id
                WHERE (r.lifecycle = 'deleted' AND r.deleted_at < @cutoff) OR {s.Dialect.InSet("r.experiment_id", "experiments")}
                ORDER BY r.id
                """, new { cutoff, experiments = s.Dialect.Set(experiments.Select(e => e.Id)) }, s.Transaction)).ToList();

            var kept = runs.Where(r => r.ModelVersion is not null || r.MlflowVersion is not null)
                .Select(r => new KeptRun(r.Uuid, "a registered model version was created from it")).ToList();
            var keptExperiments = runs.Where(r => r.ModelVersion is not null || r.MlflowVersion is not null).Select(r => r.ExperimentId).ToHashSet();
            var purgeRuns = runs.Where(r => r.ModelVersion is null && r.MlflowVersion is null).ToList();
            var purgeExperiments = experiments.Where(e => !keptExperiments.Contains(e.Id)).ToList();
            kept.AddRange(experiments.Where(e => keptExperiments.Contains(e.Id))
                .Select(e => new KeptRun($"experiment {e.Id}", "some of its runs are kept")));

            var rows = new Dictionary<string, long>();
            if (!dryRun && (purgeRuns.Count > 0 || purgeExperiments.Count > 0))
            {
                var ids = s.Dialect.Set(purgeRuns.Select(r => r.Id));
                async Task Count(string key, string sql, object args) => rows[key] = await c.ExecuteAsync(sql, args, s.Transaction);
                await Count("params", $"DELETE FROM params WHERE {s.Dialect.InSet("run_id", "ids")}", new { ids });
                await Count("tags", $"DELETE FROM run_tags WHERE {s.Dialect.InSet("run_id", "ids")}", new { ids });
                await Count("metricChunks", $"DELETE FROM metric_chunks WHERE {s.Dialect.InSet("run_id", "ids")}", new { ids });
                await Count("latestMetrics", $"DELETE FROM latest_metrics WHERE {s.Dialect.InSet("run_id", "ids")}", new { ids });
                await Count("inputTags", $"DELETE FROM run_input_tags WHERE {s.Dialect.InSet("run_id", "ids")}", new { ids });
                // Tombstones: the execution keeps the run's name, state and times (read from the run until now) and its edges.
                await Count("executionsTombstoned", $"""
                    UPDATE executions SET
                        name = (SELECT COALESCE(r.name, r.uuid) FROM runs r WHERE r.id = executions.run_id),
                        state = (SELECT CASE r.status WHEN 'RUNNING' THEN 'RUNNING' WHEN 'SCHEDULED' THEN 'NEW' WHEN 'FINISHED' THEN 'COMPLETE'
                                        WHEN 'FAILED' THEN 'FAILED' ELSE 'CANCELED' END FROM runs r WHERE r.id = executions.run_id),
                        start_time = (SELECT r.start_time FROM runs r WHERE r.id = executions.run_id),
                        end_time = (SELECT r.end_time FROM runs r WHERE r.id = executions.run_id),
                        run_id = NULL, updated_at = @now, updated_by = @actor
                    WHERE {s.Dialect.InSet("run_id", "ids")}
                    """, new { ids, now = Clock.NowMs(), actor });
                await Count("artifactVersionsUnlinked", $"UPDATE artifact_versions SET producer_run_id = NULL WHERE {s.Dialect.InSet("producer_run_id", "ids")}", new { ids });
                await c.ExecuteAsync($"UPDATE runs SET parent_id = NULL WHERE {s.Dialect.InSet("parent_id", "ids")} AND NOT ({s.Dialect.InSet("id", "ids")})",
                    new { ids }, s.Transaction);
                // MLflow's default artifact location of a run is mlflow-artifacts:/<experiment>/<run>/artifacts.
                long files = 0;
                foreach (var r in purgeRuns)
                    files += await c.ExecuteAsync("DELETE FROM proxy_files WHERE path LIKE @prefix", new { prefix = $"{r.ExperimentId}/{r.Uuid}/%" }, s.Transaction);
                foreach (var e in purgeExperiments)
                    files += await c.ExecuteAsync("DELETE FROM proxy_files WHERE path LIKE @prefix", new { prefix = $"{e.Id}/%" }, s.Transaction);
                rows["proxyFiles"] = files;
                await Count("runs", $"DELETE FROM runs WHERE {s.Dialect.InSet("id", "ids")}", new { ids });
                var experimentIds = s.Dialect.Set(purgeExperiments.Select(e => e.Id));
                await Count("experimentTags", $"DELETE FROM experiment_tags WHERE {s.Dialect.InSet("experiment_id", "ids")}", new { ids = experimentIds });
                await Count("experiments", $"DELETE FROM experiments WHERE {s.Dialect.InSet("id", "ids")}", new { ids = experimentIds });
                var summary = new Dictionary<string, object>(rows.Select(kv => new KeyValuePair<string, object>(kv.Key, kv.Value)))
                {
                    ["purgeAfterDays"] = purgeAfter.TotalDays,
                    ["runIds"] = purgeRuns.Select(r => r.Uuid).Take(1000).ToList(),
                    ["experimentIds"] = purgeExperiments.Select(e => e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(),
                };
                await AuditLog.AppendAsync(s, new AuditRecord(actor, null, "runs.purge", "runs", 200, JsonSerializer.Serialize(summary)));
            }
            return new RunPurgeReport(dryRun,
                purgeRuns.Select(r => new PurgedRun(r.Project, r.Experiment, r.Uuid, r.Name, r.DeletedAt ?? 0)).ToList(),
                purgeExperiments.Select(e => new PurgedExperiment(e.Project, e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Name, e.DeletedAt)).ToList(),
                kept, rows);
        }, ct: ct);
    }

    private sealed class ExperimentRow
    {
        public long Id { get; set; }
        public string Project { get; set; } = "";
        public string Name { get; set; } = "";
        public long DeletedAt { get; set; }
    }

    private sealed class RunRow
    {
        public long Id { get; set; }
        public string Uuid { get; set; } = "";
        public string? Name { get; set; }
        public long ExperimentId { get; set; }
        public string Experiment { get; set; } = "";
        public string Project { get; set; } = "";
        public long? DeletedAt { get; set; }
        public long? ModelVersion { get; set; }
        public long? MlflowVersion { get; set; }
    }
}
