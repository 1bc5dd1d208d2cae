using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Query;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Query;

/// <summary>
/// Searches in the query language (<see cref="QueryParser"/>) over runs, experiments and
/// artifact versions, and the MLflow-shaped views of runs and experiments. Each public method is
/// one read transaction. Limits follow MLflow: 1,000 results by default, 50,000 at most.
/// Errors: a bad filter, order or token is INVALID_PARAMETER_VALUE; unknown ids RESOURCE_DOES_NOT_EXIST.
/// Thread-safe.
/// </summary>
public sealed class SearchStore(Database db)
{
    public const int DefaultMaxResults = 1_000;
    public const int MaxResults = 50_000;

    public Database Database => db;

    // ---- runs ----------------------------------------------------------------------------

    public Task<RunView> GetRunAsync(string runId)
    {
        runId = Validate.RunId(runId, "run_id");
        return db.ReadAsync(async s => (await ViewAccess.RunViewsAsync(s, [await RunAccess.RequireAsync(s, runId)]))[0]);
    }

    /// <summary>Runs of the given experiments matching the query, a page at a time.</summary>
    public Task<Page<RunView>> SearchRunsAsync(IReadOnlyList<long> experimentIds, LifecycleFilter lifecycle, SearchQuery query,
        int? maxResults = null, string? pageToken = null)
    {
        var limit = CheckMax(maxResults);
        var scope = $"runs|{string.Join(',', experimentIds)}|{lifecycle}|{query}";
        var offset = SearchToken.Decode(pageToken, scope);
        if (experimentIds.Count == 0) return Task.FromResult(new Page<RunView>([], null));
        return db.ReadAsync(async s =>
        {
            var rows = query.OrderBy is [{ Field.Kind: FieldKind.Metric } first, ..]
                ? await RunsByMetricAsync(s, experimentIds, lifecycle, query, first, limit + 1, offset)
                : await RunRowsAsync(s, experimentIds, lifecycle, query, query.OrderBy, null, limit + 1, offset);
            var page = rows.Take(limit).ToList();
            return new Page<RunView>(await ViewAccess.RunViewsAsync(s, page),
                rows.Count > limit ? SearchToken.Encode(offset + limit, scope) : null);
        });
    }

    private const string RunColumns = """
        SELECT r.id, r.uuid, r.experiment_id, r.name, r.status, r.start_time, r.end_time, r.user_name,
               pa.uuid AS parent_uuid, r.lifecycle, r.deleted_at
        """;

    /// <summary>
    /// The general plan: candidate runs of the experiments, filtered by EXISTS probes, sorted.
    /// <paramref name="withoutMetric"/> restricts to runs that have no value for that metric key.
    /// </summary>
    private static async Task<List<RunRow>> RunRowsAsync(DbSession s, IReadOnlyList<long> experimentIds, LifecycleFilter lifecycle,
        SearchQuery query, IReadOnlyList<OrderKey> orderBy, long? withoutMetric, int take, int skip)
    {
        var sql = new FilterSql(SearchTarget.Runs, s.Dialect, s.Fields.Patterns);
        var where = sql.Where(query.Filter);
        var order = sql.OrderBy(orderBy, "r.start_time DESC, r.id DESC");
        var p = sql.Parameters;
        AddScope(p, experimentIds, lifecycle, take, skip);
        p.Add("withoutMetric", withoutMetric);
        var text = $"""
            {RunColumns}
            FROM runs r JOIN experiments e ON e.id = r.experiment_id LEFT JOIN runs pa ON pa.id = r.parent_id{sql.Joins}
            WHERE {s.Dialect.InList("r.experiment_id", "experimentIds")}{s.Visible("e.project_id")}
              {(lifecycle == LifecycleFilter.All ? "" : "AND r.lifecycle = @lifecycle")}
              {(withoutMetric is null ? "" : "AND NOT EXISTS (SELECT 1 FROM latest_metrics w WHERE w.run_id = r.id AND w.key_id = @withoutMetric AND w.value IS NOT NULL)")}
              AND {where}
            ORDER BY {order}
            LIMIT @limit OFFSET @offset
            """;
        return (await s.Connection.QueryAsync<RunRow>(text, p, s.Transaction)).ToList();
    }

