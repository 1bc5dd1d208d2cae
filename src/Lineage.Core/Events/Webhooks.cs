namespace Lineage.Core.Events;

/// <summary>A project's subscription to events (issue 14, part 3). The secret is never part of it; it is shown once, at creation.</summary>
public sealed record Webhook(long Id, string Project, string Name, string Url, IReadOnlyList<string> EventTypes, string Format, string? Description,
    bool Active, long CreatedAt, string? CreatedBy, long UpdatedAt, string? UpdatedBy);

/// <summary>What to create: <see cref="Format"/> is <c>lineage</c> (native events) or <c>mlflow</c> (MLflow 3 event names and payloads).</summary>
public sealed record WebhookSpec(string? Project, string Name, string Url, IReadOnlyList<string> EventTypes, string Format, string? Description, bool Active);

/// <summary>
/// A change; null members stay as they are. A new <see cref="Secret"/> signs every delivery sent from the commit on (rotation is
/// immediate: receivers accept both secrets while they switch).
/// </summary>
public sealed record WebhookChange(string? Url, IReadOnlyList<string>? EventTypes, string? Description, bool? Active, string? Name = null, string? Secret = null);

/// <summary>One event's delivery to one webhook, with its last attempt (the delivery log).</summary>
public sealed record WebhookDelivery(long Id, long WebhookId, long EventId, string EventType, string Status, int Attempts, long? NextAttemptAt,
    int? ResponseCode, long? LatencyMs, string? LastError, long? LastAttemptAt, long CreatedAt, long? DeliveredAt);

/// <summary>Delivery states: waiting or retrying, delivered (2xx), given up after the maximum attempts.</summary>
public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Dead = "dead";
}

/// <summary>Webhook payload formats.</summary>
public static class WebhookFormat
{
    public const string Lineage = "lineage";
    public const string Mlflow = "mlflow";
}
