using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Lineage.Core.Alerts;
using Lineage.Core.Errors;
using Lineage.Core.Events;
using Lineage.Storage.Engine;
using Lineage.Storage.Events;

namespace Lineage.Storage.Alerts;

/// <summary>What evaluating a rule for one subject found: whether the condition holds, its value and the facts behind it.</summary>
internal sealed record Outcome(string Subject, bool Holds, double? Value, Dictionary<string, object?> Details);

/// <summary>
/// Data access of alert rules, alert states and alerts (issue 14, part 5), shared by <see cref="AlertStore"/> and
/// <see cref="AlertEvaluator"/>. <see cref="ApplyAsync"/> is the one place a condition change becomes an alert and an event,
/// so "fires once per change" holds whoever evaluates. Never commits.
/// </summary>
internal static class AlertAccess
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public const string SelectRule = """
        SELECT r.id, r.project_id, p.name AS project, r.name, r.kind, r.spec, r.severity, r.description, r.muted_until, r.created_at, r.created_by,
               r.updated_at, r.updated_by
        FROM alert_rules r JOIN projects p ON p.id = r.project_id
        """;

    public const string SelectAlert = """
        SELECT a.id, a.rule_id, r.name AS rule_name, p.name AS project, r.kind, r.severity, a.subject, a.state, a.value, a.details, a.fired_at,
               a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by
        FROM alerts a JOIN alert_rules r ON r.id = a.rule_id JOIN projects p ON p.id = r.project_id
        """;

    public static string ConditionJson(AlertCondition c) => JsonSerializer.Serialize(c, Json);

    public static async Task<RuleRow?> FindRuleAsync(DbSession s, long id) =>
        await s.Connection.QueryFirstOrDefaultAsync<RuleRow>($"{SelectRule} WHERE r.id = @id{s.Visible("r.project_id")}", new { id }, s.Transaction);

    public static async Task<RuleRow> RequireRuleAsync(DbSession s, long id) =>
        await FindRuleAsync(s, id) ?? throw LineageException.NotFound($"alert rule {id} does not exist");

    public static async Task<Alert> RequireAlertAsync(DbSession s, long id) =>
        (await s.Connection.QueryFirstOrDefaultAsync<AlertRow>($"{SelectAlert} WHERE a.id = @id{s.Visible("r.project_id")}", new { id }, s.Transaction))
        ?.ToModel() ?? throw LineageException.NotFound($"alert {id} does not exist");

    /// <summary>
    /// Records what an evaluation found for (rule, subject) and acts only on a change: false → true fires an alert and an
    /// <c>alert.fired</c> event (nothing while the rule is muted: the change is only remembered), true → false resolves the
    /// alert of that firing if nobody resolved it yet, with an <c>alert.resolved</c> event. Returns true when it fired or resolved.
    /// Conditional writes guard each change; a concurrent evaluator (another server) makes the transaction rerun.
    /// </summary>
    public static async Task<bool> ApplyAsync(DbSession s, RuleRow rule, Outcome o, long now)
    {
        var state = await s.Connection.QueryFirstOrDefaultAsync<StateRow>(
            "SELECT active, alert_id FROM alert_states WHERE rule_id = @rule AND subject = @subject", new { rule = rule.Id, subject = o.Subject }, s.Transaction);
        var active = state is { Active: not 0 };
        if (o.Holds == active) return false;
        if (o.Holds)
        {
            var muted = rule.MutedUntil is { } until && until > now;
            long? alertId = null;
            var details = JsonSerializer.Serialize(o.Details, Json);
            if (!muted)
                alertId = await s.Connection.QuerySingleAsync<long>("""
                    INSERT INTO alerts (rule_id, subject, state, value, details, fired_at) VALUES (@rule, @subject, 'firing', @value, @details, @now) RETURNING id
                    """, new { rule = rule.Id, subject = o.Subject, value = Finite(o.Value), details, now }, s.Transaction);
            var changed = state is null
                ? await s.Connection.ExecuteAsync("""
                    INSERT INTO alert_states (rule_id, subject, active, alert_id, changed_at) VALUES (@rule, @subject, 1, @alertId, @now)
                    ON CONFLICT (rule_id, subject) DO NOTHING
                    """, new { rule = rule.Id, subject = o.Subject, alertId, now }, s.Transaction)
                : await s.Connection.ExecuteAsync("""
                    UPDATE alert_states SET active = 1, alert_id = @alertId, changed_at = @now WHERE rule_id = @rule AND subject = @subject AND active = 0
                    """, new { rule = rule.Id, subject = o.Subject, alertId, now }, s.Transaction);
            if (changed == 0) throw new RetryTransactionException($"alert state of rule {rule.Id} for {o.Subject} changed concurrently");
            if (alertId is { } id)
                await EventOutbox.AppendAsync(s, EventTypes.AlertFired, rule.ProjectId, $"alert:{id}", new
                {
                    alertId = id, ruleId = rule.Id, rule = rule.Name, kind = rule.Kind, severity = rule.Severity, subject = o.Subject, value = Finite(o.Value),
                    message = o.Details.GetValueOrDefault("message"), details = o.Details,
                });
            return alertId is not null;
        }
        if (await s.Connection.ExecuteAsync("UPDATE alert_states SET active = 0, changed_at = @now WHERE rule_id = @rule AND subject = @subject AND active = 1",
                new { rule = rule.Id, subject = o.Subject, now }, s.Transaction) == 0)
            throw new RetryTransactionException($"alert state of rule {rule.Id} for {o.Subject} changed concurrently");
        if (state?.AlertId is not { } open) return false;
        return await ResolveAsync(s, rule, open, o.Subject, by: null, now, o.Details.GetValueOrDefault("message") as string);
    }

    /// <summary>Resolves a firing alert (by hand: <paramref name="by"/>; its condition cleared: null) with an <c>alert.resolved</c> event; false when it was not firing.</summary>
    public static async Task<bool> ResolveAsync(DbSession s, RuleRow rule, long alertId, string subject, string? by, long now, string? message)
    {
        if (await s.Connection.ExecuteAsync("""
                UPDATE alerts SET state = 'resolved', resolved_at = @now, resolved_by = @by WHERE id = @alertId AND state = 'firing'
                """, new { alertId, now, by }, s.Transaction) == 0)
            return false;
        await EventOutbox.AppendAsync(s, EventTypes.AlertResolved, rule.ProjectId, $"alert:{alertId}", new
        {
            alertId, ruleId = rule.Id, rule = rule.Name, kind = rule.Kind, severity = rule.Severity, subject,
            reason = by is null ? "cleared" : "resolved by hand", resolvedBy = by, message,
        });
        return true;
    }

    /// <summary>JSON and both databases take no NaN or infinity in a value column.</summary>
    private static double? Finite(double? v) => v is { } d && double.IsFinite(d) ? d : null;

    private sealed class StateRow
    {
        public long Active { get; set; }
        public long? AlertId { get; set; }
    }

    internal sealed class RuleRow
    {
        public long Id { get; set; }
        public long ProjectId { get; set; }
        public string Project { get; set; } = "";
        public string Name { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Spec { get; set; } = "{}";
        public string Severity { get; set; } = "";
        public string? Description { get; set; }
        public long? MutedUntil { get; set; }
        public long CreatedAt { get; set; }
        public string? CreatedBy { get; set; }
        public long UpdatedAt { get; set; }
        public string? UpdatedBy { get; set; }

        private AlertCondition? _condition;

        public AlertCondition Condition => _condition ??= JsonSerializer.Deserialize<AlertCondition>(Spec, Json) ?? new AlertCondition();

        public AlertRule ToModel() => new(Id, Project, Name, Kind, Condition, Severity, Description, MutedUntil, CreatedAt, CreatedBy, UpdatedAt, UpdatedBy);
    }

    internal sealed class AlertRow
    {
        public long Id { get; set; }
        public long RuleId { get; set; }
        public string RuleName { get; set; } = "";
        public string Project { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Severity { get; set; } = "";
        public string Subject { get; set; } = "";
        public string State { get; set; } = "";
        public double? Value { get; set; }
        public string Details { get; set; } = "{}";
        public long FiredAt { get; set; }
        public long? AcknowledgedAt { get; set; }
        public string? AcknowledgedBy { get; set; }
        public long? ResolvedAt { get; set; }
        public string? ResolvedBy { get; set; }

        public Alert ToModel() => new(Id, RuleId, RuleName, Project, Kind, Severity, Subject, State, Value, Details, FiredAt, AcknowledgedAt, AcknowledgedBy,
            ResolvedAt, ResolvedBy);
    }
}
