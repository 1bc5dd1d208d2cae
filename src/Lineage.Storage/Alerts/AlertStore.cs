using Dapper;
using Lineage.Core.Alerts;
using Lineage.Core.Errors;
using Lineage.Core.Query;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;
using Lineage.Storage.Query;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Alerts;

/// <summary>
/// Alert rules and their alerts (issue 14, part 5): rule CRUD and mute, the firing history, acknowledge and resolve. The
/// evaluation itself is <see cref="AlertEvaluator"/>'s. Each public method is one transaction; reads are project-scoped like
/// every entity. Thread-safe.
/// <para>Errors: unknown or hidden rule/alert → RESOURCE_DOES_NOT_EXIST; rule name taken in the project →
/// RESOURCE_ALREADY_EXISTS; bad kind, condition (a query the parser refuses, with its message), severity, mute time →
/// INVALID_PARAMETER_VALUE; acknowledging or resolving a resolved alert → CONFLICT.</para>
/// </summary>
public sealed class AlertStore(Database db)
{
    public Database Database => db;

    /// <summary>A rule was created in this process: wakes an evaluator that had no rules to evaluate.</summary>
    public static Events.EventSignal RuleCreated { get; } = new();

    public Task<AlertRule> CreateRuleAsync(AlertRuleSpec spec)
    {
        var project = spec.Project ?? OperationContext.DefaultProject;
        Validate.Name(spec.Name, "name");
        var kind = AlertRuleSpecs.Kind(spec.Kind);
        var condition = AlertRuleSpecs.Check(kind, spec.Condition);
        var severity = AlertRuleSpecs.Severity(spec.Severity);
        Validate.Text(spec.Description, "description", Limits.MaxDescriptionLength, required: false);
        return db.WriteAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project);
            CheckCompiles(s, condition);
            // The first rule: the evaluator saved no position while there were none; it starts from here.
            await s.Connection.ExecuteAsync("""
                UPDATE alert_cursor SET seq = (SELECT COALESCE(MAX(seq), 0) FROM events) WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM alert_rules)
                """, transaction: s.Transaction);
            var now = Clock.NowMs();
            var id = await s.Connection.QueryFirstOrDefaultAsync<long?>("""
                INSERT INTO alert_rules (project_id, name, kind, spec, severity, description, created_at, created_by, updated_at, updated_by)
                VALUES (@projectId, @name, @kind, @spec, @severity, @description, @now, @by, @now, @by)
                ON CONFLICT (project_id, name) DO NOTHING RETURNING id
                """, new { projectId = p.Id, name = spec.Name, kind, spec = AlertAccess.ConditionJson(condition), severity, description = spec.Description, now, by = s.Actor },
                s.Transaction) ?? throw LineageException.AlreadyExists($"alert rule '{spec.Name}' already exists in project '{project}'");
            s.OnCommitted(RuleCreated.Notify);
            return (await AlertAccess.RequireRuleAsync(s, id)).ToModel();
        }, keyed: true);
    }

    public Task<AlertRule> GetRuleAsync(long id) => db.ReadAsync(async s => (await AlertAccess.RequireRuleAsync(s, id)).ToModel());

    /// <summary>The rules of one project (or of every visible project), by id.</summary>
    public Task<IReadOnlyList<AlertRule>> ListRulesAsync(string? project) =>
        db.ReadAsync<IReadOnlyList<AlertRule>>(async s =>
        {
            long? projectId = project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, project)).Id;
            var rows = await s.Connection.QueryAsync<AlertAccess.RuleRow>(
                $"{AlertAccess.SelectRule} WHERE 1 = 1{(projectId is null ? "" : " AND r.project_id = @projectId")}{s.Visible("r.project_id")} ORDER BY r.id",
                new { projectId }, s.Transaction);
            return rows.Select(r => r.ToModel()).ToList();
        });

    /// <summary>Changes the condition (checked against the rule's kind), severity or description. The states already recorded stay.</summary>
    public Task<AlertRule> UpdateRuleAsync(long id, AlertRuleChange change)
    {
        var severity = change.Severity is null ? null : AlertRuleSpecs.Severity(change.Severity);
        Validate.Text(change.Description, "description", Limits.MaxDescriptionLength, required: false);
        return db.WriteAsync(async s =>
        {
            var rule = await AlertAccess.RequireRuleAsync(s, id);
            string? spec = null;
            if (change.Condition is not null)
            {
                var condition = AlertRuleSpecs.Check(rule.Kind, change.Condition);
                CheckCompiles(s, condition);
                spec = AlertAccess.ConditionJson(condition);
            }
            await s.Connection.ExecuteAsync("""
                UPDATE alert_rules SET spec = COALESCE(@spec, spec), severity = COALESCE(@severity, severity), description = COALESCE(@description, description),
                    updated_at = @now, updated_by = @by
                WHERE id = @id
                """, new { id, spec, severity, description = change.Description, now = Clock.NowMs(), by = s.Actor }, s.Transaction);
            return (await AlertAccess.RequireRuleAsync(s, id)).ToModel();
        }, keyed: true);
    }

    /// <summary>Deletes the rule, its states and its alert history.</summary>
    public Task<bool> DeleteRuleAsync(long id) =>
        db.WriteAsync(async s =>
        {
            await AlertAccess.RequireRuleAsync(s, id);
            await s.Connection.ExecuteAsync("DELETE FROM alert_states WHERE rule_id = @id", new { id }, s.Transaction);
            await s.Connection.ExecuteAsync("DELETE FROM alerts WHERE rule_id = @id", new { id }, s.Transaction);
            await s.Connection.ExecuteAsync("DELETE FROM alert_rules WHERE id = @id", new { id }, s.Transaction);
            return true;
        }, keyed: true);

    /// <summary>
    /// Mutes the rule until <paramref name="until"/> (ms, in the future), or unmutes it (null). While muted, condition
    /// changes are remembered but fire nothing, so a condition that turned true while muted does not fire when the mute ends.
    /// </summary>
    public Task<AlertRule> MuteAsync(long id, long? until)
    {
        if (until is { } u && u <= Clock.NowMs())
            throw LineageException.Invalid("until", "'until' must be in the future (to unmute, remove the mute)");
        return db.WriteAsync(async s =>
        {
            await AlertAccess.RequireRuleAsync(s, id);
            await s.Connection.ExecuteAsync("UPDATE alert_rules SET muted_until = @until, updated_at = @now, updated_by = @by WHERE id = @id",
                new { id, until, now = Clock.NowMs(), by = s.Actor }, s.Transaction);
            return (await AlertAccess.RequireRuleAsync(s, id)).ToModel();
        }, keyed: true);
    }

    /// <summary>Alerts newest first: optionally one project, one state (firing, resolved) and one rule; <see cref="AlertQuery.Before"/> pages.</summary>
    public Task<IReadOnlyList<Alert>> ListAlertsAsync(AlertQuery q)
    {
        if (q.State is not (null or AlertStates.Firing or AlertStates.Resolved))
            throw LineageException.Invalid("state", $"'state' must be firing or resolved, got '{Validate.Shorten(q.State)}'");
        Validate.PageSize(q.Limit);
        return db.ReadAsync<IReadOnlyList<Alert>>(async s =>
        {
            long? projectId = q.Project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, q.Project)).Id;
            if (q.RuleId is { } ruleId) await AlertAccess.RequireRuleAsync(s, ruleId);
            var rows = await s.Connection.QueryAsync<AlertAccess.AlertRow>($"""
                {AlertAccess.SelectAlert}
                WHERE 1 = 1{(projectId is null ? "" : " AND r.project_id = @projectId")}{(q.State is null ? "" : " AND a.state = @State")}{(q.RuleId is null ? "" : " AND a.rule_id = @RuleId")}{(q.Before is null ? "" : " AND a.id < @Before")}{s.Visible("r.project_id")}
                ORDER BY a.id DESC LIMIT @Limit
                """, new { projectId, q.State, q.RuleId, q.Before, q.Limit }, s.Transaction);
            return rows.Select(r => r.ToModel()).ToList();
        });
    }

    public Task<Alert> GetAlertAsync(long id) => db.ReadAsync(s => AlertAccess.RequireAlertAsync(s, id));

    /// <summary>Someone is on it: the alert keeps firing until its condition clears or it is resolved. Acknowledging twice changes nothing.</summary>
    public Task<Alert> AcknowledgeAsync(long id) =>
        db.WriteAsync(async s =>
        {
            var alert = await AlertAccess.RequireAlertAsync(s, id);
            if (alert.State != AlertStates.Firing) throw LineageException.Conflict($"alert {id} is already resolved");
            await s.Connection.ExecuteAsync("UPDATE alerts SET acknowledged_at = @now, acknowledged_by = @by WHERE id = @id AND acknowledged_at IS NULL",
                new { id, now = Clock.NowMs(), by = s.Actor }, s.Transaction);
            return await AlertAccess.RequireAlertAsync(s, id);
        }, keyed: true);

    /// <summary>
    /// Resolves a firing alert by hand (an <c>alert.resolved</c> event names who). Its condition is still remembered as true,
    /// so the rule fires again for that subject only after the condition clears and returns.
    /// </summary>
    public Task<Alert> ResolveAsync(long id) =>
        db.WriteAsync(async s =>
        {
            var alert = await AlertAccess.RequireAlertAsync(s, id);
            var rule = await AlertAccess.RequireRuleAsync(s, alert.RuleId);
            if (!await AlertAccess.ResolveAsync(s, rule, id, alert.Subject, s.Actor ?? "anonymous", Clock.NowMs(), null))
                throw LineageException.Conflict($"alert {id} is already resolved");
            return await AlertAccess.RequireAlertAsync(s, id);
        }, keyed: true);

    /// <summary>A metric rule's query must compile for runs here too: sensitive fields (stored encrypted) can only be tested for presence.</summary>
    private static void CheckCompiles(DbSession s, AlertCondition c)
    {
        if (c.Query is null) return;
        try
        {
            new FilterSql(SearchTarget.Runs, s.Dialect, s.Fields.Patterns).Where(QueryParser.ParseFilter(SearchTarget.Runs, c.Query));
        }
        catch (LineageException e) when (e.Code == ErrorCode.InvalidParameterValue)
        {
            throw LineageException.Invalid("condition.query", e.Message);
        }
    }
}
