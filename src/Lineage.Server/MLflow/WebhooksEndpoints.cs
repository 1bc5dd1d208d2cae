using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lineage.Core.Errors;
using Lineage.Core.Events;
using Lineage.Core.Tracking;
using Lineage.Server.Hosting;
using Lineage.Storage.Engine;
using Lineage.Storage.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.MLflow;

/// <summary>
/// MLflow 3's webhook REST API (<c>mlflow/protos/webhooks.proto</c>: <c>POST/GET /mlflow/webhooks</c>,
/// <c>GET/PATCH/DELETE /mlflow/webhooks/{webhook_id}</c>, <c>POST /mlflow/webhooks/{webhook_id}/test</c>) over Lineage's webhooks:
/// a webhook created here is a Lineage webhook of format <c>mlflow</c> in the request's project, delivered by the same queue
/// (retries, ordering, dead letter, delivery log in <c>/api/v1/webhooks</c>). Events travel as MLflow's
/// <c>{"entity": "MODEL_VERSION", "action": "CREATED"}</c> pairs. Deviations: docs/mlflow.md.
/// </summary>
internal static class WebhooksEndpoints
{
    private const int MaxPage = 1000;

    public static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/webhooks", async (HttpContext ctx, WebhookStore store, WebhookTargets targets) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var name = a.RequiredString("name");
            var url = WebhookStore.CheckUrl(a.RequiredString("url"));
            var events = Events(a, required: true)!;
            await targets.CheckAsync(url, ctx.RequestAborted);
            var (hook, _) = await store.CreateAsync(new WebhookSpec(null, name, url, events, WebhookFormat.Mlflow, a.String("description"),
                Status(a) ?? true), a.String("secret"));
            return Answer(new JsonObject { ["webhook"] = ToJson(hook) });
        });

        g.MapGet("/webhooks", async (HttpContext ctx, WebhookStore store) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var size = a.Int("max_results") ?? 100;
            if (size is < 1 or > MaxPage) throw LineageException.Invalid("max_results", $"'max_results' must be between 1 and {MaxPage}, got {size}");
            var offset = a.String("page_token") is { Length: > 0 } token
                ? int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? o
                    : throw LineageException.Invalid("page_token", $"'{Validate.Shorten(token)}' is not a page token of this list")
                : 0;
            var all = (await store.ListAsync(OperationContext.Current.ProjectOrDefault)).Where(w => w.Format == WebhookFormat.Mlflow).ToList();
            var page = all.Skip(offset).Take(size).ToList();
            var answer = new JsonObject { ["webhooks"] = new JsonArray(page.Select(w => (JsonNode)ToJson(w)).ToArray()) };
            if (offset + page.Count < all.Count) answer["next_page_token"] = (offset + page.Count).ToString(CultureInfo.InvariantCulture);
            return Answer(answer);
        });

        g.MapGet("/webhooks/{webhook_id}", async (string webhook_id, WebhookStore store) =>
            Answer(new JsonObject { ["webhook"] = ToJson(await RequireAsync(store, webhook_id)) }));

        g.MapPatch("/webhooks/{webhook_id}", async (string webhook_id, HttpContext ctx, WebhookStore store, WebhookTargets targets) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var hook = await RequireAsync(store, webhook_id);
            var url = a.String("url") is { } u ? WebhookStore.CheckUrl(u) : null;
            if (url is not null) await targets.CheckAsync(url, ctx.RequestAborted);
            var changed = await store.UpdateAsync(hook.Id, new WebhookChange(url, Events(a, required: false), a.String("description"), Status(a),
                a.String("name"), a.String("secret")));
            return Answer(new JsonObject { ["webhook"] = ToJson(changed) });
        });

        g.MapDelete("/webhooks/{webhook_id}", async (string webhook_id, WebhookStore store) =>
        {
            await store.DeleteAsync((await RequireAsync(store, webhook_id)).Id);
            return MlflowResults.EmptyResponse();
        });

        g.MapPost("/webhooks/{webhook_id}/test", async (string webhook_id, HttpContext ctx, WebhookStore store, WebhookSender sender) =>
        {
            var a = await MlflowArgs.ReadAsync(ctx.Request);
            var hook = await RequireAsync(store, webhook_id);
            string? mlflowEvent = null;
            if (a.Body.TryGetProperty("event", out var e) && e.ValueKind != JsonValueKind.Null) mlflowEvent = EventName(e, "event");
            var (_, secret) = await store.SigningTargetAsync(hook.Id);
            var sent = await sender.TestAsync(hook, secret, mlflowEvent, ctx.RequestAborted);
            var result = new JsonObject { ["success"] = sent.Succeeded };
            if (sent.Status is { } status) result["response_status"] = status;
            if (!string.IsNullOrEmpty(sent.ResponseBody)) result["response_body"] = sent.ResponseBody;
            if (sent.Error is { } error) result["error_message"] = error;
            return Answer(new JsonObject { ["result"] = result });
        });
    }

    /// <summary>Only webhooks of MLflow's format exist on this surface; an id that is not one is "does not exist", as MLflow says.</summary>
    private static async Task<Webhook> RequireAsync(WebhookStore store, string id)
    {
        var hook = long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? await store.GetAsync(n) : null;
        return hook is { Format: WebhookFormat.Mlflow } ? hook : throw LineageException.NotFound($"Webhook with ID {Validate.Shorten(id)} not found");
    }

    /// <summary>MLflow's <c>events</c>: a list of <c>{"entity", "action"}</c>, as enum names (any case) or proto numbers.</summary>
    private static IReadOnlyList<string>? Events(MlflowArgs a, bool required)
    {
        var list = a.Objects("events");
        if (list.Count == 0) return required ? throw LineageException.Invalid("events", "'events' must name at least one event") : null;
        return list.Select((e, i) => EventName(e, $"events[{i}]")).Distinct().ToList();
    }

    private static readonly string[] Entities =
        ["entity_unspecified", "registered_model", "model_version", "model_version_tag", "model_version_alias", "prompt", "prompt_version", "prompt_tag",
         "prompt_version_tag", "prompt_alias"];

    private static readonly string[] Actions = ["action_unspecified", "created", "updated", "deleted", "set"];

    private static string EventName(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) throw LineageException.Invalid(path, $"'{path}' must be an object with 'entity' and 'action'");
        var entity = Enum(e, "entity", path, Entities);
        var action = Enum(e, "action", path, Actions);
        var name = $"{entity}.{action}";
        if (!MlflowWebhookEvents.Names.Contains(name))
            throw LineageException.Invalid(path, entity.StartsWith("prompt", StringComparison.Ordinal)
                ? $"event '{name}' is not supported: Lineage has no prompt registry; use one of {string.Join(", ", MlflowWebhookEvents.Names)}"
                : $"invalid event '{name}'; use one of {string.Join(", ", MlflowWebhookEvents.Names)}");
        return name;
    }

    private static string Enum(JsonElement e, string field, string path, string[] names)
    {
        if (!e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) throw LineageException.Invalid($"{path}.{field}", $"'{path}.{field}' is required");
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n > 0 && n < names.Length) return names[n];
        if (v.ValueKind == JsonValueKind.String && names.Skip(1).FirstOrDefault(x => x.Equals(v.GetString(), StringComparison.OrdinalIgnoreCase)) is { } name)
            return name;
        throw LineageException.Invalid($"{path}.{field}", $"'{path}.{field}' must be one of {string.Join(", ", names.Skip(1).Select(x => x.ToUpperInvariant()))}");
    }

    private static bool? Status(MlflowArgs a)
    {
        if (!a.Body.TryGetProperty("status", out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return (v.ValueKind, v.ValueKind == JsonValueKind.String ? v.GetString()!.ToUpperInvariant() : v.GetRawText()) switch
        {
            (JsonValueKind.String, "ACTIVE") or (JsonValueKind.Number, "1") => true,
            (JsonValueKind.String, "DISABLED") or (JsonValueKind.Number, "2") => false,
            _ => throw LineageException.Invalid("status", "'status' must be ACTIVE or DISABLED"),
        };
    }

    private static JsonObject ToJson(Webhook w)
    {
        var o = new JsonObject { ["webhook_id"] = w.Id.ToString(CultureInfo.InvariantCulture), ["name"] = w.Name };
        if (w.Description is { Length: > 0 } description) o["description"] = description;
        o["url"] = w.Url;
        o["events"] = new JsonArray(w.EventTypes.Select(t =>
        {
            var dot = t.IndexOf('.');
            return (JsonNode)new JsonObject { ["entity"] = t[..dot].ToUpperInvariant(), ["action"] = t[(dot + 1)..].ToUpperInvariant() };
        }).ToArray());
        o["status"] = w.Active ? "ACTIVE" : "DISABLED";
        o["creation_timestamp"] = w.CreatedAt;
        o["last_updated_timestamp"] = w.UpdatedAt;
        return o;
    }

    private static IResult Answer(JsonObject body) => Results.Text(body.ToJsonString(), "application/json");
}
