using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Tests.Cli;

/// <summary>
/// `lineage import openlineage --from URL` (issue 12, part 2): a second Lineage server is the Marquez-compatible source (it
/// serves the raw events it received at GET /api/v1/events/lineage), filled with the shared example events; the import goes
/// into the first server, in process.
/// </summary>
public abstract class OpenLineageSourceImportTests : IAsyncLifetime
{
    private TestServer _source = null!;
    private TestServer _target = null!;
    private readonly TempDir _dir = new();
    private string State => _dir.File("ol.state");

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync()
    {
        _source = await TestServer.StartAsync(Postgres);
        _target = await TestServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _target.DisposeAsync();
        _dir.Dispose();
    }

    private Task<(int Code, string Out, string Err)> Import(string from, params string[] more) =>
        InProcessCli.RunAsync(["import", "openlineage", "--from", from, "--server", _target.Address.ToString(), "--state", State, .. more]);

    private async Task<JsonNode> ImportJson(params string[] more)
    {
        var (code, stdout, stderr) = await Import(_source.Address.ToString(), [.. more, "--json"]);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        return JsonNode.Parse(stdout)!;
    }

    /// <summary>Every shared example event (spec repository's and ours), in file order — not time order.</summary>
    private static List<string> ExampleEvents() =>
        new[] { "from-repo", "written" }.SelectMany(folder => Directory.GetFiles(RecordedFixtures.OpenLineage("examples", folder), "*.json").Order())
            .Select(File.ReadAllText).ToList();