    /// <summary>
    /// Ordered by a metric first: walk that metric's index (key, value) in order and probe each
    /// run, so the cost follows the page, not the table; then, as MLflow sorts missing values last,
    /// the runs without the metric. CROSS JOIN pins SQLite's loop order to the index walk.
    /// </summary>
    private static async Task<List<RunRow>> RunsByMetricAsync(DbSession s, IReadOnlyList<long> experimentIds, LifecycleFilter lifecycle,
        SearchQuery query, OrderKey first, int take, int skip)
    {
        var keyId = await s.Connection.ExecuteScalarAsync<long?>("SELECT id FROM metric_keys WHERE name = @name",
            new { name = first.Field.Key }, s.Transaction);
        var rest = query.OrderBy.Skip(1).ToList();
        if (keyId is null) return await RunRowsAsync(s, experimentIds, lifecycle, query, rest, null, take, skip);

        var sql = new FilterSql(SearchTarget.Runs, s.Dialect, s.Fields.Patterns);
        var where = sql.Where(query.Filter);
        var order = $"d.value {(first.Descending ? "DESC" : "ASC")}, " + sql.OrderBy(rest, "r.start_time DESC, r.id DESC");
        var p = sql.Parameters;
        AddScope(p, experimentIds, lifecycle, take, skip);
        p.Add("keyId", keyId);
        var from = $"""
            FROM latest_metrics d CROSS JOIN runs r JOIN experiments e ON e.id = r.experiment_id LEFT JOIN runs pa ON pa.id = r.parent_id{sql.Joins}
            WHERE d.key_id = @keyId AND d.value IS NOT NULL AND r.id = d.run_id
              AND {s.Dialect.InList("r.experiment_id", "experimentIds")}{s.Visible("e.project_id")}
              {(lifecycle == LifecycleFilter.All ? "" : "AND r.lifecycle = @lifecycle")}
              AND {where}
            """;
        var rows = (await s.Connection.QueryAsync<RunRow>($"{RunColumns} {from} ORDER BY {order} LIMIT @limit OFFSET @offset", p, s.Transaction)).ToList();
        if (rows.Count >= take) return rows;
        // The page runs past the runs that have the metric: continue with those that do not.
        var skipWithout = 0;
        if (rows.Count == 0 && skip > 0)
            skipWithout = Math.Max(0, skip - await s.Connection.ExecuteScalarAsync<int>($"SELECT COUNT(*) {from}", p, s.Transaction));
        rows.AddRange(await RunRowsAsync(s, experimentIds, lifecycle, query, rest, keyId, take - rows.Count, skipWithout));
        return rows;
    }

    private static void AddScope(DynamicParameters p, IReadOnlyList<long> experimentIds, LifecycleFilter lifecycle, int take, int skip)
    {
        p.Add("experimentIds", experimentIds.ToArray());
        p.Add("lifecycle", lifecycle == LifecycleFilter.Deleted ? "deleted" : "active");
        p.Add("limit", take);
        p.Add("offset", skip);
    }

    // ---- experiments ---------------------------------------------------------------------

    public Task<ExperimentView> GetExperimentAsync(long id) =>
        db.ReadAsync(async s => (await ViewAccess.ExperimentViewsAsync(s, [await ExperimentAccess.RequireAsync(s, id)]))[0]);

    /// <summary>By name in the request's project (MLflow has one namespace per tracking URI); deleted experiments are found too.</summary>
    public Task<ExperimentView> GetExperimentByNameAsync(string name) =>
        db.ReadAsync(async s =>
        {
            var project = await ExperimentAccess.RequireProjectAsync(s, s.RequestProject);
            var row = await ExperimentAccess.FindByNameAsync(s, project.Id, name)
                      ?? throw LineageException.NotFound($"Could not find experiment with name '{name}'");
            return (await ViewAccess.ExperimentViewsAsync(s, [row]))[0];
        });

