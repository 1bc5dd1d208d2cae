using System.Globalization;
using System.Text.Json.Nodes;
using Dapper;
using Lineage.Core.Alerts;
using Lineage.Core.Events;
using Lineage.Core.Query;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;
using Lineage.Storage.Query;
using Lineage.Storage.Registry;

namespace Lineage.Storage.Alerts;

/// <summary>
/// Evaluates alert rules (issue 14, part 5) where their facts change: it reads the event log after its position and
/// re-evaluates only the subjects those events touch (the run that logged metrics, the model version registered, the
/// dataset version profiled, the deployment that moved …), and <see cref="EvaluateTimedAsync"/> checks the time-based
/// conditions over their candidate rows only (pending promotions, failed deployments, running runs: indexed). Each
/// evaluation reads the current state, so reading an event twice changes nothing, and the state per (rule, subject) makes a
/// change fire once (<see cref="AlertAccess.ApplyAsync"/>). One evaluation at a time across servers on PostgreSQL (advisory
/// lock). Thread-safe.
/// </summary>
public sealed class AlertEvaluator(Database db)
{
    /// <summary>Advisory lock key (PostgreSQL): one evaluating transaction at a time across servers.</summary>
    public const long EvaluatorLockId = 0x4c_4e_41_4c_45_52_54; // "LNALERT"

    public const int EventBatch = 500;

    private static readonly string[] TimedKinds = [AlertKinds.PromotionPending, AlertKinds.DeploymentFailed, AlertKinds.RunStale];

    public Database Database => db;

    /// <summary>The saved position in the event log (the seq read up to).</summary>
    public Task<long> PositionAsync() =>
        db.ReadAsync(async s => await s.Connection.ExecuteScalarAsync<long?>("SELECT seq FROM alert_cursor WHERE id = 1", transaction: s.Transaction) ?? 0);

    public Task SavePositionAsync(long seq, CancellationToken ct = default) =>
        db.WriteAsync(s => s.Connection.ExecuteAsync("UPDATE alert_cursor SET seq = @seq WHERE id = 1 AND seq < @seq", new { seq }, s.Transaction), ct: ct);

    /// <summary>
    /// Reads up to <see cref="EventBatch"/> events after <paramref name="after"/> and evaluates the rules they concern, in one
    /// write transaction that also saves the position; a batch that concerns no rule costs one read. Returns how many events
    /// were read, the new position and whether any rule exists. With no rules at all the position jumps to the head without
    /// reading events (and need not be saved: the first rule's creation moves the saved position to the head).
    /// </summary>
    public async Task<(int Read, long Position, bool AnyRules)> EvaluateEventsAsync(long after, CancellationToken ct = default)
    {
        var (kinds, events, head) = await db.ReadAsync(async s =>
        {
            var k = (await s.Connection.QueryAsync<(string Kind, long ProjectId)>("SELECT DISTINCT kind, project_id FROM alert_rules", transaction: s.Transaction))
                .ToHashSet();
            if (k.Count == 0) return (k, new List<EventRow>(), await s.Connection.ExecuteScalarAsync<long?>("SELECT MAX(seq) FROM events", transaction: s.Transaction) ?? 0);
            var rows = (await s.Connection.QueryAsync<EventRow>("SELECT seq, type, project_id, entity, payload FROM events WHERE seq > @after ORDER BY seq LIMIT @batch",
                new { after, batch = EventBatch }, s.Transaction)).ToList();
            return (k, rows, 0L);
        }, ct);
        if (kinds.Count == 0) return (0, Math.Max(after, head), false);
        if (events.Count == 0) return (0, after, true);
        var last = events[^1].Seq;
        var relevant = events.Where(e => kinds.Any(k => k.ProjectId == e.ProjectId && Concerns(k.Kind, e.Type))).ToList();
        if (relevant.Count == 0) return (events.Count, last, true);
        await db.WriteAsync(async s =>
        {
            await LockAsync(s);
            var projects = relevant.Select(e => e.ProjectId).Distinct().ToArray();
            var rules = (await s.Connection.QueryAsync<AlertAccess.RuleRow>($"{AlertAccess.SelectRule} WHERE {s.Dialect.InSet("r.project_id", "projects")} ORDER BY r.id",
                new { projects = s.Dialect.Set(projects) }, s.Transaction)).ToList();
            var now = Clock.NowMs();
            foreach (var rule in rules)
            {
                var mine = relevant.Where(e => e.ProjectId == rule.ProjectId && Concerns(rule.Kind, e.Type)).ToList();
                if (mine.Count == 0) continue;
                foreach (var o in await EvaluateAsync(s, rule, await SubjectsAsync(s, rule, mine), now))
                    await AlertAccess.ApplyAsync(s, rule, o, now);
            }
            await s.Connection.ExecuteAsync("UPDATE alert_cursor SET seq = @last WHERE id = 1 AND seq < @last", new { last }, s.Transaction);
            return true;
        }, ct: ct);
        return (events.Count, last, true);
    }

