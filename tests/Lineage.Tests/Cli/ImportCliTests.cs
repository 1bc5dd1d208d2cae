using System.Text.Json.Nodes;
using Lineage.Cli;
using Lineage.Tests.Support;

namespace Lineage.Tests.Cli;

/// <summary>`lineage import openlineage --file` in-process against a real server (issue 12, part 2).</summary>
public sealed class ImportCliTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private readonly TempDir _dir = new();

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<(int Code, string Out, string Err)> Import(string file, params string[] more)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(["import", "openlineage", "--file", file, .. more, "--server", _server.Address.ToString()], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The shared example events, one compact JSON object per line, in file-name order.</summary>
    private static List<string> ExampleEvents() =>
        Directory.GetFiles(RecordedFixtures.OpenLineage("examples", "written"), "*.json").Order()
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!.ToJsonString()).ToList();

    private async Task<int> Executions() =>
        JsonNode.Parse(await _server.Http.GetStringAsync("/api/v1/executions?limit=1000"))!["executions"]!.AsArray().Count;

    private async Task<int> Artifacts() =>
        JsonNode.Parse(await _server.Http.GetStringAsync("/api/v1/artifacts?limit=1000"))!["artifacts"]!.AsArray().Count;

    [Fact]
    public async Task an_event_log_is_replayed_once_and_a_second_import_adds_nothing()
    {
        var events = ExampleEvents();
        Assert.True(events.Count >= 3);
        var file = _dir.File("events.jsonl");
        await File.WriteAllLinesAsync(file, events);

        var first = await Import(file);
        Assert.True(first.Code == 0, first.Err);
        Assert.Contains($"{events.Count} events sent", first.Out);
        var executions = await Executions();
        var artifacts = await Artifacts();
        Assert.True(executions > 0 && artifacts > 0);

        var again = await Import(file);
        Assert.Equal(0, again.Code);
        Assert.Contains($"0 events sent", again.Out);
        Assert.Contains($"{events.Count} skipped as imported before", again.Out);

        File.Delete(file + ".lineage-import"); // no state: everything is sent again, and the server adds nothing
        var fresh = await Import(file, "--json");
        Assert.Equal(0, fresh.Code);
        var report = JsonNode.Parse(fresh.Out)!;
        Assert.Equal(events.Count, (int)report["sent"]!);
        Assert.Equal(executions, await Executions());
        Assert.Equal(artifacts, await Artifacts());
    }

    [Fact]
    public async Task an_interrupted_import_resumes_after_the_last_stored_event()
    {
        var events = ExampleEvents();
        var file = _dir.File("log.jsonl");
        var state = _dir.File("log.state");
        await File.WriteAllLinesAsync(file, events.Take(2)); // the log so far, as if the import stopped there
        Assert.Equal(0, (await Import(file, "--state", state)).Code);
        await File.WriteAllLinesAsync(file, events);        // the same log, grown
        var resumed = await Import(file, "--state", state, "--json");
        Assert.Equal(0, resumed.Code);
        var report = JsonNode.Parse(resumed.Out)!;
        Assert.Equal(2, (long)report["resumed"]!);
        Assert.Equal(events.Count - 2, (long)report["sent"]!);
        Assert.False((bool)report["restarted"]!);
    }

    [Fact]
    public async Task a_file_changed_before_the_resume_point_is_imported_from_the_start()
    {
        var events = ExampleEvents();
        var file = _dir.File("changed.jsonl");
        await File.WriteAllLinesAsync(file, events.Take(2));
        Assert.Equal(0, (await Import(file)).Code);
        await File.WriteAllLinesAsync(file, events.Skip(1));
        var report = JsonNode.Parse((await Import(file, "--json")).Out)!;
        Assert.True((bool)report["restarted"]!);
        Assert.Equal(0, (long)report["resumed"]!);
        Assert.Equal(events.Count - 1, (long)report["sent"]!);
    }

    [Fact]
    public async Task a_rejected_event_is_reported_with_its_line_and_fails_the_import_even_when_resumed()
    {
        var events = ExampleEvents();
        var file = _dir.File("bad.jsonl");
        await File.WriteAllLinesAsync(file, [events[0], "{not json", "", events[1]]);
        var result = await Import(file);
        Assert.Equal(1, result.Code);
        Assert.Contains("line 2: INVALID_PARAMETER_VALUE", result.Err);
        Assert.Contains("2 events sent", result.Out);
        var resumed = await Import(file);
        Assert.Equal(1, resumed.Code);
        Assert.Contains("line 2: INVALID_PARAMETER_VALUE", resumed.Err);
    }

    [Fact]
    public async Task a_missing_file_is_an_error_naming_the_option()
    {
        var result = await Import(_dir.File("nothing.jsonl"));
        Assert.Equal(1, result.Code);
        Assert.Contains("--file", result.Err);
    }
}
