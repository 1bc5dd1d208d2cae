using System.Text.Json.Nodes;
using Json.Schema;

namespace Lineage.Tests.Support;

/// <summary>
/// Checks RunEvents against the OpenLineage spec offline: the core schema (OpenLineage.json) for
/// the event, and each facet whose key a shared facet schema names against that schema. Every
/// schema is registered under its own $id, so no reference is fetched.
/// </summary>
public static class OpenLineageSchema
{
    private static readonly Lazy<(JsonSchema Core, Dictionary<string, JsonSchema> Facets, EvaluationOptions Options)> Loaded = new(() =>
    {
        var options = new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true };
        var core = JsonSchema.FromText(File.ReadAllText(RecordedFixtures.OpenLineage("spec", "OpenLineage.json")));
        options.SchemaRegistry.Register(core);
        var facets = new Dictionary<string, JsonSchema>();
        foreach (var file in Directory.GetFiles(RecordedFixtures.OpenLineage("spec", "facets"), "*.json"))
        {
            var text = File.ReadAllText(file);
            var schema = JsonSchema.FromText(text);
            options.SchemaRegistry.Register(schema);
            foreach (var key in JsonNode.Parse(text)!["properties"]!.AsObject().Select(p => p.Key))
                facets[key] = schema;
        }
        return (core, facets, options);
    });

    /// <summary>The problems found, empty when the event is valid.</summary>
    public static IReadOnlyList<string> Problems(string eventJson)
    {
        var (core, facets, options) = Loaded.Value;
        var root = JsonNode.Parse(eventJson)!;
        var problems = Errors(core.Evaluate(root, options), "event").ToList();
        foreach (var (where, facetSet) in FacetSets(root))
            foreach (var (key, value) in facetSet)
                if (facets.TryGetValue(key, out var schema))
                    problems.AddRange(Errors(schema.Evaluate(new JsonObject { [key] = value?.DeepClone() }, options), $"{where}.{key}"));
        return problems;
    }

    private static IEnumerable<(string, JsonObject)> FacetSets(JsonNode root)
    {
        if (root["run"]?["facets"] is JsonObject run) yield return ("run.facets", run);
        if (root["job"]?["facets"] is JsonObject job) yield return ("job.facets", job);
        foreach (var list in new[] { "inputs", "outputs" })
            if (root[list] is JsonArray datasets)
                for (var i = 0; i < datasets.Count; i++)
                    foreach (var kind in new[] { "facets", "inputFacets", "outputFacets" })
                        if (datasets[i]?[kind] is JsonObject set) yield return ($"{list}[{i}].{kind}", set);
    }

    private static IEnumerable<string> Errors(EvaluationResults results, string where) =>
        results.IsValid ? [] : (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{where}{d.InstanceLocation}: {e.Key}: {e.Value}"))
            .DefaultIfEmpty($"{where}: invalid");
}
