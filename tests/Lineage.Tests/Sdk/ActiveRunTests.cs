using System.Diagnostics;
using Lineage.Client;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Tests.Support;

namespace Lineage.Tests.Sdk;

/// <summary>The SDK against a real server over loopback.</summary>
public sealed class ActiveRunTests : IAsyncLifetime
{
    private TestServer _server = null!;

    private LineageClient Client => _server.Client;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task a_run_used_with_await_using_ends_finished_with_everything_delivered_and_environment_captured()
    {
        string runId;
        await using (var run = await Client.StartRunAsync("sdk-happy", "first"))
        {
            runId = run.RunId;
            run.LogParam("lr", "0.01");
            run.SetTag("stage", "dev");
            for (var step = 0; step < 100; step++) run.LogMetric("loss", 1.0 / (step + 1), step);
        }
        var stored = await Client.GetRunAsync(runId);
        Assert.Equal("FINISHED", stored.Status);
        Assert.NotNull(stored.EndTime);
        Assert.Equal("0.01", stored.Params["lr"]);
        Assert.Equal("dev", stored.Tags["stage"]);
        Assert.Equal(Environment.MachineName, stored.Tags[RunEnvironment.Host]);
        Assert.Equal(Environment.UserName, stored.Tags[RunEnvironment.User]);
        Assert.Equal(Environment.UserName, stored.User);
        Assert.Contains(".NET", stored.Tags[RunEnvironment.Runtime]);
        Assert.False(string.IsNullOrEmpty(stored.Tags[RunEnvironment.Command]));
        Assert.Equal(100, (await Client.GetFullMetricHistoryAsync(runId, "loss")).Count);
        Assert.Equal("sdk-happy", (await Client.GetExperimentAsync(stored.ExperimentId)).Name);
    }

    [Fact]
    public async Task an_exception_leaving_the_block_marks_the_run_failed_and_still_delivers_what_was_logged()
    {
        string? runId = null;
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var run = await Client.StartRunAsync("sdk-failing");
            runId = run.RunId;
            run.LogMetric("loss", 0.5, 0);
            await Task.Yield();
            throw new InvalidOperationException("training diverged");
        });
        var stored = await Client.GetRunAsync(runId!);
        Assert.Equal("FAILED", stored.Status);
        Assert.Single(await Client.GetFullMetricHistoryAsync(runId!, "loss"));
    }

    [Fact]
    public async Task an_exception_thrown_in_an_awaited_helper_marks_the_run_failed()
    {
        string? runId = null;
        static async Task TrainAsync()
        {
            await Task.Delay(1);
            throw new ArgumentException("bad shape");
        }
        await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await using var run = await Client.StartRunAsync("sdk-failing-deep");
            runId = run.RunId;
            await TrainAsync();
        });
        Assert.Equal("FAILED", (await Client.GetRunAsync(runId!)).Status);
    }

    [Fact]
    public async Task an_exception_handled_inside_the_block_does_not_fail_the_run()
    {
        string runId;
        await using (var run = await Client.StartRunAsync("sdk-handled"))
        {
            runId = run.RunId;
            try
            {
                throw new FormatException("recoverable");
            }
            catch (FormatException)
            {
            }
            run.LogMetric("after", 1);
        }
        Assert.Equal("FINISHED", (await Client.GetRunAsync(runId)).Status);
    }

    [Fact]
    public async Task logging_never_waits_on_the_network_and_a_flush_delivers_every_point()
    {
        await using var run = await Client.StartRunAsync("sdk-fast");
        const int points = 60_000;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < points; i++) run.LogMetric(i % 2 == 0 ? "a" : "b", i, i / 2);
        watch.Stop();
        await run.FlushAsync();
        var a = await Client.GetFullMetricHistoryAsync(run.RunId, "a");
        var b = await Client.GetFullMetricHistoryAsync(run.RunId, "b");
        Assert.Equal(points, a.Count + b.Count);
        Assert.Equal(Enumerable.Range(0, points / 2).Select(i => (long)i), a.Select(p => p.Step));
        // Not a timing assertion: logging 60k points must not have made a request per point.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task flush_raises_what_the_server_rejected_with_its_error_code()
    {
        await using var run = await Client.StartRunAsync("sdk-rejected");
        run.LogParam("lr", "0.1");
        await run.FlushAsync();
        run.LogParam("lr", "0.2");
        var ex = await Assert.ThrowsAsync<LineageApiException>(() => run.FlushAsync());
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        Assert.Equal(400, ex.HttpStatus);
        Assert.Contains("write-once", ex.Message);
        await run.FlushAsync(); // the error was reported once; the run goes on
    }

    [Fact]
    public async Task bad_keys_are_rejected_at_the_call_not_later()
    {
        await using var run = await Client.StartRunAsync("sdk-bad-key");
        var ex = Assert.Throws<LineageException>(() => run.LogMetric("bad*key", 1));
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        run.LogMetric("good", 1);
    }

    [Fact]
    public async Task child_runs_are_nested_under_their_parent()
    {
        await using var parent = await Client.StartRunAsync("sdk-nested", "parent");
        string childId;
        await using (var child = await parent.StartChildRunAsync("child"))
        {
            childId = child.RunId;
            child.LogMetric("m", 1);
        }
        var stored = await Client.GetRunAsync(childId);
        Assert.Equal(parent.RunId, stored.ParentRunId);
        Assert.Equal(parent.ExperimentId, stored.ExperimentId);
        Assert.Equal("FINISHED", stored.Status);
    }

    [Fact]
    public async Task explicit_end_sets_the_status_and_later_logging_is_refused()
    {
        var run = await Client.StartRunAsync("sdk-explicit");
        run.LogMetric("m", 1);
        await run.EndAsync(RunStatus.Killed);
        Assert.Equal("KILLED", (await Client.GetRunAsync(run.RunId)).Status);
        Assert.Throws<InvalidOperationException>(() => run.LogMetric("m", 2));
        await run.DisposeAsync();
        Assert.Equal("KILLED", (await Client.GetRunAsync(run.RunId)).Status);
    }

    [Fact]
    public async Task server_errors_keep_code_message_and_status()
    {
        var missing = Guid.NewGuid().ToString("N");
        var ex = await Assert.ThrowsAsync<LineageApiException>(() => Client.GetRunAsync(missing));
        Assert.Equal(ErrorCode.ResourceDoesNotExist, ex.Code);
        Assert.Equal(404, ex.HttpStatus);
        Assert.Contains(missing, ex.Message);
        Assert.False(ex.IsTransient);
    }

    [Fact]
    public async Task an_unreachable_server_is_a_transient_unavailable_error_with_the_cause_inside()
    {
        using var nowhere = new LineageClient(new Uri("http://127.0.0.1:9"));
        var ex = await Assert.ThrowsAsync<LineageApiException>(() => nowhere.HealthAsync());
        Assert.Equal(ErrorCode.Unavailable, ex.Code);
        Assert.True(ex.IsTransient);
        Assert.IsType<HttpRequestException>(ex.InnerException);
    }
}
