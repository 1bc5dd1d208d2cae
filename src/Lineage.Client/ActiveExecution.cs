using Lineage.Core.Contracts.V1;

namespace Lineage.Client;

/// <summary>
/// A running pipeline step. Outputs added with <c>AddOutput</c> are recorded when the step
/// ends; disposing ends it COMPLETE, or FAILED when an exception left the <c>await using</c> block.
/// </summary>
public sealed class ActiveExecution : IAsyncDisposable
{
    private readonly LineageClient _client;
    private readonly FailureTracker.Scope _scope;
    private readonly List<EventRequest> _outputs = [];
    private bool _ended;

    internal ActiveExecution(LineageClient client, ExecutionDto execution, FailureTracker.Scope scope)
    {
        _client = client;
        _scope = scope;
        Info = execution;
    }

    public ExecutionDto Info { get; }

    public string Id => Info.Id;

    /// <summary>Records that this step produced an artifact version (sent when the step ends).</summary>
    public void AddOutput(ArtifactVersionDto artifact, string role = "output") => AddOutput(new ArtifactRefDto(Id: artifact.Id), role);

    public void AddOutput(ArtifactRefDto artifact, string role = "output")
    {
        lock (_outputs) _outputs.Add(new EventRequest(artifact, role));
        _scope.Pending = null;
    }

    /// <summary>Records the outputs and ends the step with <paramref name="state"/> (COMPLETE by default).</summary>
    public async Task EndAsync(string state = "COMPLETE", CancellationToken ct = default)
    {
        if (_ended) return;
        _scope.Closed = true;
        List<EventRequest> outputs;
        lock (_outputs) outputs = [.. _outputs];
        if (outputs.Count > 0) await _client.AddEventsAsync(Id, new AddEventsRequest(Outputs: outputs), ct);
        await _client.UpdateExecutionAsync(Id, state, ct);
        _ended = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_ended) return;
        var failed = _scope.Pending is not null;
        await EndAsync(failed ? "FAILED" : "COMPLETE");
    }
}
