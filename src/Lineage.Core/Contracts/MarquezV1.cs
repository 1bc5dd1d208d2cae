using System.Text.Json;
using System.Text.Json.Serialization;

// Marquez's read API shapes (namespaces, jobs, runs, datasets, lineage), so tools built for
// Marquez can read what OpenLineage clients sent to Lineage. Field names and value sets follow
// Marquez's JSON; nulls are written, as Marquez writes them.
namespace Lineage.Core.Contracts.Marquez;

public sealed record MqNamespace(string Name, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string OwnerName, string? Description, bool IsHidden);

public sealed record MqNamespaceList(List<MqNamespace> Namespaces);

public sealed record MqId(string Namespace, string Name);

public sealed record MqDatasetVersionId(string Namespace, string Name, string Version);

public sealed record MqDatasetVersionRef(MqDatasetVersionId DatasetVersionId, JsonElement Facets);

public sealed record MqRun(string Id, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? NominalStartTime, DateTimeOffset? NominalEndTime,
    string State, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, long? DurationMs, Dictionary<string, string> Args,
    List<MqDatasetVersionRef> InputDatasetVersions, List<MqDatasetVersionRef> OutputDatasetVersions, JsonElement Facets);

public sealed record MqJob(MqId Id, string Type, string Name, string SimpleName, string? ParentJobName, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    string Namespace, List<MqId> Inputs, List<MqId> Outputs, string? Location, string? Description, MqRun? LatestRun, JsonElement Facets);

public sealed record MqField(string Name, string? Type, List<string> Tags, string? Description);

public sealed record MqDataset(MqId Id, string Type, string Name, string PhysicalName, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string Namespace,
    string SourceName, List<MqField> Fields, List<string> Tags, DateTimeOffset? LastModifiedAt, string? LastLifecycleState, string? Description,
    string CurrentVersion, JsonElement Facets, bool Deleted);

public sealed record MqJobList(List<MqJob> Jobs, int TotalCount);

public sealed record MqRunList(List<MqRun> Runs, int TotalCount);

public sealed record MqDatasetList(List<MqDataset> Datasets, int TotalCount);

public sealed record MqEdge(string Origin, string Destination);

/// <summary>A graph node: <c>type</c> JOB or DATASET, <c>data</c> the job or dataset as its own endpoint returns it.</summary>
public sealed record MqNode(string Id, string Type, JsonElement Data, List<MqEdge> InEdges, List<MqEdge> OutEdges);

public sealed record MqLineage(List<MqNode> Graph);

/// <summary><c>GET /api/v1/events/lineage</c>: raw OpenLineage events (each as received) and how many the time window holds.</summary>
public sealed record MqEventList(List<JsonElement> Events, int TotalCount);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(MqNamespace))]
[JsonSerializable(typeof(MqNamespaceList))]
[JsonSerializable(typeof(MqJob))]
[JsonSerializable(typeof(MqJobList))]
[JsonSerializable(typeof(MqRun))]
[JsonSerializable(typeof(MqRunList))]
[JsonSerializable(typeof(MqDataset))]
[JsonSerializable(typeof(MqDatasetList))]
[JsonSerializable(typeof(MqLineage))]
[JsonSerializable(typeof(MqEventList))]
public sealed partial class MarquezJson : JsonSerializerContext;