    /// <summary>
    /// The time-based pass at <paramref name="now"/> (ms): pending promotions, failed deployments and running runs without data
    /// — their candidate rows (indexed) and the subjects whose condition is remembered as true. Returns how many alerts fired or
    /// resolved. Costs one read when there is no such rule.
    /// </summary>
    public async Task<int> EvaluateTimedAsync(long now, CancellationToken ct = default)
    {
        var any = await db.ReadAsync(async s => await s.Connection.ExecuteScalarAsync<long>(
            $"SELECT COUNT(*) FROM alert_rules WHERE {s.Dialect.InSet("kind", "kinds")}", new { kinds = s.Dialect.Set(TimedKinds) }, s.Transaction), ct);
        if (any == 0) return 0;
        return await db.WriteAsync(async s =>
        {
            await LockAsync(s);
            var rules = (await s.Connection.QueryAsync<AlertAccess.RuleRow>($"{AlertAccess.SelectRule} WHERE {s.Dialect.InSet("r.kind", "kinds")} ORDER BY r.id",
                new { kinds = s.Dialect.Set(TimedKinds) }, s.Transaction)).ToList();
            var changes = 0;
            foreach (var rule in rules)
            {
                var subjects = (await CandidatesAsync(s, rule, now)).Union(await ActiveSubjectsAsync(s, rule)).ToList();
                foreach (var o in await EvaluateAsync(s, rule, subjects, now))
                    if (await AlertAccess.ApplyAsync(s, rule, o, now)) changes++;
            }
            return changes;
        }, ct: ct);
    }

    private static Task LockAsync(DbSession s) => s.Dialect.TransactionLockAsync(s, EvaluatorLockId);

    // ---- which events concern which rules ----------------------------------------------------------------

    private static bool Concerns(string kind, string type) => kind switch
    {
        AlertKinds.MetricThreshold => type == EventTypes.RunDataLogged,
        AlertKinds.ModelRegression => type is EventTypes.ModelVersionCreated or EventTypes.PromotionRequested or EventTypes.ModelAliasMoved or EventTypes.RunDataLogged,
        AlertKinds.DataDrift => type is EventTypes.DatasetFactsRecorded or EventTypes.ModelAliasMoved or EventTypes.DeploymentCreated
            or EventTypes.DeploymentStatusChanged or EventTypes.DeploymentRolledBack,
        AlertKinds.PromotionPending => type is EventTypes.PromotionApproved or EventTypes.PromotionRejected,
        AlertKinds.DeploymentFailed => type is EventTypes.DeploymentCreated or EventTypes.DeploymentStatusChanged or EventTypes.DeploymentRolledBack,
        AlertKinds.RunStale => type is EventTypes.RunDataLogged or EventTypes.RunFinished or EventTypes.RunFailed or EventTypes.RunKilled,
        _ => false,
    };

