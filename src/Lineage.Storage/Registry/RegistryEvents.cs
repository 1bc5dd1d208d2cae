namespace Lineage.Storage.Registry;

/// <summary>Payloads of registry events that more than one operation emits (native and MLflow version creation).</summary>
internal static class RegistryEvents
{
    /// <summary>Carries what MLflow's <c>model_version.created</c> webhook payload needs (name, version as text, source, run, tags, description).</summary>
    public static object VersionCreated(string model, long version, string? runId, string source, string? description,
        IEnumerable<KeyValuePair<string, string>> tags, string? user) => new
    {
        name = model,
        version = version.ToString(System.Globalization.CultureInfo.InvariantCulture),
        source,
        runId,
        description,
        tags = tags.ToDictionary(t => t.Key, t => t.Value),
        createdBy = user,
    };
}
