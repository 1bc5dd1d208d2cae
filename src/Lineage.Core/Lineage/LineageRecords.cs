using Lineage.Core.Tracking;

namespace Lineage.Core.Lineage;

public enum ExecutionState { New, Running, Complete, Failed, Cached, Canceled }

public enum EventKind { Input, Output }

public enum NodeKind { Artifact, Execution }

/// <summary>A step of work. A tracking run is an execution too (<see cref="RunId"/> set), with its state taken from the run.</summary>
public sealed record Execution(
    long Id,
    string Project,
    string Type,
    string Name,
    ExecutionState State,
    long? StartTime,
    long? EndTime,
    string Properties,
    string? RunId,
    long CreatedAt)
{
    public Provenance? Provenance { get; init; }
}

/// <summary>An immutable edge: an execution consumed (input) or produced (output) an artifact version, in a role.</summary>
public sealed record LineageEvent(long ExecutionId, long ArtifactId, EventKind Kind, string Role, long Time);

public sealed record Context(long Id, string Project, string Type, string Name, long? ParentId, string Properties, long CreatedAt)
{
    public Provenance? Provenance { get; init; }
}

/// <summary>A node of the lineage graph: an artifact version or an execution.</summary>
public readonly record struct NodeId(NodeKind Kind, long Id)
{
    public override string ToString() => $"{(Kind == NodeKind.Artifact ? "artifact" : "execution")}:{Id}";
}

/// <summary>A directed edge of the graph: artifact → execution (input) or execution → artifact (output).</summary>
public sealed record GraphEdge(NodeId From, NodeId To, string Role);

/// <summary>A graph node with what a reader needs to label it.</summary>
public sealed record GraphNode(NodeId Id, string Label, string Type, int Depth, string? State = null, string? RunId = null, string? Project = null);

public sealed record LineageGraph(NodeId Root, IReadOnlyList<GraphNode> Nodes, IReadOnlyList<GraphEdge> Edges);

public enum Direction { Upstream, Downstream, Both }

public sealed record GraphQuery(NodeId Root, Direction Direction = Direction.Both, int MaxDepth = 20,
    IReadOnlyCollection<string>? ArtifactTypes = null, IReadOnlyCollection<string>? ExecutionTypes = null);
