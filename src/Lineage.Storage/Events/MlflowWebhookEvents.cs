using System.Text.Json;
using System.Text.Json.Nodes;
using Lineage.Core.Events;

namespace Lineage.Storage.Events;

/// <summary>
/// MLflow 3 webhook events (issue 14, part 4): which Lineage event is which MLflow event, and the MLflow payload
/// (<c>mlflow.webhooks.types</c>: snake_case, versions as strings). Only registry events exist in MLflow's list.
/// </summary>
public static class MlflowWebhookEvents
{
    public const string RegisteredModelCreated = "registered_model.created";
    public const string ModelVersionCreated = "model_version.created";
    public const string ModelVersionTagSet = "model_version_tag.set";
    public const string ModelVersionTagDeleted = "model_version_tag.deleted";
    public const string ModelVersionAliasCreated = "model_version_alias.created";
    public const string ModelVersionAliasDeleted = "model_version_alias.deleted";

    public static IReadOnlyList<string> Names { get; } =
        [RegisteredModelCreated, ModelVersionCreated, ModelVersionTagSet, ModelVersionTagDeleted, ModelVersionAliasCreated, ModelVersionAliasDeleted];

    /// <summary>The MLflow event name of a Lineage event, or null when MLflow has none. An alias move is "created" (MLflow sets aliases), a removal "deleted".</summary>
    public static string? NameOf(string type, string payload) => type switch
    {
        EventTypes.RegisteredModelCreated => RegisteredModelCreated,
        EventTypes.ModelVersionCreated => ModelVersionCreated,
        EventTypes.ModelVersionTagSet => ModelVersionTagSet,
        EventTypes.ModelVersionTagDeleted => ModelVersionTagDeleted,
        EventTypes.ModelAliasMoved => JsonNode.Parse(payload)?["toVersion"] is null ? ModelVersionAliasDeleted : ModelVersionAliasCreated,
        EventTypes.WebhookTest => ModelVersionCreated,
        _ => null,
    };

    /// <summary>MLflow's <c>data</c> object for the event, from the Lineage payload.</summary>
    public static JsonObject Data(string mlflowName, DomainEvent e)
    {
        var p = JsonNode.Parse(e.Payload)!.AsObject();
        string? Text(string key) => p[key] is JsonValue v ? v.ToString() : null;
        JsonObject Tags() => p["tags"] is JsonObject t ? (JsonObject)t.DeepClone() : [];
        if (e.Type == EventTypes.WebhookTest)
            // A test delivery to an MLflow webhook carries MLflow's own example payload, as MLflow's test endpoint does.
            return new JsonObject
            {
                ["name"] = "example_model", ["version"] = "1", ["source"] = "models:/123", ["run_id"] = "abcd1234abcd5678",
                ["tags"] = new JsonObject { ["example_key"] = "example_value" }, ["description"] = "An example model version",
            };
        return mlflowName switch
        {
            RegisteredModelCreated => new JsonObject { ["name"] = Text("name"), ["tags"] = Tags(), ["description"] = Text("description") },
            ModelVersionCreated => new JsonObject
            {
                ["name"] = Text("name"), ["version"] = Text("version"), ["source"] = Text("source"), ["run_id"] = Text("runId"), ["tags"] = Tags(),
                ["description"] = Text("description"),
            },
            ModelVersionTagSet => new JsonObject { ["name"] = Text("name"), ["version"] = Text("version"), ["key"] = Text("key"), ["value"] = Text("value") },
            ModelVersionTagDeleted => new JsonObject { ["name"] = Text("name"), ["version"] = Text("version"), ["key"] = Text("key") },
            ModelVersionAliasCreated => new JsonObject { ["name"] = Text("name"), ["alias"] = Text("alias"), ["version"] = Text("toVersion") },
            ModelVersionAliasDeleted => new JsonObject { ["name"] = Text("name"), ["alias"] = Text("alias") },
            _ => throw new ArgumentOutOfRangeException(nameof(mlflowName), mlflowName, null),
        };
    }

    /// <summary>The body MLflow posts: <c>{"entity", "action", "timestamp" (ISO 8601), "data"}</c>.</summary>
    public static string Body(DomainEvent e)
    {
        var name = NameOf(e.Type, e.Payload) ?? throw new ArgumentException($"event type {e.Type} has no MLflow webhook event", nameof(e));
        var dot = name.IndexOf('.');
        var body = new JsonObject
        {
            ["entity"] = name[..dot],
            ["action"] = name[(dot + 1)..],
            ["timestamp"] = DateTimeOffset.FromUnixTimeMilliseconds(e.Time).ToString("yyyy-MM-ddTHH:mm:ss.ffffffzzz", System.Globalization.CultureInfo.InvariantCulture),
            ["data"] = Data(name, e),
        };
        return body.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }
}
