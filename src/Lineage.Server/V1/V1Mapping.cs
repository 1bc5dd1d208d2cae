using System.Globalization;
using System.Text.Json;
using Lineage.Core.Artifacts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Tracking;

namespace Lineage.Server.V1;

/// <summary>Store records → native wire DTOs.</summary>
public static class V1Mapping
{
    public static ProjectDto ToDto(this Project p) =>
        new(p.Name, p.Description, p.CreatedAt, p.Provenance?.CreatedBy, p.Provenance?.UpdatedAt, p.Provenance?.UpdatedBy);

    public static ExperimentDto ToDto(this Experiment e) => new(
        e.Id.ToString(CultureInfo.InvariantCulture), e.Project, e.Name, e.Description, Text(e.Lifecycle),
        e.CreatedAt, e.UpdatedAt, new Dictionary<string, string>(e.Tags), e.Provenance?.CreatedBy, e.Provenance?.UpdatedBy);

    public static RunDto ToDto(this Run r) => new(
        r.Info.RunId, r.Info.ExperimentId.ToString(CultureInfo.InvariantCulture), r.Info.Name,
        r.Info.Status.ToString().ToUpperInvariant(), r.Info.StartTime, r.Info.EndTime, r.Info.User, r.Info.ParentRunId,
        Text(r.Info.Lifecycle), new Dictionary<string, string>(r.Params), new Dictionary<string, string>(r.Tags),
        r.LatestMetrics.Select(m => new MetricDto(m.Key, m.Value, m.Step, m.Timestamp)).ToList(),
        r.Info.Provenance?.CreatedAt, r.Info.Provenance?.CreatedBy, r.Info.Provenance?.UpdatedAt, r.Info.Provenance?.UpdatedBy);

    public static ArtifactVersionDto ToDto(this ArtifactVersion v)
    {
        using var metadata = JsonDocument.Parse(v.Metadata);
        return new ArtifactVersionDto(v.Id.ToString(CultureInfo.InvariantCulture), v.Project, v.Name, v.Version, v.Type,
            v.Kind.ToString().ToLowerInvariant(), v.Digest, v.Size, StorageUri(v), metadata.RootElement.Clone(), v.Description,
            new Dictionary<string, string>(v.Tags), v.Aliases.ToList(), v.ProducerRunId, v.Lifecycle.ToString().ToLowerInvariant(),
            v.CreatedAt, v.CreatedBy, v.FileCount, v.UpdatedAt, v.UpdatedBy);
    }

    /// <summary>Where the bytes are: the external URI, or the content-addressed blob (file) or manifest (directory).</summary>
    public static string StorageUri(ArtifactVersion v) => v.Kind switch
    {
        ArtifactKind.External => v.ExternalUri!,
        ArtifactKind.Directory => $"lineage://artifacts/{v.Project}/{v.Name}/{v.Version}/manifest/sha256:{v.Digest}",
        _ => $"lineage://blobs/sha256:{v.Digest}",
    };

    public static ExecutionDto ToDto(this Core.Lineage.Execution e)
    {
        using var properties = JsonDocument.Parse(e.Properties);
        return new ExecutionDto(e.Id.ToString(CultureInfo.InvariantCulture), e.Project, e.Type, e.Name, e.State.ToString().ToUpperInvariant(),
            e.StartTime, e.EndTime, properties.RootElement.Clone(), e.RunId, e.CreatedAt, e.Provenance?.CreatedBy, e.Provenance?.UpdatedAt, e.Provenance?.UpdatedBy);
    }

    public static ContextDto ToDto(this Core.Lineage.Context c)
    {
        using var properties = JsonDocument.Parse(c.Properties);
        return new ContextDto(c.Id.ToString(CultureInfo.InvariantCulture), c.Project, c.Type, c.Name,
            c.ParentId?.ToString(CultureInfo.InvariantCulture), properties.RootElement.Clone(), c.CreatedAt,
            c.Provenance?.CreatedBy, c.Provenance?.UpdatedAt, c.Provenance?.UpdatedBy);
    }

    public static string Text(Lifecycle lifecycle) => lifecycle == Lifecycle.Deleted ? "deleted" : "active";
}
