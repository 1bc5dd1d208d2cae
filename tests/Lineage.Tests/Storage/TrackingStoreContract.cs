using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;
using Lineage.Storage.Migrations;
using Lineage.Storage.Tracking;
using Lineage.Tests.Support;

namespace Lineage.Tests.Storage;

/// <summary>Behaviour every store must have, whatever the database.</summary>
public abstract class TrackingStoreContract : StoreTestBase
{
    private static async Task<LineageException> Fails(ErrorCode code, Func<Task> action)
    {
        var ex = await Assert.ThrowsAnyAsync<LineageException>(action);
        Assert.Equal(code, ex.Code);
        return ex;
    }

    private Task<Experiment> NewExperiment(string? name = null) =>
        Store.CreateExperimentAsync(null, name ?? "exp-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task a_new_database_has_the_default_project_and_experiment_zero()
    {
        var projects = await Store.ListProjectsAsync();
        Assert.Contains(projects, p => p.Name == "default");
        var experiment = await Store.GetExperimentAsync(0);
        Assert.Equal("Default", experiment.Name);
        Assert.Equal(Migrator.For(Db.Dialect).Select(m => m.Version), await Db.SchemaVersionsAsync());
    }

    [Fact]
    public async Task a_write_that_fails_after_writing_leaves_nothing_while_concurrent_writes_commit()
    {
        // Many writes at once, so they share group commits: every other one inserts, then throws.
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            try
            {
                await Db.WriteAsync(async s =>
                {
                    await s.Connection.ExecuteAsync("INSERT INTO projects (name, description, created_at) VALUES (@name, NULL, 0)",
                        new { name = $"group-{i}" }, s.Transaction);
                    if (i % 2 == 1) throw LineageException.Invalid("i", $"request {i} is rejected after its insert");
                    return i;
                });
                return true;
            }
            catch (LineageException ex) when (ex.Code == ErrorCode.InvalidParameterValue)
            {
                return false;
            }
        }));
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i % 2 == 0), results);
        var names = (await Store.ListProjectsAsync()).Select(p => p.Name).Where(n => n.StartsWith("group-", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(Enumerable.Range(0, 200).Where(i => i % 2 == 0).Select(i => $"group-{i}").ToHashSet(), names);
    }

    [Fact]
    public async Task experiment_names_are_unique_per_project_and_a_duplicate_is_already_exists()
    {
        var first = await NewExperiment("churn");
        var ex = await Fails(ErrorCode.ResourceAlreadyExists, () => NewExperiment("churn"));
        Assert.Contains("churn", ex.Message);
        await Store.CreateProjectAsync("team-b", null);
        var other = await Store.CreateExperimentAsync("team-b", "churn");
        Assert.NotEqual(first.Id, other.Id);
        Assert.Equal("team-b", other.Project);
    }

    [Fact]
    public async Task experiments_keep_tags_and_can_be_renamed_deleted_and_restored()
    {
        var e = await Store.CreateExperimentAsync(null, "tagged", "desc", new Dictionary<string, string> { ["team"] = "ml" });
        Assert.Equal("ml", e.Tags["team"]);
        await Store.SetExperimentTagAsync(e.Id, "team", "platform");
        await Store.SetExperimentTagAsync(e.Id, "owner", "ana");
        await Store.DeleteExperimentTagAsync(e.Id, "owner");
        var renamed = await Store.UpdateExperimentAsync(e.Id, "tagged-2", null);
        Assert.Equal("tagged-2", renamed.Name);
        Assert.Equal("desc", renamed.Description);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "platform" }, renamed.Tags);

        var deleted = await Store.DeleteExperimentAsync(e.Id);
        Assert.Equal(Lifecycle.Deleted, deleted.Lifecycle);
        var active = await Store.ListExperimentsAsync(new ExperimentQuery());
        Assert.DoesNotContain(active.Items, x => x.Id == e.Id);
        var gone = await Store.ListExperimentsAsync(new ExperimentQuery(Lifecycle: LifecycleFilter.Deleted));
        Assert.Contains(gone.Items, x => x.Id == e.Id);
        await Fails(ErrorCode.ResourceAlreadyExists, () => NewExperiment("tagged-2"));
        await Fails(ErrorCode.InvalidParameterValue, () => Store.CreateRunAsync(e.Id));

        var restored = await Store.RestoreExperimentAsync(e.Id);
        Assert.Equal(Lifecycle.Active, restored.Lifecycle);
    }

    [Fact]
    public async Task deleting_an_experiment_deletes_its_runs_and_restoring_brings_back_exactly_those()
    {
        var e = await NewExperiment();
        var deletedBefore = await Store.CreateRunAsync(e.Id, "deleted-before");
        var live = await Store.CreateRunAsync(e.Id, "live");
        await Store.DeleteRunAsync(deletedBefore.Info.RunId);

        await Store.DeleteExperimentAsync(e.Id);
        Assert.Equal(Lifecycle.Deleted, (await Store.GetRunAsync(live.Info.RunId)).Info.Lifecycle);

        await Store.RestoreExperimentAsync(e.Id);
        Assert.Equal(Lifecycle.Active, (await Store.GetRunAsync(live.Info.RunId)).Info.Lifecycle);
        Assert.Equal(Lifecycle.Deleted, (await Store.GetRunAsync(deletedBefore.Info.RunId)).Info.Lifecycle);
    }

    [Fact]
    public async Task unknown_ids_are_not_found_and_name_what_was_asked()
    {
        var ex = await Fails(ErrorCode.ResourceDoesNotExist, () => Store.GetExperimentAsync(987654));
        Assert.Contains("987654", ex.Message);
        var runId = Guid.NewGuid().ToString("N");
        ex = await Fails(ErrorCode.ResourceDoesNotExist, () => Store.GetRunAsync(runId));
        Assert.Contains(runId, ex.Message);
        await Fails(ErrorCode.InvalidParameterValue, () => Store.GetRunAsync("not-a-run-id"));
        await Fails(ErrorCode.ResourceDoesNotExist, () => Store.CreateExperimentAsync("no-such-project", "x"));
    }

    [Fact]
    public async Task runs_have_32_hex_ids_statuses_nesting_and_lifecycle()
    {
        var e = await NewExperiment();
        var parent = await Store.CreateRunAsync(e.Id, "parent", user: "ana");
        Assert.Matches("^[0-9a-f]{32}$", parent.Info.RunId);
        Assert.Equal(RunStatus.Running, parent.Info.Status);
        Assert.Equal("ana", parent.Info.User);
        var child = await Store.CreateRunAsync(e.Id, "child", parentRunId: parent.Info.RunId);
        Assert.Equal(parent.Info.RunId, child.Info.ParentRunId);
        var children = await Store.ListRunsAsync(new RunQuery(ParentRunId: parent.Info.RunId));
        Assert.Equal(child.Info.RunId, Assert.Single(children.Items).Info.RunId);

        var finished = await Store.UpdateRunAsync(child.Info.RunId, new RunUpdate(RunStatus.Finished));
        Assert.Equal(RunStatus.Finished, finished.Info.Status);
        Assert.NotNull(finished.Info.EndTime);

        await Store.DeleteRunAsync(child.Info.RunId);
        await Fails(ErrorCode.InvalidParameterValue, () => Store.LogBatchAsync(child.Info.RunId, new RunBatch([new MetricPoint("m", 1, 0, 1)], [], [])));
        await Store.RestoreRunAsync(child.Info.RunId);
        await Store.LogBatchAsync(child.Info.RunId, new RunBatch([new MetricPoint("m", 1, 0, 1)], [], []));
        await Fails(ErrorCode.ResourceDoesNotExist, () => Store.CreateRunAsync(e.Id, parentRunId: Guid.NewGuid().ToString("N")));
    }

    [Fact]
    public async Task params_are_write_once_same_value_is_fine_different_value_is_rejected()
    {
        var run = await Store.CreateRunAsync((await NewExperiment()).Id);
        var id = run.Info.RunId;
        await Store.LogBatchAsync(id, new RunBatch([], [new KeyValue("lr", "0.1")], []));
        await Store.LogBatchAsync(id, new RunBatch([], [new KeyValue("lr", "0.1")], []));
        var ex = await Fails(ErrorCode.InvalidParameterValue, () => Store.LogBatchAsync(id, new RunBatch([], [new KeyValue("lr", "0.2")], [])));
        Assert.Contains("write-once", ex.Message);
        Assert.Equal("0.1", (await Store.GetRunAsync(id)).Params["lr"]);
    }

    [Fact]
    public async Task a_rejected_batch_writes_nothing()
    {
        var run = await Store.CreateRunAsync((await NewExperiment()).Id);
        var id = run.Info.RunId;
        await Store.LogBatchAsync(id, new RunBatch([], [new KeyValue("lr", "0.1")], []));
        var bad = new RunBatch(
            [new MetricPoint("loss", 1.5, 0, 10), new MetricPoint("loss", 1.2, 1, 11)],
            [new KeyValue("epochs", "3"), new KeyValue("lr", "0.9")],
            [new KeyValue("note", "x")]);
        await Fails(ErrorCode.InvalidParameterValue, () => Store.LogBatchAsync(id, bad));
        var after = await Store.GetRunAsync(id);
        Assert.Equal(new Dictionary<string, string> { ["lr"] = "0.1" }, after.Params);
        Assert.Empty(after.Tags);
        Assert.Empty(after.LatestMetrics);
        Assert.Empty((await Store.GetMetricHistoryAsync(id, "loss")).Items);
    }

    [Fact]
    public async Task oversize_batches_and_bad_keys_are_rejected_with_the_field_named()
    {
        var run = await Store.CreateRunAsync((await NewExperiment()).Id);
        var tooMany = Enumerable.Range(0, Limits.MaxBatchMetrics + 1).Select(i => new MetricPoint("m", i, i, 1)).ToList();
        var ex = await Fails(ErrorCode.InvalidParameterValue, () => Store.LogBatchAsync(run.Info.RunId, new RunBatch(tooMany, [], [])));
        Assert.Equal("metrics", ex.Field);
        ex = await Fails(ErrorCode.InvalidParameterValue,
            () => Store.LogBatchAsync(run.Info.RunId, new RunBatch([new MetricPoint(new string('k', 251), 1, 0, 1)], [], [])));
        Assert.Equal("metrics[0].key", ex.Field);
        ex = await Fails(ErrorCode.InvalidParameterValue,
            () => Store.LogBatchAsync(run.Info.RunId, new RunBatch([], [new KeyValue("p", new string('v', Limits.MaxParamValueLength + 1))], [])));
        Assert.Equal("params[0].value", ex.Field);
    }

    [Fact]
    public async Task metric_history_keeps_every_point_including_nan_and_infinities_in_logged_order()
    {
        var run = await Store.CreateRunAsync((await NewExperiment()).Id);
        var id = run.Info.RunId;
        double[] values = [0.5, double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 1e308, double.Epsilon];
        var points = values.Select((v, i) => new MetricPoint("weird", v, i - 2, 1_700_000_000_000 + i)).ToList();
        await Store.LogBatchAsync(id, new RunBatch(points, [], []));
        await Store.LogBatchAsync(id, new RunBatch([new MetricPoint("weird", 7, 100, 5)], [], []));
        var history = (await Store.GetMetricHistoryAsync(id, "weird")).Items;
        Assert.Equal(values.Length + 1, history.Count);
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(values[i]), BitConverter.DoubleToInt64Bits(history[i].Value));
            Assert.Equal(i - 2, history[i].Step);
            Assert.Equal(1_700_000_000_000 + i, history[i].Timestamp);
        }
        var latest = Assert.Single((await Store.GetRunAsync(id)).LatestMetrics);
        Assert.Equal(new MetricPoint("weird", 7, 100, 5), latest);
        Assert.Empty((await Store.GetMetricHistoryAsync(id, "never-logged")).Items);
    }

    [Fact]
    public async Task latest_metric_is_the_highest_step_then_latest_timestamp_and_nan_survives()
    {
        var run = await Store.CreateRunAsync((await NewExperiment()).Id);
        var id = run.Info.RunId;
        await Store.LogBatchAsync(id, new RunBatch([new MetricPoint("acc", 0.9, 5, 100), new MetricPoint("acc", 0.1, 2, 200)], [], []));
        await Store.LogBatchAsync(id, new RunBatch([new MetricPoint("acc", 0.2, 4, 300)], [], []));
        Assert.Equal(0.9, Assert.Single((await Store.GetRunAsync(id)).LatestMetrics).Value);
        await Store.LogBatchAsync(id, new RunBatch([new MetricPoint("acc", double.NaN, 5, 101)], [], []));
        Assert.True(double.IsNaN(Assert.Single((await Store.GetRunAsync(id)).LatestMetrics).Value));
    }

    [Fact]
    public async Task history_pages_cover_the_series_exactly_once_across_chunk_boundaries()
    {
        var run = await Store.CreateRunAsync((await NewExperiment()).Id);
        var id = run.Info.RunId;
        // 2,500 points in uneven writes: single points top up the tail chunk, big batches open new ones.
        var step = 0;
        foreach (var size in new[] { 1, 1, 998, 7, 1200, 1, 292 })
        {
            var batch = Enumerable.Range(0, size).Select(_ => new MetricPoint("loss", step * 0.5, step, 1000 + step++)).ToList();
            await Store.LogBatchAsync(id, new RunBatch(batch, [], []));
        }
        Assert.Equal(2500, step);
        var seen = new List<SeriesPoint>();
        string? token = null;
        do
        {
            var page = await Store.GetMetricHistoryAsync(id, "loss", 333, token);
            seen.AddRange(page.Items);
            token = page.NextPageToken;
        } while (token is not null);
        Assert.Equal(Enumerable.Range(0, 2500).Select(i => (long)i), seen.Select(p => p.Step));
        Assert.All(seen, p => Assert.Equal(p.Step * 0.5, p.Value));
        await Fails(ErrorCode.InvalidParameterValue, () => Store.GetMetricHistoryAsync(id, "loss", 10, "garbage!"));
    }

    /// <summary>A history longer than one read's batch of chunks (256 chunks of 1,000 points) is read batch after batch, whole and in order.</summary>
    [Fact]
    public async Task a_history_of_more_chunks_than_one_read_holds_comes_back_whole()
    {
        var run = await Store.CreateRunAsync((await NewExperiment()).Id);
        var id = run.Info.RunId;
        const int total = 300_123;
        for (var start = 0; start < total; start += Limits.MaxBatchMetrics)
            await Store.LogBatchAsync(id, new RunBatch(Enumerable.Range(start, Math.Min(Limits.MaxBatchMetrics, total - start))
                .Select(i => new MetricPoint("long", i * 0.25, i, 1_000 + i)).ToList(), [], []));
        var all = (await Store.FindMetricHistoryAsync(id, "long"))!;
        Assert.Equal(total, all.Count);
        Assert.True(all.Select((p, i) => p.Step == i && p.Value == i * 0.25).All(ok => ok), "every point once, in logged order");

        // A page that starts inside a chunk and ends past the first batch, then the rest.
        var first = await Store.GetMetricHistoryAsync(id, "long", 100, null);
        var seen = first.Items.ToList();
        var token = first.NextPageToken;
        while (token is not null)
        {
            var page = await Store.GetMetricHistoryAsync(id, "long", 25_000, token);
            seen.AddRange(page.Items);
            token = page.NextPageToken;
        }
        Assert.Equal(Enumerable.Range(0, total).Select(i => (long)i), seen.Select(p => p.Step));
    }

    [Fact]
    public async Task batches_of_several_keys_top_up_and_open_chunks_per_key_and_keep_each_series_whole()
    {
        var run = await Store.CreateRunAsync((await NewExperiment()).Id);
        var id = run.Info.RunId;
        // Three keys of different lengths per batch, so in one batch some tails are topped up, some fill and
        // new chunks open, and one key appears only in some batches.
        var logged = new Dictionary<string, List<long>> { ["a"] = [], ["b"] = [], ["c"] = [] };
        for (var b = 0; b < 6; b++)
        {
            var batch = new List<MetricPoint>();
            foreach (var (key, size) in new[] { ("a", 300), ("b", 1 + b * 170), ("c", b % 2 == 0 ? 650 : 0) })
                for (var i = 0; i < size; i++)
                {
                    var step = logged[key].Count;
                    logged[key].Add(step);
                    batch.Add(new MetricPoint(key, step + key[0], step, 1000 + step));
                }
            await Store.LogBatchAsync(id, new RunBatch(batch, [], []));
        }
        foreach (var (key, steps) in logged)
        {
            var history = new List<SeriesPoint>();
            string? token = null;
            do
            {
                var page = await Store.GetMetricHistoryAsync(id, key, 1000, token);
                history.AddRange(page.Items);
                token = page.NextPageToken;
            } while (token is not null);
            Assert.Equal(steps, history.Select(p => p.Step));
            Assert.All(history, p => Assert.Equal(p.Step + key[0], p.Value));
            Assert.Equal((double)(steps[^1] + key[0]), (await Store.GetRunAsync(id)).LatestMetrics.Single(m => m.Key == key).Value);
        }
    }

    [Fact]
    public async Task tags_are_set_overwritten_in_order_and_deleted()
    {
        var run = await Store.CreateRunAsync((await NewExperiment()).Id, tags: new Dictionary<string, string> { ["a"] = "1" });
        var id = run.Info.RunId;
        await Store.LogBatchAsync(id, new RunBatch([], [], [new KeyValue("b", "1"), new KeyValue("b", "2"), new KeyValue("a", "3")]));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "3", ["b"] = "2" }, (await Store.GetRunAsync(id)).Tags);
        await Store.DeleteRunTagAsync(id, "a");
        await Fails(ErrorCode.ResourceDoesNotExist, () => Store.DeleteRunTagAsync(id, "a"));
        Assert.Equal(new Dictionary<string, string> { ["b"] = "2" }, (await Store.GetRunAsync(id)).Tags);
    }

    [Fact]
    public async Task listings_page_with_tokens_and_filter_by_status_and_lifecycle()
    {
        var e = await NewExperiment();
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
            ids.Add((await Store.CreateRunAsync(e.Id, $"r{i}", startTime: 1000 + i, status: i % 2 == 0 ? RunStatus.Finished : RunStatus.Running)).Info.RunId);
        var all = new List<string>();
        string? token = null;
        do
        {
            var page = await Store.ListRunsAsync(new RunQuery([e.Id], Limit: 3, PageToken: token));
            all.AddRange(page.Items.Select(r => r.Info.RunId));
            token = page.NextPageToken;
        } while (token is not null);
        Assert.Equal(Enumerable.Reverse(ids), all);
        var finished = await Store.ListRunsAsync(new RunQuery([e.Id], Status: RunStatus.Finished));
        Assert.Equal(4, finished.Items.Count);
        await Store.DeleteRunAsync(ids[0]);
        Assert.Equal(6, (await Store.ListRunsAsync(new RunQuery([e.Id]))).Items.Count);
        Assert.Equal(ids[0], Assert.Single((await Store.ListRunsAsync(new RunQuery([e.Id], LifecycleFilter.Deleted))).Items).Info.RunId);
        Assert.Equal(7, (await Store.ListRunsAsync(new RunQuery([e.Id], LifecycleFilter.All))).Items.Count);

        for (var i = 0; i < 4; i++) await NewExperiment($"page-{i}");
        var names = new List<string>();
        token = null;
        do
        {
            var page = await Store.ListExperimentsAsync(new ExperimentQuery(NameContains: "PAGE-", Limit: 3, PageToken: token));
            names.AddRange(page.Items.Select(x => x.Name));
            token = page.NextPageToken;
        } while (token is not null);
        Assert.Equal(["page-0", "page-1", "page-2", "page-3"], names);
    }

    [Fact]
    public async Task name_filters_treat_like_wildcards_as_plain_text()
    {
        await NewExperiment("a_b");
        await NewExperiment("axb");
        var page = await Store.ListExperimentsAsync(new ExperimentQuery(NameContains: "a_b"));
        Assert.Equal("a_b", Assert.Single(page.Items).Name);
    }

    [Fact]
    public async Task an_idempotency_key_replays_the_first_result_and_writes_nothing_twice()
    {
        var e = await NewExperiment();
        var key = new IdempotencyKey("k-" + Guid.NewGuid(), "hash-1");
        var first = await Acting.WithKey(key, () => Store.CreateRunAsync(e.Id, "once"));
        Assert.False(key.Replayed);
        var again = new IdempotencyKey(key.Key, "hash-1");
        var second = await Acting.WithKey(again, () => Store.CreateRunAsync(e.Id, "once"));
        Assert.True(again.Replayed);
        Assert.Equal(first.Info.RunId, second.Info.RunId);
        Assert.Single((await Store.ListRunsAsync(new RunQuery([e.Id]))).Items);
        await Fails(ErrorCode.Conflict, () => Acting.WithKey(new IdempotencyKey(key.Key, "hash-2"), () => Store.CreateRunAsync(e.Id, "other")));

        var batchKey = new IdempotencyKey("b-" + Guid.NewGuid(), "h");
        var batch = new RunBatch([new MetricPoint("m", 1, 0, 1)], [], []);
        await Acting.WithKey(batchKey, () => Store.LogBatchAsync(first.Info.RunId, batch));
        await Acting.WithKey(new IdempotencyKey(batchKey.Key, "h"), () => Store.LogBatchAsync(first.Info.RunId, batch));
        Assert.Single((await Store.GetMetricHistoryAsync(first.Info.RunId, "m")).Items);
    }

    [Fact]
    public async Task a_failed_write_with_an_idempotency_key_can_be_retried()
    {
        var e = await NewExperiment();
        var run = await Store.CreateRunAsync(e.Id);
        await Store.LogBatchAsync(run.Info.RunId, new RunBatch([], [new KeyValue("p", "1")], []));
        var key = "retry-" + Guid.NewGuid();
        var bad = new RunBatch([], [new KeyValue("p", "2")], []);
        await Fails(ErrorCode.InvalidParameterValue, () => Acting.WithKey(new IdempotencyKey(key, "h"), () => Store.LogBatchAsync(run.Info.RunId, bad)));
        // The rejection stored nothing, not even the key.
        await Fails(ErrorCode.InvalidParameterValue, () => Acting.WithKey(new IdempotencyKey(key, "h"), () => Store.LogBatchAsync(run.Info.RunId, bad)));
    }

    [Fact]
    public async Task concurrent_writers_to_one_series_lose_no_point()
    {
        var run = await Store.CreateRunAsync((await NewExperiment()).Id);
        var id = run.Info.RunId;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var b = 0; b < 10; b++)
            {
                var points = Enumerable.Range(0, 150).Select(i => new MetricPoint("shared", w, w * 10_000 + b * 150 + i, 1)).ToList();
                await Store.LogBatchAsync(id, new RunBatch(points, [], []));
            }
        })));
        var history = (await Store.GetMetricHistoryAsync(id, "shared", 100_000)).Items;
        Assert.Equal(8 * 10 * 150, history.Count);
        Assert.Equal(8 * 10 * 150, history.Select(p => p.Step).Distinct().Count());
    }

    [Fact]
    public async Task data_survives_closing_and_reopening_the_store()
    {
        var e = await NewExperiment("durable");
        var run = await Store.CreateRunAsync(e.Id);
        await Store.LogBatchAsync(run.Info.RunId, new RunBatch([new MetricPoint("m", 3, 1, 2)], [new KeyValue("p", "v")], []));
        await ReopenAsync();
        var back = await Store.GetRunAsync(run.Info.RunId);
        Assert.Equal("v", back.Params["p"]);
        Assert.Equal(3, Assert.Single(back.LatestMetrics).Value);
        Assert.Equal("durable", (await Store.GetExperimentByNameAsync(null, "durable")).Name);
    }

    [Fact]
    public async Task a_database_newer_than_the_code_is_refused()
    {
        await Db.WriteAsync(s => s.Connection.ExecuteAsync(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)", transaction: s.Transaction));
        await Db.DisposeAsync();
        var ex = await Assert.ThrowsAnyAsync<LineageException>(() => Database.OpenAsync(Target));
        Assert.Contains("999", ex.Message);
        Db = await Database.OpenAsync(NewTarget(Dir)); // so DisposeAsync has something to close
    }

    [Fact]
    public async Task upgrading_to_provenance_fills_creator_and_last_change_from_what_rows_already_knew()
    {
        var run = await Store.CreateRunAsync(0, "legacy", startTime: 1_700_000_000_000, user: "legacy-user");
        await Store.UpdateRunAsync(run.Info.RunId, new RunUpdate(RunStatus.Finished, 1_700_000_500_000, null));
        // Turn the database back into one at schema 9: migration 10's columns gone, its row removed.
        await Db.WriteAsync(async s =>
        {
            foreach (var (table, columns) in new[]
                     {
                         ("projects", "created_by updated_at updated_by"), ("experiments", "created_by updated_by"),
                         ("runs", "created_at created_by updated_at updated_by"), ("artifact_versions", "updated_at updated_by"),
                         ("artifact_aliases", "created_at created_by"), ("registered_models", "updated_by"), ("model_versions", "updated_by"),
                         ("model_aliases", "created_at created_by"), ("deployments", "updated_by"),
                         ("executions", "created_by updated_at updated_by"), ("contexts", "created_by updated_at updated_by"),
                     })
                foreach (var column in columns.Split(' '))
                    await s.Connection.ExecuteAsync($"ALTER TABLE {table} DROP COLUMN {column}", transaction: s.Transaction);
            return await s.Connection.ExecuteAsync("DELETE FROM schema_migrations WHERE version = 10", transaction: s.Transaction);
        });
        await ReopenAsync(upgrade: true);

        var back = (await Store.GetRunAsync(run.Info.RunId)).Info.Provenance!;
        Assert.Equal(new Provenance(1_700_000_000_000, "legacy-user", 1_700_000_500_000, "legacy-user"), back);
        var project = (await Store.GetProjectAsync("default")).Provenance!;
        Assert.Equal(project.CreatedAt, project.UpdatedAt);
        Assert.Null(project.CreatedBy);
    }
}

public sealed class TrackingStoreSqliteTests : TrackingStoreContract
{
    protected override string NewTarget(TempDir dir) => dir.File($"store-{Guid.NewGuid():N}.db");
}

public sealed class TrackingStorePostgresTests : TrackingStoreContract
{
    protected override string NewTarget(TempDir dir) => PostgresTarget.CreateDatabase();
}
