using System.Text.Json;

// Wire contracts of alert rules and alerts in the native API /api/v1 (issue 14, part 5). In EventsJson's context.
namespace Lineage.Core.Contracts.V1;

/// <summary>
/// What a rule watches; which fields apply depends on the rule's kind (docs/events.md, "Alert rules"): <c>query</c>
/// (metric_threshold); <c>model</c>, <c>alias</c>, <c>metric</c>, <c>direction</c>, <c>tolerance</c> (model_regression);
/// <c>dataset</c>, <c>model</c>, <c>alias</c> or <c>environment</c>, <c>method</c>, <c>threshold</c>, <c>columns</c> (data_drift);
/// <c>hours</c>, <c>model</c> (promotion_pending); <c>environment</c>, <c>model</c> (deployment_failed); <c>minutes</c> (run_stale).
/// </summary>
public sealed record AlertConditionDto(string? Query = null, string? Model = null, string? Alias = null, string? Environment = null, string? Metric = null,
    string? Direction = null, double? Tolerance = null, string? Dataset = null, string? Method = null, double? Threshold = null, List<string>? Columns = null,
    double? Hours = null, double? Minutes = null);

/// <summary>An alert rule; <c>mutedUntil</c> (ms) is set while it is muted.</summary>
public sealed record AlertRuleDto(long Id, string Project, string Name, string Kind, AlertConditionDto Condition, string Severity, string? Description,
    long? MutedUntil, long CreatedAt, string? CreatedBy, long UpdatedAt, string? UpdatedBy);

/// <summary><c>severity</c>: info, warning (default) or critical.</summary>
public sealed record CreateAlertRuleRequest(string? Name, string? Kind, AlertConditionDto? Condition, string? Project = null, string? Severity = null,
    string? Description = null);

/// <summary>Null members stay as they are; a condition replaces the old one whole.</summary>
public sealed record UpdateAlertRuleRequest(AlertConditionDto? Condition = null, string? Severity = null, string? Description = null);

public sealed record AlertRuleListResponse(List<AlertRuleDto> Rules);

/// <summary>Mute until <c>until</c> (ms since the epoch) or for <c>minutes</c> from now: give one.</summary>
public sealed record MuteAlertRuleRequest(long? Until = null, double? Minutes = null);

/// <summary>One firing of a rule for one subject (<c>run:&lt;id&gt;</c>, <c>model_version:&lt;model&gt;/&lt;version&gt;</c> …) and what became of it.</summary>
public sealed record AlertDto(long Id, long RuleId, string Rule, string Project, string Kind, string Severity, string Subject, string State, double? Value,
    string? Message, JsonElement Details, long FiredAt, long? AcknowledgedAt, string? AcknowledgedBy, long? ResolvedAt, string? ResolvedBy);

/// <summary>Newest first; <c>nextPageToken</c> continues below.</summary>
public sealed record AlertListResponse(List<AlertDto> Alerts, string? NextPageToken);