    /// <summary>The subjects a rule must re-evaluate for these events (its project's, of types it is concerned with).</summary>
    private static async Task<List<string>> SubjectsAsync(DbSession s, AlertAccess.RuleRow rule, List<EventRow> events)
    {
        var c = rule.Condition;
        var subjects = new HashSet<string>(StringComparer.Ordinal);
        var refresh = false;
        var runs = new List<string>();
        foreach (var e in events)
        {
            var p = JsonNode.Parse(e.Payload) as JsonObject ?? [];
            switch (rule.Kind)
            {
                case AlertKinds.MetricThreshold or AlertKinds.RunStale:
                    subjects.Add(e.Entity);
                    break;
                case AlertKinds.ModelRegression:
                    if (e.Type == EventTypes.RunDataLogged) runs.Add(e.Entity["run:".Length..]);
                    else if (Text(p, "name") != c.Model) break;
                    else if (e.Type == EventTypes.ModelAliasMoved) refresh |= Text(p, "alias") == c.Alias;
                    else if (Number(p, "version") is { } v) subjects.Add(VersionSubject(c.Model!, v));
                    break;
                case AlertKinds.DataDrift:
                    if (e.Type == EventTypes.DatasetFactsRecorded)
                    {
                        if (Text(p, "name") == c.Dataset && Number(p, "version") is { } v) subjects.Add(DatasetSubject(c.Dataset!, v));
                    }
                    else if (e.Type == EventTypes.ModelAliasMoved) refresh |= c.Alias is not null && Text(p, "name") == c.Model && Text(p, "alias") == c.Alias;
                    else refresh |= c.Environment is not null && Text(p, "model") == c.Model && Text(p, "environment") == c.Environment;
                    break;
                case AlertKinds.PromotionPending:
                    if (Number(p, "promotionId") is { } promotion) subjects.Add($"promotion:{promotion}");
                    break;
                case AlertKinds.DeploymentFailed:
                    if (Number(p, "deploymentId") is { } deployment) subjects.Add($"deployment:{deployment}");
                    break;
            }
        }
        if (runs.Count > 0)
            // Metrics logged into the run behind a version of the watched model.
            foreach (var v in await s.Connection.QueryAsync<long>($"""
                         SELECT mv.version FROM model_versions mv JOIN registered_models m ON m.id = mv.model_id JOIN runs r ON r.id = mv.run_id
                         WHERE m.project_id = @project AND m.name = @model AND {s.Dialect.InSet("r.uuid", "runs")}
                         """, new { project = rule.ProjectId, model = c.Model, runs = s.Dialect.Set(runs.Distinct()) }, s.Transaction))
                subjects.Add(VersionSubject(c.Model!, v));
        if (refresh)
        {
            subjects.UnionWith(await ActiveSubjectsAsync(s, rule));
            subjects.UnionWith(await CandidatesAsync(s, rule, Clock.NowMs()));
        }
        return subjects.ToList();
    }

    /// <summary>Subjects whose condition is remembered as true: they must be looked at again to resolve.</summary>
    private static async Task<IEnumerable<string>> ActiveSubjectsAsync(DbSession s, AlertAccess.RuleRow rule) =>
        await s.Connection.QueryAsync<string>("SELECT subject FROM alert_states WHERE rule_id = @id AND active = 1", new { id = rule.Id }, s.Transaction);

