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
        if (e.Type == EventTypes.WebhookTest) return Example(mlflowName);
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

    /// <summary>
    /// The example <c>data</c> of a test delivery, as MLflow's test endpoint sends for the chosen event: a made-up model, so a receiver
    /// can tell a test from a real change only by its names.
    /// </summary>
    public static JsonObject Example(string mlflowName) => mlflowName switch
    {
        RegisteredModelCreated => new JsonObject
        {
            ["name"] = "example_model", ["tags"] = new JsonObject { ["example_key"] = "example_value" }, ["description"] = "An example registered model",
        },
        ModelVersionCreated => new JsonObject
        {
            ["name"] = "example_model", ["version"] = "1", ["source"] = "models:/123", ["run_id"] = "abcd1234abcd5678",
            ["tags"] = new JsonObject { ["example_key"] = "example_value" }, ["description"] = "An example model version",
        },
        ModelVersionTagSet => new JsonObject { ["name"] = "example_model", ["version"] = "1", ["key"] = "example_key", ["value"] = "example_value" },
        ModelVersionTagDeleted => new JsonObject { ["name"] = "example_model", ["version"] = "1", ["key"] = "example_key" },
        ModelVersionAliasCreated => new JsonObject { ["name"] = "example_model", ["alias"] = "example_alias", ["version"] = "1" },
        ModelVersionAliasDeleted => new JsonObject { ["name"] = "example_model", ["alias"] = "example_alias" },
        _ => throw new ArgumentOutOfRangeException(nameof(mlflowName), mlflowName, null),
    };

    /// <summary>A test delivery's body for one MLflow event.</summary>
    public static string TestBody(string mlflowName, long time) => Envelope(mlflowName, time, Example(mlflowName));

    /// <summary>The body MLflow posts: <c>{"entity", "action", "timestamp" (ISO 8601), "data"}</c>.</summary>
    public static string Body(DomainEvent e)
    {
        var name = NameOf(e.Type, e.Payload) ?? throw new ArgumentException($"event type {e.Type} has no MLflow webhook event", nameof(e));
        return Envelope(name, e.Time, Data(name, e));
    }

    private static string Envelope(string name, long time, JsonObject data)
    {
        var dot = name.IndexOf('.');
        var body = new JsonObject
        {
            ["entity"] = name[..dot],
            ["action"] = name[(dot + 1)..],
            ["timestamp"] = DateTimeOffset.FromUnixTimeMilliseconds(time).ToString("yyyy-MM-ddTHH:mm:ss.ffffffzzz", System.Globalization.CultureInfo.InvariantCulture),
            ["data"] = data,
        };
        return body.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }
}
