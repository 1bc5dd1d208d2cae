using System.Globalization;
using Lineage.Core.Errors;
using Lineage.Core.Query;
using Lineage.Core.Tracking;

namespace Lineage.Core.Alerts;

/// <summary>The kinds of alert rule (issue 14, part 5) and what each watches.</summary>
public static class AlertKinds
{
    /// <summary>A run matches a query-language filter (<c>metrics.val_loss &gt; 0.5 AND tags.team = 'growth'</c>); evaluated as data arrives.</summary>
    public const string MetricThreshold = "metric_threshold";
    /// <summary>A model version is worse than the version behind an alias on a metric, beyond a tolerance.</summary>
    public const string ModelRegression = "model_regression";
    /// <summary>A dataset version's profile drifted from the one the live model was trained on (PSI or KS per column).</summary>
    public const string DataDrift = "data_drift";
    /// <summary>A promotion request waits for a decision longer than N hours (periodic).</summary>
    public const string PromotionPending = "promotion_pending";
    /// <summary>A deployment is in status <c>failed</c>.</summary>
    public const string DeploymentFailed = "deployment_failed";
    /// <summary>A run is RUNNING with no metric data for N minutes (periodic).</summary>
    public const string RunStale = "run_stale";

    public static IReadOnlyList<string> All { get; } = [MetricThreshold, ModelRegression, DataDrift, PromotionPending, DeploymentFailed, RunStale];
}

/// <summary>Alert states: the condition holds and nobody resolved it, or it is over.</summary>
public static class AlertStates
{
    public const string Firing = "firing";
    public const string Resolved = "resolved";
}

/// <summary>
/// What a rule watches; which members apply depends on the kind (<see cref="AlertRuleSpecs.Check"/> says which are
/// required and refuses the others). Drift baselines: <see cref="Model"/> with <see cref="Alias"/> (the version behind the
/// alias) or with <see cref="Environment"/> (the version live in that environment).
/// </summary>
public sealed record AlertCondition(
    string? Query = null,
    string? Model = null,
    string? Alias = null,
    string? Environment = null,
    string? Metric = null,
    string? Direction = null,
    double? Tolerance = null,
    string? Dataset = null,
    string? Method = null,
    double? Threshold = null,
    IReadOnlyList<string>? Columns = null,
    double? Hours = null,
    double? Minutes = null);

/// <summary>A rule as stored. <see cref="MutedUntil"/> in ms: until then condition changes fire nothing.</summary>
public sealed record AlertRule(long Id, string Project, string Name, string Kind, AlertCondition Condition, string Severity, string? Description,
    long? MutedUntil, long CreatedAt, string? CreatedBy, long UpdatedAt, string? UpdatedBy);

public sealed record AlertRuleSpec(string? Project, string Name, string? Kind, AlertCondition Condition, string? Severity, string? Description);

/// <summary>A change; null members stay as they are (the condition is replaced whole, and checked against the kind).</summary>
public sealed record AlertRuleChange(AlertCondition? Condition, string? Severity, string? Description);

/// <summary>One firing of a rule for one subject, and what became of it.</summary>
public sealed record Alert(long Id, long RuleId, string RuleName, string Project, string Kind, string Severity, string Subject, string State,
    double? Value, string Details, long FiredAt, long? AcknowledgedAt, string? AcknowledgedBy, long? ResolvedAt, string? ResolvedBy);

public sealed record AlertQuery(string? Project, string? State, long? RuleId, int Limit, long? Before);

/// <summary>
/// The input rules of alert rules, kept in Core so the server and the store agree. Errors are INVALID_PARAMETER_VALUE
/// naming the field (<c>kind</c>, <c>condition.query</c> with the query parser's message and position,
/// <c>condition.threshold</c> …). Thread-safe (stateless).
/// </summary>
public static class AlertRuleSpecs
{
    public static readonly IReadOnlyList<string> Severities = ["info", "warning", "critical"];
    public static readonly IReadOnlyList<string> Directions = ["higher", "lower"];
    public static readonly IReadOnlyList<string> Methods = ["psi", "ks"];
    public const int MaxColumns = 200;

    public static string Kind(string? kind)
    {
        if (string.IsNullOrEmpty(kind)) throw LineageException.Invalid("kind", $"'kind' is required: one of {string.Join(", ", AlertKinds.All)}");
        if (!AlertKinds.All.Contains(kind))
            throw LineageException.Invalid("kind", $"unknown alert rule kind '{Validate.Shorten(kind)}'; use one of {string.Join(", ", AlertKinds.All)}");
        return kind;
    }

    public static string Severity(string? severity) =>
        severity is null ? "warning"
        : Severities.Contains(severity) ? severity
        : throw LineageException.Invalid("severity", $"'severity' must be info, warning or critical, got '{Validate.Shorten(severity)}'");

