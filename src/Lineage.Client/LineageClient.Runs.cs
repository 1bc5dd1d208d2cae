using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;

namespace Lineage.Client;

public sealed partial class LineageClient
{
    /// <summary>
    /// Starts a run in the experiment named <paramref name="experiment"/> (created when missing)
    /// and records where it runs (git, host, OS, runtime, command, user: see <see cref="RunEnvironment"/>).
    /// Use with <c>await using</c>: the run ends FINISHED, or FAILED when an exception leaves the block.
    /// </summary>
    /// <example><code>
    /// await using var run = await client.StartRunAsync("churn-model");
    /// run.LogParam("lr", "0.01");
    /// for (var step = 0; step &lt; 100; step++) run.LogMetric("loss", Train(step), step);
    /// </code></example>
    public Task<ActiveRun> StartRunAsync(string experiment, string? runName = null, IDictionary<string, string>? tags = null,
        string? parentRunId = null, string? project = null, bool byId = false, CancellationToken ct = default)
    {
        // Not async on purpose: the failure scope must be set on the caller's flow (see FailureTracker).
        var scope = FailureTracker.Enter();
        return StartRunCoreAsync(experiment, runName, tags, parentRunId, project, byId, scope, ct);
    }

    private async Task<ActiveRun> StartRunCoreAsync(string experiment, string? runName, IDictionary<string, string>? tags,
        string? parentRunId, string? project, bool byId, FailureTracker.Scope scope, CancellationToken ct)
    {
        var experimentId = byId ? experiment : (await GetOrCreateExperimentAsync(experiment, project, ct)).Id;
        var allTags = RunEnvironment.Capture();
        foreach (var (key, value) in tags ?? new Dictionary<string, string>()) allTags[key] = value;
        var run = await CreateRunAsync(new CreateRunRequest(experimentId, runName, null, Environment.UserName, parentRunId, null, allTags),
            Guid.NewGuid().ToString("N"), ct);
        scope.Pending = null; // exceptions handled while starting are not the run's
        return new ActiveRun(this, run, scope);
    }

    /// <summary>The experiment with this name, created when missing (safe against concurrent creators).</summary>
    public async Task<ExperimentDto> GetOrCreateExperimentAsync(string name, string? project = null, CancellationToken ct = default)
    {
        try
        {
            return await GetExperimentByNameAsync(name, project, ct);
        }
        catch (LineageApiException ex) when (ex.Code == ErrorCode.ResourceDoesNotExist && ex.Field is null)
        {
        }
        try
        {
            return await CreateExperimentAsync(name, project, ct: ct);
        }
        catch (LineageApiException ex) when (ex.Code == ErrorCode.ResourceAlreadyExists)
        {
            return await GetExperimentByNameAsync(name, project, ct);
        }
    }
}