    /// <summary>Experiments of the request's project matching the query; default order: newest first.</summary>
    public Task<Page<ExperimentView>> SearchExperimentsAsync(LifecycleFilter lifecycle, SearchQuery query, int? maxResults = null,
        string? pageToken = null)
    {
        var limit = CheckMax(maxResults);
        var scope = $"experiments|{lifecycle}|{query}";
        var offset = SearchToken.Decode(pageToken, scope);
        return db.ReadAsync(async s =>
        {
            var project = await ExperimentAccess.RequireProjectAsync(s, s.RequestProject);
            var sql = new FilterSql(SearchTarget.Experiments, s.Dialect, s.Fields.Patterns);
            var where = sql.Where(query.Filter);
            var order = sql.OrderBy(query.OrderBy, "e.created_at DESC, e.id ASC");
            var p = sql.Parameters;
            p.Add("projectId", project.Id);
            p.Add("lifecycle", lifecycle == LifecycleFilter.Deleted ? "deleted" : "active");
            p.Add("limit", limit + 1);
            p.Add("offset", offset);
            var text = $"""
                SELECT e.id, e.project_id, pj.name AS project_name, e.name, e.description, e.lifecycle, e.created_at, e.updated_at, e.deleted_at
                FROM experiments e JOIN projects pj ON pj.id = e.project_id{sql.Joins}
                WHERE e.project_id = @projectId{s.Visible("e.project_id")} {(lifecycle == LifecycleFilter.All ? "" : "AND e.lifecycle = @lifecycle")} AND {where}
                ORDER BY {order}
                LIMIT @limit OFFSET @offset
                """;
            var rows = (await s.Connection.QueryAsync<ExperimentRow>(text, p, s.Transaction)).ToList();
            var page = rows.Take(limit).ToList();
            return new Page<ExperimentView>(await ViewAccess.ExperimentViewsAsync(s, page),
                rows.Count > limit ? SearchToken.Encode(offset + limit, scope) : null);
        });
    }


    // ---- artifacts -----------------------------------------------------------------------

    /// <summary>
    /// Artifact versions of a project matching the query, e.g. <c>type = 'dataset' AND metadata.rows &gt; 1000</c>.
    /// Default order: newest first.
    /// </summary>
    public Task<Page<ArtifactVersion>> SearchArtifactsAsync(string? project, LifecycleFilter lifecycle, SearchQuery query,
        int? maxResults = null, string? pageToken = null)
    {
        project ??= OperationContext.DefaultProject;
        var limit = CheckMax(maxResults);
        var scope = $"artifacts|{project}|{lifecycle}|{query}";
        var offset = SearchToken.Decode(pageToken, scope);
        return db.ReadAsync(async s =>
        {
            var p0 = await ExperimentAccess.RequireProjectAsync(s, project);
            var sql = new FilterSql(SearchTarget.Artifacts, s.Dialect, s.Fields.Patterns);
            var where = sql.Where(query.Filter);
            var order = sql.OrderBy(query.OrderBy, "v.created_at DESC, v.id DESC");
            var p = sql.Parameters;
            p.Add("projectId", p0.Id);
            p.Add("limit", limit + 1);
            p.Add("offset", offset);
            var life = lifecycle switch
            {
                LifecycleFilter.All => "",
                LifecycleFilter.Deleted => "AND v.lifecycle <> 'active'",
                _ => "AND v.lifecycle = 'active'",
            };
            var text = $"""
                SELECT v.id FROM artifact_versions v JOIN artifact_names n ON n.id = v.name_id
                LEFT JOIN runs pr ON pr.id = v.producer_run_id{sql.Joins}
                WHERE n.project_id = @projectId{s.Visible("n.project_id")} {life} AND {where}
                ORDER BY {order}
                LIMIT @limit OFFSET @offset
                """;
            var ids = (await s.Connection.QueryAsync<long>(text, p, s.Transaction)).ToList();
            var page = ids.Take(limit).ToList();
            var rows = new List<VersionRow>();
            foreach (var id in page) rows.Add((await ArtifactAccess.FindByIdAsync(s, id))!);
            return new Page<ArtifactVersion>(await ArtifactAccess.LoadAsync(s, rows),
                ids.Count > limit ? SearchToken.Encode(offset + limit, scope) : null);
        });
    }

    private static int CheckMax(int? maxResults)
    {
        var value = maxResults ?? DefaultMaxResults;
        if (value < 1 || value > MaxResults)
            throw LineageException.Invalid("max_results", $"Invalid value {value} for parameter 'max_results': it must be between 1 and {MaxResults}");
        return value;
    }
}
