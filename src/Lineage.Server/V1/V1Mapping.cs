using System.Globalization;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Tracking;

namespace Lineage.Server.V1;

/// <summary>Store records → native wire DTOs.</summary>
public static class V1Mapping
{
    public static ProjectDto ToDto(this Project p) => new(p.Name, p.Description, p.CreatedAt);

    public static ExperimentDto ToDto(this Experiment e) => new(
        e.Id.ToString(CultureInfo.InvariantCulture), e.Project, e.Name, e.Description, Text(e.Lifecycle),
        e.CreatedAt, e.UpdatedAt, new Dictionary<string, string>(e.Tags));

    public static RunDto ToDto(this Run r) => new(
        r.Info.RunId, r.Info.ExperimentId.ToString(CultureInfo.InvariantCulture), r.Info.Name,
        r.Info.Status.ToString().ToUpperInvariant(), r.Info.StartTime, r.Info.EndTime, r.Info.User, r.Info.ParentRunId,
        Text(r.Info.Lifecycle), new Dictionary<string, string>(r.Params), new Dictionary<string, string>(r.Tags),
        r.LatestMetrics.Select(m => new MetricDto(m.Key, m.Value, m.Step, m.Timestamp)).ToList());

    public static string Text(Lifecycle lifecycle) => lifecycle == Lifecycle.Deleted ? "deleted" : "active";
}
