using System.Text.Json;
using System.Text.Json.Serialization;

// Wire contracts of events and webhooks in the native API /api/v1 (issue 14). Own JSON context, same options as LineageJson.
namespace Lineage.Core.Contracts.V1;

/// <summary>One event. <c>id</c> is monotonic per store; <c>payload</c> holds the changed facts.</summary>
public sealed record EventDto(long Id, string Type, string Project, long Time, string? Actor, string Entity, JsonElement Payload);

/// <summary>A page of events in id order; <c>nextAfter</c> is the <c>after</c> of the next page (the last id here), null when the page was short.</summary>
public sealed record EventListResponse(List<EventDto> Events, long? NextAfter);

/// <summary>A webhook. <c>secret</c> appears only in the answer to its creation.</summary>
public sealed record WebhookDto(long Id, string Project, string Name, string Url, List<string> EventTypes, string Format, string? Description, bool Active,
    long CreatedAt, string? CreatedBy, long UpdatedAt, string? UpdatedBy, string? Secret = null);

/// <summary><c>format</c>: lineage (default) or mlflow; <c>eventTypes</c> default to every type; <c>secret</c> defaults to a new random one.</summary>
public sealed record CreateWebhookRequest(string? Project, string? Name, string? Url, List<string>? EventTypes, string? Format, string? Description,
    bool? Active, string? Secret);

public sealed record UpdateWebhookRequest(string? Url, List<string>? EventTypes, string? Description, bool? Active, string? Name = null, string? Secret = null);

public sealed record WebhookListResponse(List<WebhookDto> Webhooks);

/// <summary>One event's delivery to one webhook and its last attempt.</summary>
public sealed record WebhookDeliveryDto(long Id, long WebhookId, long EventId, string EventType, string Status, int Attempts, long? NextAttemptAt,
    int? ResponseCode, long? LatencyMs, string? LastError, long? LastAttemptAt, long CreatedAt, long? DeliveredAt);

/// <summary>Newest event first; <c>nextPageToken</c> continues below.</summary>
public sealed record WebhookDeliveryListResponse(List<WebhookDeliveryDto> Deliveries, string? NextPageToken);
