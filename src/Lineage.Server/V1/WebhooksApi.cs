using System.Globalization;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Events;
using Lineage.Core.Tracking;
using Lineage.Server.Hosting;
using Lineage.Server.Http;
using Lineage.Storage.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>
/// Webhooks (issue 14, part 3), managed by project admins: create (the answer shows the signing secret once), list, read,
/// change, delete, the delivery log, manual redelivery and "send test event". Target URLs are checked against
/// <see cref="WebhookTargets"/> (SSRF) before anything is stored.
/// </summary>
public static class WebhooksApi
{
    public static RouteGroupBuilder MapWebhooks(this RouteGroupBuilder api)
    {
        var hooks = api.MapGroup("/webhooks").WithTags("Webhooks");

        hooks.MapPost("/", async (HttpContext ctx, WebhookStore store, WebhookTargets targets) =>
            {
                var body = await ctx.Request.ReadJsonAsync(EventsJson.Default.CreateWebhookRequest);
                var name = body.Name ?? throw LineageException.Invalid("name", "'name' is required");
                var url = WebhookStore.CheckUrl(body.Url ?? throw LineageException.Invalid("url", "'url' is required"));
                await targets.CheckAsync(url, ctx.RequestAborted);
                var (hook, secret) = await store.CreateAsync(new WebhookSpec(body.Project ?? ctx.Request.QueryText("project"), name, url, body.EventTypes ?? [],
                    body.Format ?? WebhookFormat.Lineage, body.Description, body.Active ?? true), body.Secret);
                return Results.Json(ToDto(hook) with { Secret = secret }, EventsJson.Default.WebhookDto, statusCode: 201);
            })
            .Accepts<CreateWebhookRequest>("application/json").Produces<WebhookDto>(201);

        hooks.MapGet("/", async (HttpContext ctx, WebhookStore store) =>
                // The project is required: the access rule then checks admin on exactly that project.
                Results.Json(new WebhookListResponse((await store.ListAsync(ctx.Request.QueryText("project")
                        ?? throw LineageException.Invalid("project", "'project' is required: webhooks are listed per project"))).Select(ToDto).ToList()),
                    EventsJson.Default.WebhookListResponse))
            .Produces<WebhookListResponse>();

        hooks.MapGet("/{id}", async (string id, WebhookStore store) => Ok(await store.GetAsync(Id(id)))).Produces<WebhookDto>();

        hooks.MapPatch("/{id}", async (string id, HttpContext ctx, WebhookStore store, WebhookTargets targets) =>
            {
                var body = await ctx.Request.ReadJsonAsync(EventsJson.Default.UpdateWebhookRequest);
                var url = body.Url is null ? null : WebhookStore.CheckUrl(body.Url);
                if (url is not null) await targets.CheckAsync(url, ctx.RequestAborted);
                return Ok(await store.UpdateAsync(Id(id), new WebhookChange(url, body.EventTypes, body.Description, body.Active, body.Name, body.Secret)));
            })
            .Accepts<UpdateWebhookRequest>("application/json").Produces<WebhookDto>();

        hooks.MapDelete("/{id}", async (string id, WebhookStore store) =>
        {
            await store.DeleteAsync(Id(id));
            return Results.NoContent();
        });

        hooks.MapGet("/{id}/deliveries", async (string id, HttpContext ctx, WebhookStore store) =>
            {
                var q = ctx.Request;
                var limit = Validate.PageSize(q.QueryInt("limit"));
                long? before = q.QueryText("pageToken") is { } token
                    ? long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) ? seq
                        : throw LineageException.Invalid("pageToken", $"'{Validate.Shorten(token)}' is not a page token of the delivery log")
                    : null;
                var page = await store.DeliveriesAsync(Id(id), q.QueryText("status"), limit, before);
                return Results.Json(new WebhookDeliveryListResponse(page.Select(ToDto).ToList(),
                        page.Count == limit ? page[^1].EventId.ToString(CultureInfo.InvariantCulture) : null),
                    EventsJson.Default.WebhookDeliveryListResponse);
            })
            .Produces<WebhookDeliveryListResponse>();

        hooks.MapPost("/{id}/deliveries/{deliveryId}/redeliver", async (string id, string deliveryId, WebhookStore store) =>
                Results.Json(ToDto(await store.RedeliverAsync(Id(id), Validate.ExperimentId(deliveryId, "deliveryId"))), EventsJson.Default.WebhookDeliveryDto,
                    statusCode: 202))
            .Produces<WebhookDeliveryDto>(202);

        hooks.MapPost("/{id}/test", async (string id, WebhookStore store) =>
        {
            await store.SendTestAsync(Id(id));
            return Results.Accepted();
        });

        return api;
    }

    private static long Id(string id) => Validate.ExperimentId(id, "id");

    private static IResult Ok(Webhook w) => Results.Json(ToDto(w), EventsJson.Default.WebhookDto);

    public static WebhookDto ToDto(Webhook w) => new(w.Id, w.Project, w.Name, w.Url, w.EventTypes.ToList(), w.Format, w.Description, w.Active, w.CreatedAt,
        w.CreatedBy, w.UpdatedAt, w.UpdatedBy);

    public static WebhookDeliveryDto ToDto(WebhookDelivery d) => new(d.Id, d.WebhookId, d.EventId, d.EventType, d.Status, d.Attempts, d.NextAttemptAt,
        d.ResponseCode, d.LatencyMs, d.LastError, d.LastAttemptAt, d.CreatedAt, d.DeliveredAt);
}