    private static async Task PostAsync(TestServer server, string json, string prefix = "")
    {
        using var response = await server.Http.PostAsync($"{prefix}/api/v1/lineage", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonArray> EventsAsync(TestServer server, string prefix = "") =>
        JsonNode.Parse(await server.Http.GetStringAsync($"{prefix}/api/v1/events/lineage?sortDirection=asc&limit=1000"))!["events"]!.AsArray();

    private static async Task<string> Get(TestServer server, string path) => await server.Http.GetStringAsync(path);

    /// <summary>What a Marquez reader sees of a server: every namespace with its jobs and their runs' states, and datasets.</summary>
    private static async Task<string> MarquezView(TestServer server, string prefix = "")
    {
        var view = new StringBuilder();
        foreach (var ns in JsonNode.Parse(await Get(server, $"{prefix}/api/v1/namespaces"))!["namespaces"]!.AsArray())
        {
            var name = Uri.EscapeDataString((string)ns!["name"]!);
            foreach (var job in JsonNode.Parse(await Get(server, $"{prefix}/api/v1/namespaces/{name}/jobs"))!["jobs"]!.AsArray())
            {
                view.Append($"job {ns["name"]}/{job!["name"]}:");
                foreach (var run in JsonNode.Parse(await Get(server, $"{prefix}/api/v1/namespaces/{name}/jobs/{Uri.EscapeDataString((string)job["name"]!)}/runs"))!["runs"]!.AsArray())
                    view.Append($" {run!["id"]}={run["state"]}");
                view.AppendLine();
            }
            foreach (var d in JsonNode.Parse(await Get(server, $"{prefix}/api/v1/namespaces/{name}/datasets"))!["datasets"]!.AsArray())
                view.AppendLine($"dataset {ns["name"]}/{d!["name"]}"); // its current fields depend on the order its writers were received
        }
        return view.ToString();
    }

    private static IEnumerable<string> Keys(JsonArray events) =>
        events.Select(e => $"{e!["run"]!["runId"]} {e["eventType"]} {DateTimeOffset.Parse((string)e["eventTime"]!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds()}");

    [Fact]
    public async Task a_servers_events_are_replayed_in_time_order_and_the_target_reads_the_same()
    {
        var events = ExampleEvents();
        foreach (var e in events) await PostAsync(_source, e);

        var report = await ImportJson("--page-size", "2"); // several pages, and a page boundary inside the spark run
        Assert.Equal(events.Count, (long)report["read"]!);
        Assert.Equal(events.Count, (long)report["imported"]!);
        Assert.Equal(0, (long)report["repeats"]!);
        Assert.Empty(report["rejected"]!.AsArray());

        var sourceEvents = await EventsAsync(_source);
        var targetEvents = await EventsAsync(_target);
        Assert.Equal(Keys(sourceEvents), Keys(targetEvents));
        Assert.All(sourceEvents.Zip(targetEvents), p => Assert.True(JsonNode.DeepEquals(p.First, p.Second))); // carried verbatim
        Assert.Equal(await MarquezView(_source), await MarquezView(_target));
    }

    [Fact]
    public async Task a_second_import_reads_only_new_events_and_a_restart_imports_nothing_twice()
    {
        var events = ExampleEvents();
        // The source's history so far: everything but its newest event (customer_ltv's COMPLETE at 03:22:10), which comes later.
        var complete = events.Single(e => e.Contains("customer_ltv"));
        foreach (var e in events.Where(e => e != complete)) await PostAsync(_source, e);
        Assert.Equal(events.Count - 1, (long)(await ImportJson())["imported"]!);

        var nothingNew = await ImportJson();
        Assert.Equal(0, (long)nothingNew["read"]!);
        Assert.Equal(events.Count - 1, (long)nothingNew["sentBefore"]!);

        await PostAsync(_source, complete);
        var next = await ImportJson();
        Assert.Equal(1, (long)next["read"]!);
        Assert.Equal(1, (long)next["imported"]!);

        var view = await MarquezView(_target);
        var executions = await Get(_target, "/api/v1/executions?limit=1000");
        var artifacts = await Get(_target, "/api/v1/artifacts?limit=1000");
        var restarted = await ImportJson("--restart");
        Assert.Equal(events.Count, (long)restarted["read"]!);
        Assert.Equal(0, (long)restarted["imported"]!);
        Assert.Equal(events.Count, (long)restarted["repeats"]!);
        Assert.Equal(view, await MarquezView(_target));
        Assert.Equal(executions, await Get(_target, "/api/v1/executions?limit=1000"));
        Assert.Equal(artifacts, await Get(_target, "/api/v1/artifacts?limit=1000"));
        Assert.Equal(events.Count, (await EventsAsync(_target)).Count);
    }

    [Fact]
    public async Task an_import_cut_short_after_sending_resumes_without_duplicates()
    {
        var events = ExampleEvents();
        foreach (var e in events) await PostAsync(_source, e);
        Assert.Equal(events.Count, (long)(await ImportJson())["imported"]!);
        // As if the process died after sending the last three events but before saving its position: the state is older.
        var state = JsonNode.Parse(await File.ReadAllTextAsync(State))!;
        var sorted = await EventsAsync(_source);
        var cut = sorted[^4]!;
        state["afterMs"] = DateTimeOffset.Parse((string)cut["eventTime"]!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
        state["atAfter"] = 1;
        state["sent"] = events.Count - 3;
        await File.WriteAllTextAsync(State, state.ToJsonString());

        var resumed = await ImportJson();
        Assert.Equal(3, (long)resumed["read"]!);
        Assert.Equal(3, (long)resumed["repeats"]!);
        Assert.Equal(0, (long)resumed["imported"]!);
        Assert.Equal(events.Count, (await EventsAsync(_target)).Count);
    }

    [Fact]
    public async Task a_project_of_the_source_goes_into_a_project_of_the_target()
    {
        foreach (var server in new[] { _source, _target })
            using (var create = await server.Http.PostAsync("/api/v1/projects", new StringContent("""{"name":"etl"}""", Encoding.UTF8, "application/json")))
                Assert.True(create.IsSuccessStatusCode, await create.Content.ReadAsStringAsync());
        var events = ExampleEvents();
        foreach (var e in events.Take(3)) await PostAsync(_source, e, "/projects/etl");
        await PostAsync(_source, events[3]); // in the source's default project: not part of this import

        var report = await ImportJson_from($"{_source.Address.AbsoluteUri.TrimEnd('/')}/projects/etl", "--project", "etl");
        Assert.Equal(3, (long)report["imported"]!);
        Assert.Equal(3, (await EventsAsync(_target, "/projects/etl")).Count);
        Assert.Empty(await EventsAsync(_target));
        Assert.Equal(await MarquezView(_source, "/projects/etl"), await MarquezView(_target, "/projects/etl"));
    }

    private async Task<JsonNode> ImportJson_from(string from, params string[] more)
    {
        var (code, stdout, stderr) = await Import(from, [.. more, "--json"]);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        return JsonNode.Parse(stdout)!;
    }

    [Fact]
    public async Task a_source_without_the_events_route_and_a_state_of_another_import_are_clear_errors()
    {
        var (code, _, err) = await Import(_source.Address.AbsoluteUri + "nowhere/");
        Assert.Equal(1, code);
        Assert.Contains("/api/v1/events/lineage", err);

        await File.WriteAllTextAsync(State, """{"import":"http://elsewhere -> x project default","afterMs":null,"atAfter":0,"sent":0,"rejected":[]}""");
        (code, _, err) = await Import(_source.Address.ToString());
        Assert.Equal(1, code);
        Assert.Contains("--state", err);

        (code, _, err) = await InProcessCli.RunAsync(["import", "openlineage", "--server", _target.Address.ToString()]);
        Assert.Equal(1, code);
        Assert.Contains("--file or --from", err);
    }
}

public sealed class OpenLineageSourceImportSqliteTests : OpenLineageSourceImportTests
{
    protected override bool Postgres => false;
}

/// <summary>The same with a PostgreSQL source (the target stays SQLite): the source's paging and ordering on the other dialect.</summary>
public sealed class OpenLineageSourceImportPostgresTests : OpenLineageSourceImportTests
{
    protected override bool Postgres => true;
}
