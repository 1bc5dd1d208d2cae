namespace Lineage.Core.Tracking;

/// <summary>
/// A dataset a run consumed, as MLflow describes it. Stored as an artifact version of type
/// <c>dataset</c> (the lineage node) plus an input edge whose role is the context
/// (<c>training</c>, <c>evaluation</c>…); <see cref="Tags"/> includes <c>mlflow.data.context</c>.
/// </summary>
public sealed record DatasetInput(
    string Name,
    string Digest,
    string SourceType,
    string Source,
    string? Schema,
    string? Profile,
    IReadOnlyList<KeyValue> Tags);

/// <summary>A run with what MLflow clients also read: its artifact URI and dataset inputs.</summary>
public sealed record RunView(Run Run, string ArtifactUri, IReadOnlyList<DatasetInput> Inputs);

/// <summary>An experiment with its artifact location (<c>mlflow-artifacts:/&lt;id&gt;</c> unless set at creation).</summary>
public sealed record ExperimentView(Experiment Experiment, string ArtifactLocation);

/// <summary>One entry of an artifact folder listing: a file with its size, or a folder.</summary>
public sealed record FolderEntry(string Name, bool IsDir, long? Size);
