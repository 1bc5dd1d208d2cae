using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;

namespace Lineage.Client;

/// <summary>The event log, its live stream, and webhooks (issue 14).</summary>
public sealed partial class LineageClient
{
    // ---- events ------------------------------------------------------------------------------

    /// <summary>Events after <paramref name="after"/> in id order; <paramref name="types"/> exact or <c>entity.*</c>.</summary>
    public Task<EventListResponse> ListEventsAsync(IEnumerable<string>? types = null, string? project = null, long? after = null, int? limit = null,
        CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/events/" + QueryString([("project", project), ("after", after?.ToString(CultureInfo.InvariantCulture)),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)), .. (types ?? []).Select(t => ("type", (string?)t))]), null, EventsJson.Default.EventListResponse,
            ct: ct);

    /// <summary>Follows <c>/events/stream</c> (Server-Sent Events) until cancelled; resumes after <paramref name="after"/> when given.</summary>
    public async IAsyncEnumerable<EventDto> StreamEventsAsync(IEnumerable<string>? types = null, string? project = null, long? after = null,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        using var response = await SendRawAsync(HttpMethod.Get, "api/v1/events/stream" + QueryString([("project", project),
            ("after", after?.ToString(CultureInfo.InvariantCulture)), .. (types ?? []).Select(t => ("type", (string?)t))]), null, null, ct, transfer: true);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line)
            if (line.StartsWith("data: ", StringComparison.Ordinal))
                yield return JsonSerializer.Deserialize(line.AsSpan(6), EventsJson.Default.EventDto)!;
    }

    // ---- webhooks ----------------------------------------------------------------------------

    /// <summary>Creates a webhook; the answer carries its signing secret, shown only this once.</summary>
    public Task<WebhookDto> CreateWebhookAsync(CreateWebhookRequest request, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/webhooks/", Json(request, EventsJson.Default.CreateWebhookRequest), EventsJson.Default.WebhookDto, ct: ct);

    public Task<WebhookListResponse> ListWebhooksAsync(string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/webhooks/" + QueryString(("project", project)), null, EventsJson.Default.WebhookListResponse, ct: ct);

    public Task<WebhookDto> GetWebhookAsync(string id, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/webhooks/{Esc(id)}", null, EventsJson.Default.WebhookDto, ct: ct);

    public Task<WebhookDto> UpdateWebhookAsync(string id, UpdateWebhookRequest request, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Patch, $"api/v1/webhooks/{Esc(id)}", Json(request, EventsJson.Default.UpdateWebhookRequest), EventsJson.Default.WebhookDto, ct: ct);

    public Task DeleteWebhookAsync(string id, CancellationToken ct = default) => SendAsync(HttpMethod.Delete, $"api/v1/webhooks/{Esc(id)}", null, ct: ct);

    /// <summary>The delivery log, newest event first.</summary>
    public Task<WebhookDeliveryListResponse> ListWebhookDeliveriesAsync(string id, string? status = null, int? limit = null, string? pageToken = null,
        CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/webhooks/{Esc(id)}/deliveries" + QueryString(("status", status), ("limit", limit?.ToString(CultureInfo.InvariantCulture)),
            ("pageToken", pageToken)), null, EventsJson.Default.WebhookDeliveryListResponse, ct: ct);

    public Task<WebhookDeliveryDto> RedeliverAsync(string id, string deliveryId, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/webhooks/{Esc(id)}/deliveries/{Esc(deliveryId)}/redeliver", null, EventsJson.Default.WebhookDeliveryDto, ct: ct);

    /// <summary>Queues a <c>webhook.test</c> event for this webhook only.</summary>
    public Task TestWebhookAsync(string id, CancellationToken ct = default) => SendAsync(HttpMethod.Post, $"api/v1/webhooks/{Esc(id)}/test", null, ct: ct);
}
