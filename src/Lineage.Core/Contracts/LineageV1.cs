using System.Text.Json;

// Wire contracts for the lineage graph in the native API /api/v1.
namespace Lineage.Core.Contracts.V1;

public sealed record ExecutionDto(string Id, string Project, string Type, string Name, string State, long? StartTime, long? EndTime,
    JsonElement Properties, string? RunId, long CreatedAt, string? CreatedBy = null, long? UpdatedAt = null, string? UpdatedBy = null);

/// <summary>An artifact version by id, or by name and version (number, "latest" or alias).</summary>
public sealed record ArtifactRefDto(string? Id = null, string? Name = null, string? Version = null, string? Project = null);

public sealed record EventRequest(ArtifactRefDto? Artifact, string? Role);

public sealed record CreateExecutionRequest(string? Type, string? Name, string? Project = null, string? State = null, JsonElement? Properties = null,
    List<EventRequest>? Inputs = null, List<EventRequest>? Outputs = null, List<string>? Contexts = null);

public sealed record UpdateExecutionRequest(string? State);

public sealed record AddEventsRequest(List<EventRequest>? Inputs = null, List<EventRequest>? Outputs = null);

public sealed record ExecutionListResponse(List<ExecutionDto> Executions, string? NextPageToken);

public sealed record ContextDto(string Id, string Project, string Type, string Name, string? ParentId, JsonElement Properties, long CreatedAt,
    string? CreatedBy = null, long? UpdatedAt = null, string? UpdatedBy = null);

public sealed record ContextListResponse(List<ContextDto> Contexts, string? NextPageToken);

public sealed record CreateContextRequest(string? Type, string? Name, string? Project = null, string? ParentId = null, JsonElement? Properties = null);

public sealed record ContextMembersRequest(List<string>? Executions = null, List<ArtifactRefDto>? Artifacts = null);

public sealed record ContextMembersResponse(ContextDto Context, List<ExecutionDto> Executions, List<ArtifactVersionDto> Artifacts);

/// <param name="Project">The project the node belongs to: a walk may cross into other projects the caller can read.</param>
public sealed record GraphNodeDto(string Id, string Kind, string Label, string Type, int Depth, string? State = null, string? RunId = null, string? Project = null);

public sealed record GraphEdgeDto(string From, string To, string Role);

public sealed record GraphResponse(string Root, List<GraphNodeDto> Nodes, List<GraphEdgeDto> Edges);

public sealed record ImpactResponse(string Root, List<ArtifactVersionDto> ModelVersions, List<string> Runs, List<ArtifactVersionDto> Artifacts,
    List<ExecutionDto> Executions);

public sealed record ProvenanceResponse(string Root, List<ArtifactVersionDto> Datasets, List<ArtifactVersionDto> Code, List<ArtifactVersionDto> OtherArtifacts,
    List<ExecutionDto> Executions, Dictionary<string, Dictionary<string, string>> RunParams);

/// <summary>What an OpenLineage event became: the execution and the artifact versions linked as inputs and outputs.</summary>
/// <param name="Repeat">The server had this event already (same run, type and time) and changed nothing.</param>
public sealed record OpenLineageIngestResponse(string ExecutionId, List<string> InputArtifactIds, List<string> OutputArtifactIds, bool Repeat = false);

/// <summary>One event's outcome in a batch (<c>POST /api/v1/lineage/batch</c>); results come in the order of the events.</summary>
/// <param name="Index">The event's position in the batch, from 0 (NDJSON: blank lines are not counted).</param>
/// <param name="Status"><c>accepted</c> (stored now), <c>repeat</c> (stored before: nothing changed) or <c>error</c> (this event alone was rejected).</param>
/// <param name="Error">Why the event was rejected: the error a single <c>POST /api/v1/lineage</c> of it would have answered.</param>
public sealed record OpenLineageBatchResult(int Index, string Status, string? ExecutionId = null, List<string>? InputArtifactIds = null,
    List<string>? OutputArtifactIds = null, ErrorResponse? Error = null);

/// <summary>The answer to a batch of OpenLineage events: counts, then one result per event in input order.</summary>
public sealed record OpenLineageBatchResponse(int Accepted, int Repeats, int Errors, List<OpenLineageBatchResult> Results);
