using System.Globalization;
using System.Text.Json;
using Lineage.Core.Artifacts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Registry;
using Lineage.Storage.Registry;

namespace Lineage.Server.V1;

/// <summary>Registry, deployment, dataset and feature records → native wire DTOs, and request parts → store inputs.</summary>
public static class RegistryMapping
{
    public static RegisteredModelDto ToDto(this RegisteredModel m) => new(m.Project, m.Name, m.Description, m.LatestVersion,
        new Dictionary<string, string>(m.Tags), new Dictionary<string, long>(m.Aliases), m.Approvers.ToList(), m.CreatedAt, m.CreatedBy, m.UpdatedAt,
        m.UpdatedBy);

    public static ModelVersionDto ToDto(this ModelVersion v) => new(v.Project, v.Model, v.Version, RegistryRules.StatusText(v.Status), v.StatusMessage,
        RegistryRules.StageText(v.Stage), v.Description, v.Artifact.ToDto(), v.RunId, new Dictionary<string, string>(v.Tags), v.Aliases.ToList(),
        v.FeatureSet?.ToDto(), v.InputFeatures.Select(f => new FeatureSpecDto(f.Name, f.Dtype, f.Shape.ToList())).ToList(), v.CreatedAt, v.CreatedBy,
        v.UpdatedAt, v.UpdatedBy);

    public static RegistryChangeDto ToDto(this RegistryChange c) => new(Id(c.Id), c.Kind, c.Name, c.Version, c.OldValue, c.NewValue, c.ChangedAt,
        c.ChangedBy, c.RequestId is { } r ? Id(r) : null);

    public static PromotionDto ToDto(this PromotionRequest p) => new(Id(p.Id), p.Project, p.Model, p.Version, p.Kind, p.Target, p.ArchiveExisting,
        RegistryRules.PromotionText(p.Status), p.Comment, p.RequestedAt, p.RequestedBy, p.DecidedAt, p.DecidedBy, p.DecisionComment);

    public static DeploymentDto ToDto(this Deployment d)
    {
        using var config = JsonDocument.Parse(d.Config);
        return new DeploymentDto(Id(d.Id), d.Project, d.Environment, d.Model, d.Version, d.EndpointUrl, config.RootElement.Clone(),
            RegistryRules.DeploymentText(d.Status), d.RollbackOf is { } r ? Id(r) : null, d.ExecutionId is { } e ? Id(e) : null, d.CreatedAt, d.CreatedBy,
            d.UpdatedAt, d.Events.Select(x => new DeploymentEventDto(RegistryRules.DeploymentText(x.Status), x.Reason, x.At, x.Actor)).ToList(), d.UpdatedBy);
    }

    public static EnvironmentStatsDto ToDto(this EnvironmentStats s) =>
        new(s.Project, s.Environment, s.Deployments, s.Succeeded, s.Failed, s.Rollbacks, s.SuccessRate);

    public static ColumnSpecDto ToDto(this ColumnSpec c) => new(c.Name, c.Dtype, c.Nullable);

    public static DatasetSchemaDto ToDto(this DatasetSchema s) =>
        new(s.Project, s.Name, s.Version, s.Columns.Select(c => c.ToDto()).ToList(), s.CreatedAt, s.CreatedBy);

    public static ColumnProfileDto ToDto(this ColumnProfile p) => new(p.MissingPct, p.Min, p.Max, p.Mean, p.DistinctCount,
        p.Histogram is { } h ? new ColumnHistogramDto(h.Edges.ToList(), h.Counts.ToList()) : null,
        p.Quantiles is { } q ? new ColumnQuantilesDto(q.Probabilities.ToList(), q.Values.ToList()) : null,
        p.Frequencies?.ToDictionary(f => f.Key, f => f.Value));

    /// <summary>Missing lists become empty ones, which the store's profile check refuses with the field's name.</summary>
    public static ColumnProfile ToProfile(this ColumnProfileDto p) => new(p.MissingPct, p.Min, p.Max, p.Mean, p.DistinctCount,
        p.Histogram is { } h ? new ColumnHistogram(h.Edges ?? [], h.Counts ?? []) : null,
        p.Quantiles is { } q ? new ColumnQuantiles(q.Probabilities ?? [], q.Values ?? []) : null,
        p.Frequencies);

    public static DatasetVersionDto ToDto(this DatasetVersion d) => new(d.Artifact.ToDto(),
        d.Facts is { } f
            ? new DatasetFactsDto(new DatasetSourceDto(f.SourceUri, f.SourceSystem, f.IngestedAt), f.SchemaName is null ? null : $"{f.SchemaName}@{f.SchemaVersion}",
                f.Columns.Select(c => c.ToDto()).ToList(), f.RowCount,
                f.Profile.ToDictionary(p => p.Key, p => p.Value.ToDto()),
                f.CreatedAt, f.CreatedBy)
            : null,
        d.Validations.Select(v => new ValidationCheckDto(v.Name, v.Passed, v.Details, v.RunAt, v.RunBy)).ToList());

    public static FeatureSetDto ToDto(this FeatureSet f) => new(f.Artifact.ToDto(),
        f.Features.Select(x => new FeatureDefinitionDto(x.Name, x.Dtype, x.Shape.ToList(), x.Description, x.Transformation, x.Owner)).ToList(),
        f.DerivedFrom.Select(a => a.ToDto()).ToList());

    public static DigestCheckDto ToDto(this DigestCheck c) => new(c.Project, c.Name, c.Version, c.Digest, c.Status, c.Detail);

    /// <summary>An artifact reference in a request: id, or name with an optional version (number, alias, latest).</summary>
    public static ArtifactPointer? Pointer(ArtifactRefDto? r, string field)
    {
        if (r is null) return null;
        if (r.Id is not null)
            return long.TryParse(r.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? new ArtifactPointer(id, null, null, default, field)
                : throw LineageException.Invalid(field + ".id", $"'{field}.id' value '{r.Id}' is not an id");
        if (r.Name is null) throw LineageException.Invalid(field, $"'{field}' needs 'id', or 'name' with an optional 'version'");
        return new ArtifactPointer(null, r.Project, r.Name, ArtifactRules.Ref(r.Version, field + ".version"), field);
    }

    public static IReadOnlyList<int> Shape(List<int>? shape) => shape ?? [];

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
