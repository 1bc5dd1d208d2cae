using Lineage.Core.Query;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Query;

/// <summary>
/// Runs and experiments as the search and MLflow surfaces show them (with artifact locations and dataset inputs),
/// read inside the caller's transaction: a write can answer with the view of what it wrote, in the same snapshot.
/// </summary>
internal static class ViewAccess
{
    public static async Task<IReadOnlyList<RunView>> RunViewsAsync(DbSession s, IReadOnlyList<RunRow> rows)
    {
        if (rows.Count == 0) return [];
        var runs = await RunAccess.LoadAsync(s, rows);
        var ids = rows.Select(r => r.Id).ToArray();
        var locations = await ExperimentAccess.LocationsAsync(s, rows.Select(r => r.ExperimentId).Distinct().ToArray());
        var inputs = await DatasetInputAccess.OfRunsAsync(s, ids);
        return rows.Select((r, i) => new RunView(runs[i], $"{locations[r.ExperimentId]}/{r.Uuid}/artifacts",
            inputs.TryGetValue(r.Id, out var list) ? list : [])).ToList();
    }

    public static async Task<IReadOnlyList<ExperimentView>> ExperimentViewsAsync(DbSession s, IReadOnlyList<ExperimentRow> rows)
    {
        var ids = rows.Select(r => r.Id).ToArray();
        var tags = await ExperimentAccess.TagsAsync(s, ids);
        var locations = await ExperimentAccess.LocationsAsync(s, ids);
        return rows.Select(r => new ExperimentView(r.ToModel(tags[r.Id]), locations[r.Id])).ToList();
    }
}
