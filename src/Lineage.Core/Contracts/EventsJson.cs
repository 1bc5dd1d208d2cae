using System.Text.Json;
using System.Text.Json.Serialization;
using Lineage.Core.Contracts.V1;

namespace Lineage.Core.Contracts;

/// <summary>The JSON context of the events, webhooks and alerts contracts (options as <see cref="LineageJson"/>).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(EventDto))]
[JsonSerializable(typeof(EventListResponse))]
[JsonSerializable(typeof(WebhookDto))]
[JsonSerializable(typeof(CreateWebhookRequest))]
[JsonSerializable(typeof(UpdateWebhookRequest))]
[JsonSerializable(typeof(WebhookListResponse))]
[JsonSerializable(typeof(WebhookDeliveryDto))]
[JsonSerializable(typeof(WebhookDeliveryListResponse))]
[JsonSerializable(typeof(AlertRuleDto))]
[JsonSerializable(typeof(CreateAlertRuleRequest))]
[JsonSerializable(typeof(UpdateAlertRuleRequest))]
[JsonSerializable(typeof(AlertRuleListResponse))]
[JsonSerializable(typeof(MuteAlertRuleRequest))]
[JsonSerializable(typeof(AlertDto))]
[JsonSerializable(typeof(AlertListResponse))]
public sealed partial class EventsJson : JsonSerializerContext;
