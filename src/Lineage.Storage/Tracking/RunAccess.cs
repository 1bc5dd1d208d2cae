using System.Text;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Tracking;

/// <summary>Data access for runs, their params and tags. Runs statements in the caller's transaction; never commits.</summary>
internal static class RunAccess
{
    private const string SelectRun = """
        SELECT r.id, r.uuid, r.experiment_id, r.name, r.status, r.start_time, r.end_time, r.user_name,
               p.uuid AS parent_uuid, r.lifecycle, r.deleted_at, r.created_at, r.created_by, r.updated_at, r.updated_by
        FROM runs r LEFT JOIN runs p ON p.id = r.parent_id
        """;

    /// <summary>A run's project, for <see cref="DbSession.Visible"/>.</summary>
    public const string ProjectOfRun = "(SELECT x.project_id FROM experiments x WHERE x.id = r.experiment_id)";

    public static Task<long> CreateAsync(DbSession s, string uuid, long experimentId, string? name, RunStatus status,
        long startTime, long? endTime, string? user, long? parentId) =>
        s.Connection.ExecuteScalarAsync<long>("""
            INSERT INTO runs (uuid, experiment_id, name, status, start_time, end_time, user_name, parent_id, lifecycle, created_at, created_by, updated_at, updated_by)
            VALUES (@uuid, @experimentId, @name, @status, @startTime, @endTime, @user, @parentId, 'active', @now, @by, @now, @by)
            RETURNING id
            """, new { uuid, experimentId, name, status = Rows.Text(status), startTime, endTime, user, parentId, now = Clock.NowMs(), by = s.Actor ?? user },
            s.Transaction);

    public static Task<RunRow?> FindAsync(DbSession s, string uuid) =>
        s.Connection.QueryFirstOrDefaultAsync<RunRow>($"{SelectRun} WHERE r.uuid = @uuid{s.Visible(ProjectOfRun)}", new { uuid }, s.Transaction);

    /// <summary>Internal ids of the runs with these uuids that exist and the caller may read.</summary>
    public static async Task<Dictionary<string, long>> IdsOfAsync(DbSession s, IReadOnlyList<string> uuids)
    {
        var rows = await s.Connection.QueryAsync<(string Uuid, long Id)>(
            $"SELECT r.uuid, r.id FROM runs r WHERE {s.Dialect.InSet("r.uuid", "uuids")}{s.Visible(ProjectOfRun)}",
            new { uuids = s.Dialect.Set(uuids) }, s.Transaction);
        return rows.ToDictionary(r => r.Uuid, r => r.Id, StringComparer.Ordinal);
    }

    public static async Task<RunRow> RequireAsync(DbSession s, string uuid) =>
        await FindAsync(s, uuid) ?? throw LineageException.NotFound($"run with id '{uuid}' does not exist");

    public static async Task<RunRow> RequireActiveAsync(DbSession s, string uuid, string action)
    {
        var row = await RequireAsync(s, uuid);
        if (!row.IsActive)
            throw LineageException.Invalid("runId", $"cannot {action}: run '{uuid}' is deleted; restore it first");
        return row;
    }

    public static async Task<IReadOnlyList<RunRow>> ListAsync(DbSession s, RunQuery q, long? parentId, long[]? after)
    {
        var sql = new StringBuilder(SelectRun).Append(" WHERE 1 = 1");
        if (q.ExperimentIds is { Count: > 0 }) sql.Append(" AND ").Append(s.Dialect.InList("r.experiment_id", "experimentIds"));
        sql.Append(s.Visible(ProjectOfRun));
        if (q.Lifecycle != LifecycleFilter.All) sql.Append(" AND r.lifecycle = @lifecycle");
        if (q.Status is not null) sql.Append(" AND r.status = @status");
        if (parentId is not null) sql.Append(" AND r.parent_id = @parentId");
        if (q.User is not null) sql.Append(" AND r.user_name = @user");
        if (after is not null) sql.Append(" AND (r.start_time, r.id) < (@afterStart, @afterId)");
        sql.Append(" ORDER BY r.start_time DESC, r.id DESC LIMIT @limit");
        return (await s.Connection.QueryAsync<RunRow>(sql.ToString(), new
        {
            experimentIds = q.ExperimentIds?.ToArray(),
            lifecycle = q.Lifecycle == LifecycleFilter.Deleted ? "deleted" : "active",
            status = q.Status is { } st ? Rows.Text(st) : null,
            parentId,
            user = q.User,
            afterStart = after?[0],
            afterId = after?[1],
            limit = q.Limit + 1,
        }, s.Transaction)).ToList();
    }

    public static Task<int> UpdateAsync(DbSession s, long id, RunStatus? status, long? endTime, string? name) =>
        s.Connection.ExecuteAsync("""
            UPDATE runs SET status = COALESCE(@status, status), end_time = COALESCE(@endTime, end_time), name = COALESCE(@name, name),
                            updated_at = @now, updated_by = @by
            WHERE id = @id
            """, new { id, status = status is { } st ? Rows.Text(st) : null, endTime, name, now = Clock.NowMs(), by = s.Actor }, s.Transaction);

    public static Task<int> SetLifecycleAsync(DbSession s, long id, Lifecycle lifecycle, long? deletedAt) =>
        s.Connection.ExecuteAsync("UPDATE runs SET lifecycle = @lifecycle, deleted_at = @deletedAt, updated_at = @now, updated_by = @by WHERE id = @id",
            new { id, lifecycle = Rows.Text(lifecycle), deletedAt, now = Clock.NowMs(), by = s.Actor }, s.Transaction);

