using System.Globalization;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;

namespace Lineage.Client;

/// <summary>Alert rules and alerts (issue 14, part 5).</summary>
public sealed partial class LineageClient
{
    public Task<AlertRuleDto> CreateAlertRuleAsync(CreateAlertRuleRequest request, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/alerts/rules/", Json(request, EventsJson.Default.CreateAlertRuleRequest), EventsJson.Default.AlertRuleDto, ct: ct);

    /// <summary>The rules of one project, or of every project the caller may read.</summary>
    public Task<AlertRuleListResponse> ListAlertRulesAsync(string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/alerts/rules/" + QueryString(("project", project)), null, EventsJson.Default.AlertRuleListResponse, ct: ct);

    public Task<AlertRuleDto> UpdateAlertRuleAsync(string id, UpdateAlertRuleRequest request, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Patch, $"api/v1/alerts/rules/{Esc(id)}", Json(request, EventsJson.Default.UpdateAlertRuleRequest), EventsJson.Default.AlertRuleDto,
            ct: ct);

    public Task DeleteAlertRuleAsync(string id, CancellationToken ct = default) => SendAsync(HttpMethod.Delete, $"api/v1/alerts/rules/{Esc(id)}", null, ct: ct);

    /// <summary>Mutes a rule until a time or for some minutes; condition changes meanwhile fire nothing.</summary>
    public Task<AlertRuleDto> MuteAlertRuleAsync(string id, MuteAlertRuleRequest request, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/alerts/rules/{Esc(id)}/mute", Json(request, EventsJson.Default.MuteAlertRuleRequest), EventsJson.Default.AlertRuleDto,
            ct: ct);

    public Task<AlertRuleDto> UnmuteAlertRuleAsync(string id, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/alerts/rules/{Esc(id)}/mute", null, EventsJson.Default.AlertRuleDto, ct: ct);

    /// <summary>Alerts newest first; <paramref name="state"/> firing or resolved.</summary>
    public Task<AlertListResponse> ListAlertsAsync(string? project = null, string? state = null, string? rule = null, int? limit = null, string? pageToken = null,
        CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/alerts/" + QueryString(("project", project), ("state", state), ("rule", rule),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("pageToken", pageToken)), null, EventsJson.Default.AlertListResponse, ct: ct);

    public Task<AlertDto> AcknowledgeAlertAsync(string id, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/alerts/{Esc(id)}/acknowledge", null, EventsJson.Default.AlertDto, ct: ct);

    public Task<AlertDto> ResolveAlertAsync(string id, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/alerts/{Esc(id)}/resolve", null, EventsJson.Default.AlertDto, ct: ct);
}
