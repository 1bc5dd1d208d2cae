using System.Globalization;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;

namespace Lineage.Server.MLflow;

/// <summary>Store records → MLflow wire DTOs, and MLflow's spellings of ids and states.</summary>
internal static class MlflowViews
{
    public static MlExperiment ToMl(this ExperimentView v) => new(
        v.Experiment.Id.ToString(CultureInfo.InvariantCulture), v.Experiment.Name, v.ArtifactLocation,
        v.Experiment.Lifecycle == Lifecycle.Deleted ? "deleted" : "active", v.Experiment.UpdatedAt, v.Experiment.CreatedAt,
        NullIfEmpty(v.Experiment.Tags.Select(t => new MlTag(t.Key, t.Value))));

    public static MlRunInfo Info(this RunView v)
    {
        var i = v.Run.Info;
        return new MlRunInfo(i.RunId, i.ExperimentId.ToString(CultureInfo.InvariantCulture), i.Name ?? "", i.User ?? "",
            StatusName(i.Status), i.StartTime, i.EndTime, v.ArtifactUri,
            i.Lifecycle == Lifecycle.Deleted ? "deleted" : "active", i.RunId);
    }

    public static MlRun ToMl(this RunView v, bool withInputs = true) => new(
        v.Info(),
        new MlRunData(
            NullIfEmpty(v.Run.LatestMetrics.Select(m => new MlMetric(m.Key, m.Value, m.Timestamp, m.Step))),
            NullIfEmpty(v.Run.Params.Select(p => new MlTag(p.Key, p.Value))),
            NullIfEmpty(v.Run.Tags.Select(t => new MlTag(t.Key, t.Value)))),
        withInputs
            ? new MlRunInputs(NullIfEmpty(v.Inputs.Select(d => new MlDatasetInput(
                NullIfEmpty(d.Tags.Select(t => new MlTag(t.Key, t.Value))),
                new MlDataset(d.Name, d.Digest, d.SourceType, d.Source, d.Schema, d.Profile)))))
            : null);

    /// <summary>MLflow's spelling of a run status: the name in capitals (RUNNING, FINISHED…).</summary>
    public static string StatusName(RunStatus status) => status switch
    {
        RunStatus.Running => "RUNNING",
        RunStatus.Scheduled => "SCHEDULED",
        RunStatus.Finished => "FINISHED",
        RunStatus.Failed => "FAILED",
        RunStatus.Killed => "KILLED",
        _ => status.ToString().ToUpperInvariant(),
    };

    public static List<T>? NullIfEmpty<T>(IEnumerable<T> items)
    {
        var list = items.ToList();
        return list.Count == 0 ? null : list;
    }

    /// <summary>MLflow answers an id that is not a number like a missing one: 404.</summary>
    public static long ExperimentId(string? text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw LineageException.NotFound($"No Experiment with id={text} exists");

    public static RunStatus? Status(string? text) =>
        string.IsNullOrEmpty(text) ? null : Validate.RunStatus(text, "status");
}
