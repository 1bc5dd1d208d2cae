using System.Globalization;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;

namespace Lineage.Client;

public sealed partial class LineageClient
{
    /// <summary>
    /// Starts a lineage execution (a pipeline step) that consumed <paramref name="inputs"/>. Use with
    /// <c>await using</c>: outputs added with <c>ActiveExecution.AddOutput</c> are recorded and the
    /// execution closes COMPLETE, or FAILED when an exception leaves the block.
    /// </summary>
    public Task<ActiveExecution> StartExecutionAsync(string type, IEnumerable<ArtifactRefDto>? inputs = null, string? name = null,
        string? project = null, object? properties = null, CancellationToken ct = default)
    {
        // Not async on purpose: the failure scope must land on the caller's flow (see FailureTracker).
        var scope = FailureTracker.Enter();
        return StartExecutionCoreAsync(type, inputs, name, project, properties, scope, ct);
    }

    private async Task<ActiveExecution> StartExecutionCoreAsync(string type, IEnumerable<ArtifactRefDto>? inputs, string? name, string? project,
        object? properties, FailureTracker.Scope scope, CancellationToken ct)
    {
        var request = new CreateExecutionRequest(type, name ?? type, project, "RUNNING", properties is null ? null : ToJsonElement(properties),
            inputs?.Select(i => new EventRequest(i, "input")).ToList());
        var execution = await SendAsync(HttpMethod.Post, "api/v1/executions", Json(request, LineageJson.Default.CreateExecutionRequest),
            LineageJson.Default.ExecutionDto, Guid.NewGuid().ToString("N"), ct);
        scope.Pending = null;
        return new ActiveExecution(this, execution, scope);
    }

    public Task<ExecutionDto> GetExecutionAsync(string executionId, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/executions/{Esc(executionId)}", null, LineageJson.Default.ExecutionDto, ct: ct);

    /// <summary>One page of a project's executions (newest first; every project's the caller can read when <paramref name="project"/> is null), optionally of one type.</summary>
    public Task<ExecutionListResponse> ListExecutionsAsync(string? project = null, string? type = null, int? limit = null, string? pageToken = null,
        CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/executions" + QueryString(("project", project), ("type", type),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("pageToken", pageToken)), null, LineageJson.Default.ExecutionListResponse, ct: ct);

    /// <summary>Creates an execution with its inputs and outputs in one write; with an idempotency key a retry is applied once.</summary>
    public Task<ExecutionDto> CreateExecutionAsync(CreateExecutionRequest request, string? idempotencyKey = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/executions", Json(request, LineageJson.Default.CreateExecutionRequest), LineageJson.Default.ExecutionDto,
            idempotencyKey, ct);

    public Task<ExecutionDto> AddEventsAsync(string executionId, AddEventsRequest events, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/executions/{Esc(executionId)}/events", Json(events, LineageJson.Default.AddEventsRequest),
            LineageJson.Default.ExecutionDto, ct: ct);

    public Task<ExecutionDto> UpdateExecutionAsync(string executionId, string state, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Patch, $"api/v1/executions/{Esc(executionId)}", Json(new UpdateExecutionRequest(state), LineageJson.Default.UpdateExecutionRequest),
            LineageJson.Default.ExecutionDto, ct: ct);

    /// <summary>Records that a run consumed an artifact version (a dataset input, a config, code).</summary>
    public Task<ExecutionDto> LogRunInputAsync(string runId, ArtifactRefDto artifact, string role = "input", CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/runs/{Esc(runId)}/inputs", Json(new EventRequest(artifact, role), LineageJson.Default.EventRequest),
            LineageJson.Default.ExecutionDto, ct: ct);

    /// <param name="node">artifact:&lt;name&gt;@&lt;version&gt;, artifact:&lt;id&gt;, execution:&lt;id&gt; or run:&lt;run id&gt;.</param>
    /// <param name="direction">upstream, downstream or both.</param>
    public Task<GraphResponse> GetLineageAsync(string node, string direction = "both", int depth = 20, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/lineage/graph" + QueryString(("node", node), ("direction", direction),
            ("depth", depth.ToString(CultureInfo.InvariantCulture))), null, LineageJson.Default.GraphResponse, ct: ct);

    /// <summary>The graph as Graphviz DOT or Mermaid text (<paramref name="format"/> = dot | mermaid).</summary>
    public async Task<string> ExportLineageAsync(string node, string format, string direction = "both", int depth = 20, CancellationToken ct = default)
    {
        using var response = await SendRawAsync(HttpMethod.Get, "api/v1/lineage/graph" + QueryString(("node", node), ("direction", direction),
            ("depth", depth.ToString(CultureInfo.InvariantCulture)), ("format", format)), null, null, ct);
        return await response.Content.ReadAsStringAsync(ct);
    }

    public Task<GraphResponse> GetLineagePathAsync(string from, string to, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/lineage/path" + QueryString(("from", from), ("to", to)), null, LineageJson.Default.GraphResponse, ct: ct);

    /// <param name="artifact">&lt;name&gt;@&lt;version&gt; or an artifact version id.</param>
    public Task<ImpactResponse> GetImpactAsync(string artifact, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/lineage/impact" + QueryString(("artifact", artifact)), null, LineageJson.Default.ImpactResponse, ct: ct);

    /// <param name="artifact">&lt;name&gt;@&lt;version&gt; or an artifact version id.</param>
    public Task<ProvenanceResponse> GetProvenanceAsync(string artifact, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/lineage/provenance" + QueryString(("artifact", artifact)), null, LineageJson.Default.ProvenanceResponse, ct: ct);
}