    /// <summary>Checks a condition against its kind: required members present, values in range, no member of another kind.</summary>
    public static AlertCondition Check(string kind, AlertCondition? c)
    {
        c ??= new AlertCondition();
        var (required, allowed) = kind switch
        {
            AlertKinds.MetricThreshold => (new[] { "query" }, new[] { "query" }),
            AlertKinds.ModelRegression => (["model", "alias", "metric"], ["model", "alias", "metric", "direction", "tolerance"]),
            AlertKinds.DataDrift => (["dataset", "model", "threshold"], ["dataset", "model", "alias", "environment", "method", "threshold", "columns"]),
            AlertKinds.PromotionPending => (["hours"], ["hours", "model"]),
            AlertKinds.DeploymentFailed => ([], ["environment", "model"]),
            AlertKinds.RunStale => (["minutes"], new[] { "minutes" }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        foreach (var (name, present) in Members(c))
        {
            if (present && !allowed.Contains(name))
                throw LineageException.Invalid($"condition.{name}", $"'condition.{name}' does not apply to a {kind} rule; it takes {string.Join(", ", allowed)}");
            if (!present && required.Contains(name))
                throw LineageException.Invalid($"condition.{name}", $"a {kind} rule needs 'condition.{name}'");
        }
        if (c.Query is not null)
        {
            Validate.Text(c.Query, "condition.query", 4000);
            // The parser's own message (with the position) is the answer to a bad query.
            try { QueryParser.ParseFilter(SearchTarget.Runs, c.Query); }
            catch (LineageException e) { throw LineageException.Invalid("condition.query", e.Message); }
        }
        foreach (var (value, field) in new[] { (c.Model, "model"), (c.Alias, "alias"), (c.Environment, "environment"), (c.Dataset, "dataset") })
            if (value is not null) Validate.Key(value, $"condition.{field}");
        if (c.Metric is not null) Validate.Key(c.Metric, "condition.metric");
        if (c.Direction is not null && !Directions.Contains(c.Direction))
            throw LineageException.Invalid("condition.direction", $"'condition.direction' says which way is better: higher or lower, got '{Validate.Shorten(c.Direction)}'");
        if (c.Tolerance is { } t && (!double.IsFinite(t) || t < 0))
            throw LineageException.Invalid("condition.tolerance", $"'condition.tolerance' must be a number 0 or more, got {Number(t)}");
        if (kind == AlertKinds.DataDrift)
        {
            if ((c.Alias is null) == (c.Environment is null))
                throw LineageException.Invalid("condition.alias", "a data_drift rule's baseline is the model version behind 'condition.alias' or live in 'condition.environment': give exactly one");
            var method = c.Method ?? "psi";
            if (!Methods.Contains(method))
                throw LineageException.Invalid("condition.method", $"'condition.method' must be psi or ks, got '{Validate.Shorten(method)}'");
            var threshold = c.Threshold!.Value;
            if (!double.IsFinite(threshold) || threshold <= 0 || (method == "ks" && threshold > 1))
                throw LineageException.Invalid("condition.threshold", method == "ks"
                    ? $"'condition.threshold' of a KS rule is a distance between 0 (exclusive) and 1, got {Number(threshold)}"
                    : $"'condition.threshold' of a PSI rule must be a number above 0 (0.1 moderate, 0.25 large drift), got {Number(threshold)}");
            if (c.Columns is { } columns)
            {
                if (columns.Count == 0 || columns.Count > MaxColumns)
                    throw LineageException.Invalid("condition.columns", $"'condition.columns' lists 1 to {MaxColumns} columns (leave it out for every profiled column)");
                foreach (var col in columns) Validate.Key(col, "condition.columns");
            }
            c = c with { Method = method };
        }
        if (kind == AlertKinds.ModelRegression) c = c with { Direction = c.Direction ?? "higher", Tolerance = c.Tolerance ?? 0 };
        if (c.Hours is { } h && (!double.IsFinite(h) || h <= 0 || h > 24 * 366))
            throw LineageException.Invalid("condition.hours", $"'condition.hours' must be above 0 and at most {24 * 366}, got {Number(h)}");
        if (c.Minutes is { } m && (!double.IsFinite(m) || m <= 0 || m > 60 * 24 * 366))
            throw LineageException.Invalid("condition.minutes", $"'condition.minutes' must be above 0 and at most {60 * 24 * 366}, got {Number(m)}");
        return c;
    }

    private static IEnumerable<(string Name, bool Present)> Members(AlertCondition c) =>
    [
        ("query", c.Query is not null), ("model", c.Model is not null), ("alias", c.Alias is not null), ("environment", c.Environment is not null),
        ("metric", c.Metric is not null), ("direction", c.Direction is not null), ("tolerance", c.Tolerance is not null),
        ("dataset", c.Dataset is not null), ("method", c.Method is not null), ("threshold", c.Threshold is not null),
        ("columns", c.Columns is not null), ("hours", c.Hours is not null), ("minutes", c.Minutes is not null),
    ];

    private static string Number(double d) => d.ToString(CultureInfo.InvariantCulture);
}
