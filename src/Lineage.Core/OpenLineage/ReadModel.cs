namespace Lineage.Core.OpenLineage;

// What the store reads back of OpenLineage-ingested jobs and datasets, for the Marquez-shaped API.
// Facets are raw JSON objects, verbatim as ingested.

/// <summary>A job (namespace, name) with every run of it seen: the datasets any run read or wrote.</summary>
public sealed record OlJobView(string Namespace, string Name, string Type, long CreatedAt, long UpdatedAt, int RunCount,
    IReadOnlyList<OlDatasetId> Inputs, IReadOnlyList<OlDatasetId> Outputs, string JobFacets, OlRunView? LatestRun);

/// <summary>One OpenLineage run: its execution's state and times and the dataset versions it linked.</summary>
public sealed record OlRunView(Guid RunId, long ExecutionId, string State, long CreatedAt, long UpdatedAt, long? StartedAt, long? EndedAt,
    string RunFacets, IReadOnlyList<OlDatasetVersionId> Inputs, IReadOnlyList<OlDatasetVersionId> Outputs);

/// <summary>A dataset with its newest version's facets.</summary>
public sealed record OlDatasetView(string Namespace, string Name, string ArtifactName, int CurrentVersion, long CreatedAt, long UpdatedAt,
    long? LastModifiedAt, string Facets);

public sealed record OlDatasetId(string Namespace, string Name);

public sealed record OlDatasetVersionId(string Namespace, string Name, int Version);

public sealed record OlNamespaceView(string Name, long CreatedAt, long UpdatedAt);

public enum OlNodeKind { Job, Dataset }

/// <summary>A node of the job/dataset graph: a job (all its runs) or a dataset (all its versions).</summary>
public sealed record OlNode(OlNodeKind Kind, string Namespace, string Name)
{
    /// <summary>Marquez's node id: <c>job:namespace:name</c> or <c>dataset:namespace:name</c>.</summary>
    public string Id => $"{(Kind == OlNodeKind.Job ? "job" : "dataset")}:{Namespace}:{Name}";
}

/// <summary>A directed edge: dataset → job for an input, job → dataset for an output.</summary>
public sealed record OlEdge(OlNode Origin, OlNode Destination);

public sealed record OlGraph(IReadOnlyList<OlNode> Nodes, IReadOnlyList<OlEdge> Edges, IReadOnlyDictionary<OlNode, OlJobView> Jobs,
    IReadOnlyDictionary<OlNode, OlDatasetView> Datasets);
