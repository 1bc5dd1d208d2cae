using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Lineage.Core.Artifacts;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Engine;
using Lineage.Storage.Lineage;
using Lineage.Core.Lineage;

namespace Lineage.Storage.Tracking;

/// <summary>
/// Dataset inputs of runs (MLflow's log-inputs) as lineage: a dataset is an external artifact
/// version of type <c>dataset</c> whose metadata holds MLflow's fields; a run consuming it is an
/// input event of the run's execution, with the context as the role. Never commits.
/// </summary>
internal static class DatasetInputAccess
{
    public const string ContextTag = "mlflow.data.context";

    /// <summary>
    /// Finds the artifact version of this dataset (same name, digest, source) in the project, or
    /// registers the next version of the dataset name. Returns the artifact version id.
    /// </summary>
    public static async Task<long> EnsureDatasetAsync(DbSession s, long projectId, DatasetInput d, string? user, long now)
    {
        var identity = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{d.Name}\n{d.Digest}\n{d.SourceType}\n{d.Source}")));
        var name = ArtifactName(d.Name);
        var existing = await s.Connection.QueryFirstOrDefaultAsync<long?>("""
            SELECT v.id FROM artifact_versions v JOIN artifact_names n ON n.id = v.name_id
            WHERE n.project_id = @projectId AND n.name = @name AND v.type = 'dataset' AND v.digest = @identity
            ORDER BY v.version LIMIT 1
            """, new { projectId, name, identity }, s.Transaction);
        if (existing is { } id) return id;
        var metadata = new JsonObject
        {
            ["name"] = d.Name,
            ["digest"] = d.Digest,
            ["source_type"] = d.SourceType,
            ["source"] = d.Source,
        };
        if (d.Schema is not null) metadata["schema"] = d.Schema;
        if (d.Profile is not null)
        {
            metadata["profile"] = d.Profile;
            // Row count as a number, so "metadata.rows > 1000" finds datasets logged through MLflow.
            try
            {
                if (JsonNode.Parse(d.Profile) is JsonObject profile && profile["num_rows"] is JsonValue rows && rows.TryGetValue<long>(out var n))
                    metadata["rows"] = n;
            }
            catch (JsonException)
            {
            }
        }
        var next = await ArtifactAccess.NextVersionAsync(s, projectId, name);
        return await ArtifactAccess.InsertVersionAsync(s, next.Id, next.LatestVersion, "dataset", ArtifactKind.External, identity, 0,
            $"mlflow-dataset:{Uri.EscapeDataString(d.Name)}@{Uri.EscapeDataString(d.Digest)}", metadata.ToJsonString(), null, null, user, now);
    }

    /// <summary>Records that the run consumed the dataset in a context; repeating it is a no-op.</summary>
    public static async Task AddInputAsync(DbSession s, long runId, long artifactId, IReadOnlyList<KeyValue> tags, long now)
    {
        var context = tags.LastOrDefault(t => t.Key == ContextTag).Value;
        var execution = await LineageAccess.RunExecutionAsync(s, runId);
        await LineageAccess.AddEventAsync(s, execution, artifactId, EventKind.Input, string.IsNullOrEmpty(context) ? "input" : context, now);
        foreach (var tag in tags.Where(t => t.Key != ContextTag))
            await s.Connection.ExecuteAsync("""
                INSERT INTO run_input_tags (run_id, artifact_id, key, value) VALUES (@runId, @artifactId, @Key, @Value)
                ON CONFLICT (run_id, artifact_id, key) DO UPDATE SET value = excluded.value
                """, new { runId, artifactId, tag.Key, tag.Value }, s.Transaction);
    }

    public static async Task<Dictionary<long, List<DatasetInput>>> OfRunsAsync(DbSession s, long[] runIds)
    {
        var result = new Dictionary<long, List<DatasetInput>>();
        var rows = (await s.Connection.QueryAsync<(long RunId, long ArtifactId, string Role, string Metadata)>($"""
            SELECT x.run_id, v.id, le.role, v.metadata
            FROM executions x JOIN lineage_events le ON le.execution_id = x.id AND le.kind = 'input'
            JOIN artifact_versions v ON v.id = le.artifact_id AND v.type = 'dataset'
            WHERE {s.Dialect.InSet("x.run_id", "runIds")}
            ORDER BY le.id
            """, new { runIds = s.Dialect.Set(runIds) }, s.Transaction)).ToList();
        if (rows.Count == 0) return result;
        var tags = (await s.Connection.QueryAsync<(long RunId, long ArtifactId, string Key, string Value)>(
                $"SELECT run_id, artifact_id, key, value FROM run_input_tags WHERE {s.Dialect.InSet("run_id", "runIds")} ORDER BY key",
                new { runIds = s.Dialect.Set(runIds) }, s.Transaction))
            .ToLookup(t => (t.RunId, t.ArtifactId), t => new KeyValue(t.Key, t.Value));
        foreach (var row in rows)
        {
            var m = JsonNode.Parse(row.Metadata) as JsonObject ?? [];
            var list = tags[(row.RunId, row.ArtifactId)].ToList();
            if (row.Role != "input") list.Add(new KeyValue(ContextTag, row.Role));
            if (!result.TryGetValue(row.RunId, out var inputs)) result[row.RunId] = inputs = [];
            inputs.Add(new DatasetInput(Str(m, "name") ?? "", Str(m, "digest") ?? "", Str(m, "source_type") ?? "", Str(m, "source") ?? "",
                Str(m, "schema"), Str(m, "profile"), list));
        }
        return result;
    }

    private static string? Str(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>MLflow dataset names are free text; artifact names are a URL-safe slug.</summary>
    private static string ArtifactName(string name)
    {
        var sb = new StringBuilder();
        foreach (var c in name) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-');
        var slug = sb.ToString().TrimStart('.', '_', '-');
        if (slug.Length == 0) slug = "dataset";
        return slug.Length > ArtifactRules.MaxNameLength ? slug[..ArtifactRules.MaxNameLength] : slug;
    }
}