    /// <summary>Where a condition may newly hold, read over candidate rows only (each query is indexed).</summary>
    private static async Task<IEnumerable<string>> CandidatesAsync(DbSession s, AlertAccess.RuleRow rule, long now)
    {
        var c = rule.Condition;
        switch (rule.Kind)
        {
            case AlertKinds.PromotionPending:
                return (await s.Connection.QueryAsync<long>($"""
                    SELECT q.id FROM promotion_requests q JOIN registered_models m ON m.id = q.model_id
                    WHERE q.status = 'PENDING' AND m.project_id = @project AND q.requested_at <= @cutoff{(c.Model is null ? "" : " AND m.name = @model")}
                    """, new { project = rule.ProjectId, cutoff = now - (long)(c.Hours!.Value * 3_600_000), model = c.Model }, s.Transaction)).Select(id => $"promotion:{id}");
            case AlertKinds.DeploymentFailed:
                return (await s.Connection.QueryAsync<long>($"""
                    SELECT d.id FROM deployments d JOIN environments en ON en.id = d.environment_id JOIN registered_models m ON m.id = d.model_id
                    WHERE d.status = 'failed' AND en.project_id = @project{(c.Environment is null ? "" : " AND en.name = @environment")}{(c.Model is null ? "" : " AND m.name = @model")}
                    """, new { project = rule.ProjectId, environment = c.Environment, model = c.Model }, s.Transaction)).Select(id => $"deployment:{id}");
            case AlertKinds.RunStale:
                return (await s.Connection.QueryAsync<string>("""
                    SELECT r.uuid FROM experiments e JOIN runs r ON r.experiment_id = e.id
                    WHERE e.project_id = @project AND r.status = 'RUNNING' AND r.lifecycle = 'active'
                    """, new { project = rule.ProjectId }, s.Transaction)).Select(uuid => $"run:{uuid}");
            case AlertKinds.ModelRegression:
                // The newest version of the model: the usual candidate when the alias moves.
                return (await s.Connection.QueryAsync<long>("""
                    SELECT latest_version FROM registered_models WHERE project_id = @project AND name = @model AND latest_version > 0
                    """, new { project = rule.ProjectId, model = c.Model }, s.Transaction)).Select(v => VersionSubject(c.Model!, v));
            case AlertKinds.DataDrift:
                // The newest profiled version of the dataset: the one a moved baseline is compared with.
                return (await s.Connection.QueryAsync<long>("""
                    SELECT MAX(v.version) FROM artifact_names n JOIN artifact_versions v ON v.name_id = n.id JOIN dataset_facts f ON f.artifact_id = v.id
                    WHERE n.project_id = @project AND n.name = @dataset AND v.type = 'dataset' AND v.lifecycle = 'active'
                    """, new { project = rule.ProjectId, dataset = c.Dataset }, s.Transaction)).Where(v => v > 0).Select(v => DatasetSubject(c.Dataset!, v));
            default:
                return [];
        }
    }

    // ---- conditions -----------------------------------------------------------------------------------------

    private static Task<List<Outcome>> EvaluateAsync(DbSession s, AlertAccess.RuleRow rule, List<string> subjects, long now) =>
        subjects.Count == 0 ? Task.FromResult(new List<Outcome>()) : rule.Kind switch
        {
            AlertKinds.MetricThreshold => MetricAsync(s, rule, subjects),
            AlertKinds.ModelRegression => RegressionAsync(s, rule, subjects),
            AlertKinds.DataDrift => DriftAsync(s, rule, subjects),
            AlertKinds.PromotionPending => PendingAsync(s, rule, subjects, now),
            AlertKinds.DeploymentFailed => FailedAsync(s, rule, subjects),
            AlertKinds.RunStale => StaleAsync(s, rule, subjects, now),
            _ => Task.FromResult(new List<Outcome>()),
        };

    /// <summary>The run matches the rule's query, compiled as the run search compiles it and probed for these runs only.</summary>
    private static async Task<List<Outcome>> MetricAsync(DbSession s, AlertAccess.RuleRow rule, List<string> subjects)
    {
        var query = rule.Condition.Query!;
        var filter = QueryParser.ParseFilter(SearchTarget.Runs, query);
        var sql = new FilterSql(SearchTarget.Runs, s.Dialect, s.Fields.Patterns);
        var where = sql.Where(filter);
        var p = sql.Parameters;
        var uuids = subjects.Select(x => x["run:".Length..]).ToList();
        p.Add("project", rule.ProjectId);
        p.Add("uuids", s.Dialect.Set(uuids));
        var matching = (await s.Connection.QueryAsync<string>($"""
            SELECT r.uuid FROM runs r JOIN experiments e ON e.id = r.experiment_id
            WHERE {s.Dialect.InSet("r.uuid", "uuids")} AND e.project_id = @project AND r.lifecycle = 'active' AND {where}
            """, p, s.Transaction)).ToHashSet(StringComparer.Ordinal);
        var keys = MetricKeys(filter).Distinct().ToList();
        var values = keys.Count == 0 ? [] : (await s.Connection.QueryAsync<(string Uuid, string Key, double? Value)>($"""
            SELECT r.uuid, k.name, m.value FROM runs r JOIN latest_metrics m ON m.run_id = r.id JOIN metric_keys k ON k.id = m.key_id
            WHERE {s.Dialect.InSet("r.uuid", "uuids")} AND {s.Dialect.InSet("k.name", "keys")}
            """, new { uuids = s.Dialect.Set(uuids), keys = s.Dialect.Set(keys) }, s.Transaction)).ToList();
        return uuids.Select(uuid =>
        {
            var metrics = values.Where(v => v.Uuid == uuid).ToDictionary(v => v.Key, v => v.Value);
            var holds = matching.Contains(uuid);
            return new Outcome($"run:{uuid}", holds, keys.Count > 0 ? metrics.GetValueOrDefault(keys[0]) : null, new Dictionary<string, object?>
            {
                ["message"] = holds ? $"run {uuid} matches {query}" : $"run {uuid} no longer matches {query}",
                ["runId"] = uuid,
                ["query"] = query,
                ["metrics"] = metrics,
            });
        }).ToList();
    }

