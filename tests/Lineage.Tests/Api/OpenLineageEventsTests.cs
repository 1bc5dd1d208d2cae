using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>
/// The raw events ingestion keeps (migration 0021) and serves at <c>GET /api/v1/events/lineage</c> in Marquez's shape and paging
/// (issue 12, part 2), and the rule that a repeated event (same run, type and time) changes nothing.
/// </summary>
public abstract class OpenLineageEventsTests : IAsyncLifetime
{
    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Postgres);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task<JsonNode> Post(string json, string prefix = "")
    {
        using var response = await Server.Http.PostAsync($"{prefix}/api/v1/lineage", new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    private async Task<JsonNode> Events(string query, string prefix = "") =>
        JsonNode.Parse(await Server.Http.GetStringAsync($"{prefix}/api/v1/events/lineage?{query}"))!;

    private static string Run(int n) => $"018f74d4-0d00-7c41-9d0e-{n:D12}";

    private static string Event(int run, string type, string time) =>
        OpenLineageTests.Event(Run(run), type, time, $"[{OpenLineageTests.Dataset("orders", "id")}]", "[]");

    private static IEnumerable<string> Times(JsonNode answer) => answer["events"]!.AsArray().Select(e => (string)e!["eventTime"]!);

    [Fact]
    public async Task events_are_served_as_received_in_marquez_shape_newest_first_by_default()
    {
        var example = File.ReadAllText(RecordedFixtures.OpenLineage("examples", "written", "spark-orders-daily-01-start.json"));
        await Post(Event(1, "START", "2024-05-14T02:00:00Z"));
        await Post(example);
        await Post(Event(1, "COMPLETE", "2024-05-14T01:00:00+00:00"));

        var answer = await Events("");
        Assert.Equal(3, (int)answer["totalCount"]!);
        Assert.Equal(["2024-05-14T02:00:05.120Z", "2024-05-14T02:00:00Z", "2024-05-14T01:00:00+00:00"], Times(answer));
        // Kept verbatim: facets, and the time as it was written.
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(example), answer["events"]![0]));
        Assert.Equal(["2024-05-14T01:00:00+00:00", "2024-05-14T02:00:00Z", "2024-05-14T02:00:05.120Z"], Times(await Events("sortDirection=asc")));
    }

    [Fact]
    public async Task paging_follows_marquez_after_inclusive_before_exclusive_limit_and_offset()
    {
        for (var i = 0; i < 5; i++) await Post(Event(10 + i, "COMPLETE", $"2024-05-14T0{i}:00:00Z"));

        var window = await Events("sortDirection=asc&after=2024-05-14T01:00:00Z&before=2024-05-14T04:00:00Z");
        Assert.Equal(3, (int)window["totalCount"]!);
        Assert.Equal(["2024-05-14T01:00:00Z", "2024-05-14T02:00:00Z", "2024-05-14T03:00:00Z"], Times(window));

        var page = await Events("sortDirection=asc&after=2024-05-14T01:00:00Z&limit=2&offset=1");
        Assert.Equal(4, (int)page["totalCount"]!); // the window's count, not the page's
        Assert.Equal(["2024-05-14T02:00:00Z", "2024-05-14T03:00:00Z"], Times(page));

        // A bound between two milliseconds takes in the millisecond around it (stored times are whole milliseconds).
        Assert.Equal(2, (int)(await Events("after=2024-05-14T02:59:59.9995%2B00:00&before=2024-05-14T04:00:00.0001Z"))["totalCount"]!);
    }

    [Theory]
    [InlineData("sortDirection=sideways", "sortDirection")]
    [InlineData("after=yesterday", "after")]
    [InlineData("limit=0", "limit")]
    [InlineData("offset=-1", "offset")]
    public async Task a_bad_parameter_is_a_400_naming_it(string query, string name)
    {
        using var response = await Server.Http.GetAsync($"/api/v1/events/lineage?{query}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(name, text);
    }

    [Fact]
    public async Task a_repeated_event_is_answered_as_a_repeat_and_changes_nothing()
    {
        var first = await Post(Event(20, "COMPLETE", "2024-05-14T02:00:00Z"));
        Assert.False((bool)first["repeat"]!);
        var executions = await Server.Http.GetStringAsync("/api/v1/executions?limit=100");
        var artifacts = await Server.Http.GetStringAsync("/api/v1/artifacts?limit=100");

        // The same run, type and time, written differently (another offset, another dataset): a repeat.
        var again = await Post(OpenLineageTests.Event(Run(20), "COMPLETE", "2024-05-14T04:00:00+02:00", $"[{OpenLineageTests.Dataset("other", "x")}]", "[]"));
        Assert.True((bool)again["repeat"]!);
        Assert.Equal((string?)first["executionId"], (string?)again["executionId"]);
        Assert.Equal(executions, await Server.Http.GetStringAsync("/api/v1/executions?limit=100"));
        Assert.Equal(artifacts, await Server.Http.GetStringAsync("/api/v1/artifacts?limit=100"));
        Assert.Equal(1, (int)(await Events(""))["totalCount"]!);

        // Another type or time of the same run is another event.
        Assert.False((bool)(await Post(Event(20, "START", "2024-05-14T02:00:00Z")))["repeat"]!);
        Assert.False((bool)(await Post(Event(20, "COMPLETE", "2024-05-14T02:00:00.001Z")))["repeat"]!);
        Assert.Equal(3, (int)(await Events(""))["totalCount"]!);
    }

    [Fact]
    public async Task each_project_serves_its_own_events_under_its_prefix()
    {
        using (var create = await Server.Http.PostAsync("/api/v1/projects", new StringContent("""{"name":"etl"}""", Encoding.UTF8, "application/json")))
            Assert.True(create.IsSuccessStatusCode, await create.Content.ReadAsStringAsync());
        await Post(Event(30, "COMPLETE", "2024-05-14T02:00:00Z"), "/projects/etl");
        await Post(Event(31, "COMPLETE", "2024-05-14T02:00:00Z"));
        Assert.Equal(Run(30), (string?)(await Events("", "/projects/etl"))["events"]![0]!["run"]!["runId"]);
        Assert.Equal(1, (int)(await Events("", "/projects/etl"))["totalCount"]!);
        Assert.Equal(Run(31), (string?)(await Events(""))["events"]![0]!["run"]!["runId"]);
        Assert.Equal(1, (int)(await Events(""))["totalCount"]!);
    }
}

public sealed class OpenLineageEventsSqliteTests : OpenLineageEventsTests
{
    protected override bool Postgres => false;
}

public sealed class OpenLineageEventsPostgresTests : OpenLineageEventsTests
{
    protected override bool Postgres => true;
}