    /// <summary>Params are write-once: the same value again is accepted, a different one is a 400.</summary>
    public static async Task LogParamsAsync(DbSession s, RunRow run, IReadOnlyList<KeyValue> parameters)
    {
        for (var i = 0; i < parameters.Count; i++)
        {
            var (key, value) = (parameters[i].Key, parameters[i].Value);
            var field = parameters.Count == 1 ? "value" : $"params[{i}].value";
            var binding = ParamBinding(run.Id, key);
            var inserted = await s.Connection.ExecuteAsync(
                "INSERT INTO params (run_id, key, value) VALUES (@runId, @key, @value) ON CONFLICT (run_id, key) DO NOTHING",
                new { runId = run.Id, key, value = s.Fields.Seal(s, binding, key, value, parameters[i].Sensitive, field) }, s.Transaction);
            if (inserted == 1) continue;
            var stored = await s.Connection.ExecuteScalarAsync<string>(
                "SELECT value FROM params WHERE run_id = @runId AND key = @key", new { runId = run.Id, key }, s.Transaction) ?? "";
            // Sealed values carry a fresh nonce each time: compare plaintexts, and never echo a sensitive one.
            var existing = s.Fields.Open(binding, stored);
            if (existing != value)
            {
                var hidden = FieldEnvelope.IsSealed(stored) || parameters[i].Sensitive || s.Fields.IsSensitive(key);
                throw LineageException.Invalid(field, hidden
                    ? $"param '{key}' of run '{run.Uuid}' is already set to another (sensitive) value; params are write-once"
                    : $"param '{key}' of run '{run.Uuid}' is already '{Validate.Shorten(existing)}' and cannot change to '{Validate.Shorten(value)}'; params are write-once");
            }
        }
    }

    public static async Task SetTagsAsync(DbSession s, long runId, IEnumerable<KeyValue> tags)
    {
        foreach (var tag in tags)
            await s.Connection.ExecuteAsync("""
                INSERT INTO run_tags (run_id, key, value) VALUES (@runId, @key, @value)
                ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value
                """, new { runId, key = tag.Key, value = s.Fields.Seal(s, TagBinding(runId, tag.Key), tag.Key, tag.Value, tag.Sensitive, $"tags.{tag.Key}") },
                s.Transaction);
    }

    // What a sealed value is bound to (AES-GCM associated data): table, owner and key.
    internal static string ParamBinding(long runId, string key) => $"params/{runId}/{key}";

    internal static string TagBinding(long runId, string key) => $"run_tags/{runId}/{key}";

    public static Task<int> DeleteTagAsync(DbSession s, long runId, string key) =>
        s.Connection.ExecuteAsync("DELETE FROM run_tags WHERE run_id = @runId AND key = @key", new { runId, key }, s.Transaction);

    /// <summary>Loads params, tags and latest metrics for many runs in three queries.</summary>
    public static async Task<IReadOnlyList<Run>> LoadAsync(DbSession s, IReadOnlyList<RunRow> rows)
    {
        if (rows.Count == 0) return [];
        var ids = rows.Select(r => r.Id).ToArray();
        var uuids = rows.ToDictionary(r => r.Id, r => r.Uuid);
        var parameters = await KeyValuesAsync(s, "params", ids, (id, key, value) =>
            s.Fields.Show(s, ParamBinding(id, key), $"run {uuids[id]} param {key}", key, value));
        var tags = await KeyValuesAsync(s, "run_tags", ids, (id, key, value) =>
            s.Fields.Show(s, TagBinding(id, key), $"run {uuids[id]} tag {key}", key, value));
        // Read with typed getters rather than mapped rows: a page of 400 runs is ~10,000 params, tags and metrics, and
        // mapping boxed every column of every row (a fifth of runs/search's CPU, issue 15).
        var metrics = ids.ToDictionary(id => id, _ => new List<MetricPoint>());
        await s.ForEachRowAsync($"""
                SELECT m.run_id, k.name, m.value, m.step, m.timestamp
                FROM latest_metrics m JOIN metric_keys k ON k.id = m.key_id
                WHERE {s.Dialect.InSet("m.run_id", "ids")} ORDER BY k.name
                """, new { ids = s.Dialect.Set(ids) }, reader =>
            metrics[reader.GetInt64(0)].Add(new MetricPoint(reader.GetString(1), reader.IsDBNull(2) ? double.NaN : reader.GetDouble(2),
                reader.GetInt64(3), reader.GetInt64(4))));
        return rows.Select(r => new Run(r.ToInfo(), parameters[r.Id], tags[r.Id], metrics[r.Id])).ToList();
    }

    private static async Task<Dictionary<long, Dictionary<string, string>>> KeyValuesAsync(DbSession s, string table, long[] ids,
        Func<long, string, string, string> show)
    {
        var result = ids.ToDictionary(id => id, _ => new Dictionary<string, string>(StringComparer.Ordinal));
        // The table name is one of two constants chosen above, never user text.
        await s.ForEachRowAsync($"SELECT run_id, key, value FROM {table} WHERE {s.Dialect.InSet("run_id", "ids")} ORDER BY key",
            new { ids = s.Dialect.Set(ids) }, reader =>
            {
                var (owner, key, value) = (reader.GetInt64(0), reader.GetString(1), reader.GetString(2));
                // Most values are neither sealed nor under a sensitive key and are shown as stored: only the others need the
                // binding and audit label that showing them takes.
                result[owner][key] = FieldEnvelope.IsSealed(value) || s.Fields.IsSensitive(key) ? show(owner, key, value) : value;
            });
        return result;
    }
}