    private static IEnumerable<string> MetricKeys(FilterExpr? e) => e switch
    {
        FilterExpr.Compare { Field.Kind: FieldKind.Metric } c => [c.Field.Key],
        FilterExpr.And a => MetricKeys(a.Left).Concat(MetricKeys(a.Right)),
        FilterExpr.Or o => MetricKeys(o.Left).Concat(MetricKeys(o.Right)),
        FilterExpr.Not n => MetricKeys(n.Inner),
        _ => [],
    };

    /// <summary>The version's metric (its run's latest value) is worse than the alias's version's by more than the tolerance.</summary>
    private static async Task<List<Outcome>> RegressionAsync(DbSession s, AlertAccess.RuleRow rule, List<string> subjects)
    {
        var c = rule.Condition;
        const string metricOf = "(SELECT lm.value FROM latest_metrics lm WHERE lm.run_id = mv.run_id AND lm.key_id = (SELECT id FROM metric_keys WHERE name = @metric))";
        var versions = subjects.Select(x => long.Parse(x[(x.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture)).ToList();
        var champion = await s.Connection.QueryFirstOrDefaultAsync<VersionValue>($"""
            SELECT mv.version, {metricOf} AS value FROM registered_models m JOIN model_aliases a ON a.model_id = m.id
            JOIN model_versions mv ON mv.model_id = m.id AND mv.version = a.version
            WHERE m.project_id = @project AND m.name = @model AND a.alias = @alias
            """, new { project = rule.ProjectId, model = c.Model, alias = c.Alias, metric = c.Metric }, s.Transaction);
        var candidates = (await s.Connection.QueryAsync<VersionValue>($"""
            SELECT mv.version, {metricOf} AS value FROM registered_models m JOIN model_versions mv ON mv.model_id = m.id
            WHERE m.project_id = @project AND m.name = @model AND {s.Dialect.InSet("mv.version", "versions")}
            """, new { project = rule.ProjectId, model = c.Model, metric = c.Metric, versions = s.Dialect.Set(versions) }, s.Transaction))
            .ToDictionary(v => v.Version, v => v.Value);
        var higher = c.Direction != "lower";
        var tolerance = c.Tolerance ?? 0;
        return versions.Select(v =>
        {
            var value = candidates.GetValueOrDefault(v);
            var holds = champion is { Value: { } champ } && champion.Version != v && value is { } cand
                        && (higher ? cand < champ - tolerance : cand > champ + tolerance);
            var delta = value is { } x && champion?.Value is { } y ? x - y : (double?)null;
            return new Outcome(VersionSubject(c.Model!, v), holds, delta, new Dictionary<string, object?>
            {
                ["message"] = holds
                    ? $"{c.Model} v{v}: {c.Metric} {Fmt(value)} is worse than {c.Alias} (v{champion!.Version}, {Fmt(champion.Value)}) by more than {Fmt(tolerance)}"
                    : $"{c.Model} v{v}: {c.Metric} is not worse than {c.Alias} beyond the tolerance",
                ["model"] = c.Model, ["version"] = v, ["metric"] = c.Metric, ["value"] = value, ["alias"] = c.Alias,
                ["aliasVersion"] = champion?.Version, ["aliasValue"] = champion?.Value, ["direction"] = higher ? "higher" : "lower", ["tolerance"] = tolerance,
            });
        }).ToList();
    }

    /// <summary>
    /// The dataset version's profile drifted from the profile of the version the baseline model version was trained on (the
    /// newest version of the same dataset among its run's inputs): any compared column's statistic above the threshold.
    /// </summary>
    private static async Task<List<Outcome>> DriftAsync(DbSession s, AlertAccess.RuleRow rule, List<string> subjects)
    {
        var c = rule.Condition;
        var baseline = await s.Connection.QueryFirstOrDefaultAsync<BaselineRow>(c.Alias is not null
            ? """
              SELECT mv.id, mv.version FROM registered_models m JOIN model_aliases a ON a.model_id = m.id
              JOIN model_versions mv ON mv.model_id = m.id AND mv.version = a.version
              WHERE m.project_id = @project AND m.name = @model AND a.alias = @alias
              """
            : """
              SELECT mv.id, mv.version FROM deployments d JOIN environments en ON en.id = d.environment_id
              JOIN registered_models m ON m.id = d.model_id JOIN model_versions mv ON mv.id = d.version_id
              WHERE en.project_id = @project AND en.name = @environment AND m.name = @model AND d.status <> 'retired'
              """, new { project = rule.ProjectId, model = c.Model, alias = c.Alias, environment = c.Environment }, s.Transaction);
        Profiled? trained = null;
        if (baseline is not null)
            trained = await s.Connection.QueryFirstOrDefaultAsync<Profiled>("""
                SELECT v.version, f.profile FROM model_versions mv JOIN executions x ON x.run_id = mv.run_id
                JOIN lineage_events le ON le.execution_id = x.id AND le.kind = 'input'
                JOIN artifact_versions v ON v.id = le.artifact_id AND v.type = 'dataset' JOIN artifact_names n ON n.id = v.name_id
                JOIN dataset_facts f ON f.artifact_id = v.id
                WHERE mv.id = @versionId AND n.name = @dataset
                ORDER BY v.version DESC LIMIT 1
                """, new { versionId = baseline.Id, dataset = c.Dataset }, s.Transaction);
        var versions = subjects.Select(x => long.Parse(x[(x.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture)).ToList();
        var current = (await s.Connection.QueryAsync<Profiled>($"""
            SELECT v.version, f.profile FROM artifact_names n JOIN artifact_versions v ON v.name_id = n.id JOIN dataset_facts f ON f.artifact_id = v.id
            WHERE n.project_id = @project AND n.name = @dataset AND v.type = 'dataset' AND {s.Dialect.InSet("v.version", "versions")}
            """, new { project = rule.ProjectId, dataset = c.Dataset, versions = s.Dialect.Set(versions) }, s.Transaction)).ToDictionary(p => p.Version);
        var basis = trained is null ? null : DatasetAccess.ParseProfile(trained.Profile);
        var threshold = c.Threshold!.Value;
        var method = c.Method ?? "psi";
        return versions.Select(v =>
        {
            var columns = new Dictionary<string, double>(StringComparer.Ordinal);
            var skipped = new List<string>();
            if (basis is not null && current.TryGetValue(v, out var now) && v != trained!.Version)
            {
                var profile = DatasetAccess.ParseProfile(now.Profile);
                foreach (var column in c.Columns ?? basis.Keys.Intersect(profile.Keys).Order(StringComparer.Ordinal).ToList())
                    if (basis.TryGetValue(column, out var b) && profile.TryGetValue(column, out var p) && Drift.Statistic(method, b, p) is { } stat)
                        columns[column] = Math.Round(stat, 6);
                    else skipped.Add(column);
            }
            var drifted = columns.Where(x => x.Value > threshold).Select(x => x.Key).ToList();
            var worst = columns.Count == 0 ? (double?)null : columns.Values.Max();
            return new Outcome(DatasetSubject(c.Dataset!, v), drifted.Count > 0, worst, new Dictionary<string, object?>
            {
                ["message"] = drifted.Count > 0
                    ? $"{c.Dataset} v{v} drifted from v{trained!.Version} (training data of {c.Model} v{baseline!.Version}): {method} of {string.Join(", ", drifted.Select(d => $"{d} {Fmt(columns[d])}"))} above {Fmt(threshold)}"
                    : trained is null ? $"no baseline: {c.Model} has no version behind {(c.Alias is null ? $"a live deployment in {c.Environment}" : $"alias {c.Alias}")} whose run read a profiled version of {c.Dataset}"
                    : $"{c.Dataset} v{v}: no column's {method} above {Fmt(threshold)}",
                ["dataset"] = c.Dataset, ["version"] = v, ["baselineVersion"] = trained?.Version, ["model"] = c.Model, ["modelVersion"] = baseline?.Version,
                ["method"] = method, ["threshold"] = threshold, ["columns"] = columns, ["drifted"] = drifted, ["skipped"] = skipped.Count == 0 ? null : skipped,
            });
        }).ToList();
    }

    private static async Task<List<Outcome>> PendingAsync(DbSession s, AlertAccess.RuleRow rule, List<string> subjects, long now)
    {
        var c = rule.Condition;
        var ids = subjects.Select(x => long.Parse(x["promotion:".Length..], CultureInfo.InvariantCulture)).ToList();
        var rows = (await s.Connection.QueryAsync<PromotionRow>($"""
            SELECT q.id, m.name AS model, q.version, q.target, q.status, q.requested_at, q.requested_by FROM promotion_requests q
            JOIN registered_models m ON m.id = q.model_id WHERE {s.Dialect.InSet("q.id", "ids")} AND m.project_id = @project
            """, new { ids = s.Dialect.Set(ids), project = rule.ProjectId }, s.Transaction)).ToDictionary(r => r.Id);
        return ids.Select(id =>
        {
            var r = rows.GetValueOrDefault(id);
            var hours = r is null ? 0 : (now - r.RequestedAt) / 3_600_000.0;
            var holds = r is not null && r.Status == "PENDING" && hours >= c.Hours!.Value && (c.Model is null || r.Model == c.Model);
            return new Outcome($"promotion:{id}", holds, Math.Round(hours, 3), new Dictionary<string, object?>
            {
                ["message"] = holds ? $"promotion {id} of {r!.Model} v{r.Version} to {r.Target} has waited {Fmt(Math.Round(hours, 1))} h for a decision"
                    : $"promotion {id} is no longer waiting beyond {Fmt(c.Hours!.Value)} h",
                ["promotionId"] = id, ["model"] = r?.Model, ["version"] = r?.Version, ["target"] = r?.Target, ["status"] = r?.Status,
                ["requestedAt"] = r?.RequestedAt, ["requestedBy"] = r?.RequestedBy, ["hours"] = c.Hours,
            });
        }).ToList();
    }

    private static async Task<List<Outcome>> FailedAsync(DbSession s, AlertAccess.RuleRow rule, List<string> subjects)
    {
        var c = rule.Condition;
        var ids = subjects.Select(x => long.Parse(x["deployment:".Length..], CultureInfo.InvariantCulture)).ToList();
        var rows = (await s.Connection.QueryAsync<DeploymentRow>($"""
            SELECT d.id, en.name AS environment, m.name AS model, mv.version, d.status FROM deployments d JOIN environments en ON en.id = d.environment_id
            JOIN registered_models m ON m.id = d.model_id JOIN model_versions mv ON mv.id = d.version_id
            WHERE {s.Dialect.InSet("d.id", "ids")} AND en.project_id = @project
            """, new { ids = s.Dialect.Set(ids), project = rule.ProjectId }, s.Transaction)).ToDictionary(r => r.Id);
        return ids.Select(id =>
        {
            var r = rows.GetValueOrDefault(id);
            var holds = r is not null && r.Status == "failed" && (c.Environment is null || r.Environment == c.Environment) && (c.Model is null || r.Model == c.Model);
            return new Outcome($"deployment:{id}", holds, null, new Dictionary<string, object?>
            {
                ["message"] = holds ? $"deployment {id} of {r!.Model} v{r.Version} in {r.Environment} failed" : $"deployment {id} is {r?.Status ?? "gone"}",
                ["deploymentId"] = id, ["environment"] = r?.Environment, ["model"] = r?.Model, ["version"] = r?.Version, ["status"] = r?.Status,
            });
        }).ToList();
    }

    /// <summary>RUNNING and the newest timestamp among its latest metric values (else its start) older than the rule's minutes.</summary>
    private static async Task<List<Outcome>> StaleAsync(DbSession s, AlertAccess.RuleRow rule, List<string> subjects, long now)
    {
        var c = rule.Condition;
        var uuids = subjects.Select(x => x["run:".Length..]).ToList();
        var rows = (await s.Connection.QueryAsync<RunActivity>($"""
            SELECT r.uuid, r.name, r.status, r.lifecycle, r.start_time,
                   (SELECT MAX(lm.timestamp) FROM latest_metrics lm WHERE lm.run_id = r.id) AS last_data
            FROM runs r JOIN experiments e ON e.id = r.experiment_id
            WHERE {s.Dialect.InSet("r.uuid", "uuids")} AND e.project_id = @project
            """, new { uuids = s.Dialect.Set(uuids), project = rule.ProjectId }, s.Transaction)).ToDictionary(r => r.Uuid);
        return uuids.Select(uuid =>
        {
            var r = rows.GetValueOrDefault(uuid);
            var last = r is null ? now : Math.Max(r.LastData ?? r.StartTime, r.StartTime);
            var minutes = (now - last) / 60_000.0;
            var holds = r is { Status: "RUNNING", Lifecycle: "active" } && minutes >= c.Minutes!.Value;
            return new Outcome($"run:{uuid}", holds, Math.Round(minutes, 3), new Dictionary<string, object?>
            {
                ["message"] = holds ? $"run {r!.Name ?? uuid} is RUNNING with no data for {Fmt(Math.Round(minutes, 1))} min"
                    : $"run {uuid} is {(r is null ? "gone" : r.Status == "RUNNING" ? "logging again" : r.Status)}",
                ["runId"] = uuid, ["name"] = r?.Name, ["status"] = r?.Status, ["lastDataAt"] = r is null ? null : last, ["minutes"] = c.Minutes,
            });
        }).ToList();
    }

    private static string VersionSubject(string model, long version) => $"model_version:{model}/{version}";

    private static string DatasetSubject(string dataset, long version) => $"dataset:{dataset}/{version}";

    private static string? Text(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var t) ? t : null;

    /// <summary>A number, or a number spelled as text (model versions are strings in their events, as MLflow spells them).</summary>
    private static long? Number(JsonObject o, string key) =>
        o[key] is not JsonValue v ? null
        : v.TryGetValue<long>(out var n) ? n
        : v.TryGetValue<string>(out var t) && long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out n) ? n : null;

    private static string Fmt(double? d) => d?.ToString("0.####", CultureInfo.InvariantCulture) ?? "none";

    private sealed class EventRow
    {
        public long Seq { get; set; }
        public string Type { get; set; } = "";
        public long ProjectId { get; set; }
        public string Entity { get; set; } = "";
        public string Payload { get; set; } = "{}";
    }

    private sealed class VersionValue
    {
        public long Version { get; set; }
        public double? Value { get; set; }
    }

    private sealed class BaselineRow
    {
        public long Id { get; set; }
        public long Version { get; set; }
    }

    private sealed class Profiled
    {
        public long Version { get; set; }
        public string Profile { get; set; } = "{}";
    }

    private sealed class PromotionRow
    {
        public long Id { get; set; }
        public string Model { get; set; } = "";
        public long Version { get; set; }
        public string Target { get; set; } = "";
        public string Status { get; set; } = "";
        public long RequestedAt { get; set; }
        public string? RequestedBy { get; set; }
    }

    private sealed class DeploymentRow
    {
        public long Id { get; set; }
        public string Environment { get; set; } = "";
        public string Model { get; set; } = "";
        public long Version { get; set; }
        public string Status { get; set; } = "";
    }

    private sealed class RunActivity
    {
        public string Uuid { get; set; } = "";
        public string? Name { get; set; }
        public string Status { get; set; } = "";
        public string Lifecycle { get; set; } = "";
        public long StartTime { get; set; }
        public long? LastData { get; set; }
    }
}
