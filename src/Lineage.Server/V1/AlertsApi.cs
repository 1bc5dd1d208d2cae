using System.Globalization;
using System.Text.Json;
using Lineage.Core.Alerts;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.Alerts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>
/// Alert rules and alerts (issue 14, part 5). Project admins manage rules; writers acknowledge, resolve and mute; readers
/// see the rules and the firing history of the projects they may read. The evaluation runs in the server
/// (<see cref="Hosting.AlertService"/>) and every firing or resolution is also an <c>alert.fired</c> / <c>alert.resolved</c>
/// event (stream, webhooks).
/// </summary>
public static class AlertsApi
{
    public static RouteGroupBuilder MapAlerts(this RouteGroupBuilder api)
    {
        var alerts = api.MapGroup("/alerts").WithTags("Alerts");
        var rules = alerts.MapGroup("/rules");

        rules.MapPost("/", async (HttpContext ctx, AlertStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(EventsJson.Default.CreateAlertRuleRequest);
                var rule = await store.CreateRuleAsync(new AlertRuleSpec(body.Project ?? ctx.Request.QueryText("project"),
                    body.Name ?? throw LineageException.Invalid("name", "'name' is required"), body.Kind, ToModel(body.Condition), body.Severity, body.Description));
                return Results.Json(ToDto(rule), EventsJson.Default.AlertRuleDto, statusCode: 201);
            })
            .Accepts<CreateAlertRuleRequest>("application/json").Produces<AlertRuleDto>(201);

        rules.MapGet("/", async (HttpContext ctx, AlertStore store) =>
                Results.Json(new AlertRuleListResponse((await store.ListRulesAsync(ctx.Request.QueryText("project"))).Select(ToDto).ToList()),
                    EventsJson.Default.AlertRuleListResponse))
            .Produces<AlertRuleListResponse>();

        rules.MapGet("/{id}", async (string id, AlertStore store) => Ok(await store.GetRuleAsync(Id(id)))).Produces<AlertRuleDto>();

        rules.MapPatch("/{id}", async (string id, HttpContext ctx, AlertStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(EventsJson.Default.UpdateAlertRuleRequest);
                return Ok(await store.UpdateRuleAsync(Id(id), new AlertRuleChange(body.Condition is null ? null : ToModel(body.Condition), body.Severity,
                    body.Description)));
            })
            .Accepts<UpdateAlertRuleRequest>("application/json").Produces<AlertRuleDto>();

        rules.MapDelete("/{id}", async (string id, AlertStore store) =>
        {
            await store.DeleteRuleAsync(Id(id));
            return Results.NoContent();
        });

        rules.MapPost("/{id}/mute", async (string id, HttpContext ctx, AlertStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(EventsJson.Default.MuteAlertRuleRequest);
                if ((body.Until is null) == (body.Minutes is null))
                    throw LineageException.Invalid("until", "give 'until' (ms since the epoch) or 'minutes' (from now), one of them");
                if (body.Minutes is { } m && (!double.IsFinite(m) || m <= 0 || m > 60 * 24 * 366))
                    throw LineageException.Invalid("minutes", $"'minutes' must be above 0 and at most {60 * 24 * 366}, got {m.ToString(CultureInfo.InvariantCulture)}");
                var until = body.Until ?? Clock.NowMs() + (long)(body.Minutes!.Value * 60_000);
                return Ok(await store.MuteAsync(Id(id), until));
            })
            .Accepts<MuteAlertRuleRequest>("application/json").Produces<AlertRuleDto>();

        rules.MapDelete("/{id}/mute", async (string id, AlertStore store) => Ok(await store.MuteAsync(Id(id), null))).Produces<AlertRuleDto>();

        alerts.MapGet("/", async (HttpContext ctx, AlertStore store) =>
            {
                var q = ctx.Request;
                var limit = Validate.PageSize(q.QueryInt("limit"));
                long? before = q.QueryText("pageToken") is { } token
                    ? long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
                        : throw LineageException.Invalid("pageToken", $"'{Validate.Shorten(token)}' is not a page token of the alert list")
                    : null;
                long? rule = q.QueryText("rule") is { } r ? Validate.ExperimentId(r, "rule") : null;
                var page = await store.ListAlertsAsync(new AlertQuery(q.QueryText("project"), q.QueryText("state"), rule, limit, before));
                return Results.Json(new AlertListResponse(page.Select(ToDto).ToList(), page.Count == limit ? page[^1].Id.ToString(CultureInfo.InvariantCulture) : null),
                    EventsJson.Default.AlertListResponse);
            })
            .Produces<AlertListResponse>();

        alerts.MapGet("/{id}", async (string id, AlertStore store) => Ok(await store.GetAlertAsync(Id(id)))).Produces<AlertDto>();

        alerts.MapPost("/{id}/acknowledge", async (string id, AlertStore store) => Ok(await store.AcknowledgeAsync(Id(id)))).Produces<AlertDto>();

        alerts.MapPost("/{id}/resolve", async (string id, AlertStore store) => Ok(await store.ResolveAsync(Id(id)))).Produces<AlertDto>();

        return api;
    }

    private static long Id(string id) => Validate.ExperimentId(id, "id");

    private static IResult Ok(AlertRule r) => Results.Json(ToDto(r), EventsJson.Default.AlertRuleDto);

    private static IResult Ok(Alert a) => Results.Json(ToDto(a), EventsJson.Default.AlertDto);

    private static AlertCondition ToModel(AlertConditionDto? c) => c is null ? new AlertCondition()
        : new(c.Query, c.Model, c.Alias, c.Environment, c.Metric, c.Direction, c.Tolerance, c.Dataset, c.Method, c.Threshold, c.Columns, c.Hours, c.Minutes);

    public static AlertRuleDto ToDto(AlertRule r)
    {
        var c = r.Condition;
        return new(r.Id, r.Project, r.Name, r.Kind, new AlertConditionDto(c.Query, c.Model, c.Alias, c.Environment, c.Metric, c.Direction, c.Tolerance,
                c.Dataset, c.Method, c.Threshold, c.Columns?.ToList(), c.Hours, c.Minutes), r.Severity, r.Description, r.MutedUntil, r.CreatedAt, r.CreatedBy,
            r.UpdatedAt, r.UpdatedBy);
    }

    public static AlertDto ToDto(Alert a)
    {
        using var details = JsonDocument.Parse(a.Details);
        var message = details.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        return new(a.Id, a.RuleId, a.RuleName, a.Project, a.Kind, a.Severity, a.Subject, a.State, a.Value, message, details.RootElement.Clone(), a.FiredAt,
            a.AcknowledgedAt, a.AcknowledgedBy, a.ResolvedAt, a.ResolvedBy);
    }
}
