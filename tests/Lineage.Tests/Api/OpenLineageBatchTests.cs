using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Client;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary><c>POST /api/v1/lineage/batch</c> (issue 15): many OpenLineage events in one request, each accepted or rejected alone.</summary>
public abstract class OpenLineageBatchTests : IAsyncLifetime
{
    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Postgres);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private static string Event(string run, string type, string time, string input = "orders", string output = "totals") => $$"""
        {"eventType":"{{type}}","eventTime":"{{time}}","run":{"runId":"{{run}}"},"job":{"namespace":"batch","name":"daily"},
         "inputs":[{"namespace":"db","name":"{{input}}"}],"outputs":[{"namespace":"db","name":"{{output}}"}],
         "producer":"https://example.com/producer","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}
        """;

    private const string RunA = "018f74d4-0d00-7c41-9d0e-00000000a001";
    private const string RunB = "018f74d4-0d00-7c41-9d0e-00000000b001";

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Post(string body, string contentType = "application/json", string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/lineage/batch") { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        using var response = await Server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private async Task<long> StoredEvents() =>
        (long)JsonNode.Parse(await Server.Http.GetStringAsync("/api/v1/events/lineage?limit=1"))!["totalCount"]!;

    private static List<string?> Statuses(JsonNode body) => body["results"]!.AsArray().Select(r => (string?)r!["status"]).ToList();

    [Fact]
    public async Task a_bad_event_is_rejected_alone_and_results_come_in_input_order()
    {
        var batch = $"[{Event(RunA, "START", "2026-12-01T10:00:00Z")}, {Event("not-a-uuid", "START", "2026-12-01T10:00:00Z")}, " +
                    $"{Event(RunA, "COMPLETE", "2026-12-01T10:05:00Z")}, 42, {Event(RunB, "COMPLETE", "2026-12-01T11:00:00Z", "totals", "report")}]";
        var (status, body) = await Post(batch);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["accepted", "error", "accepted", "error", "accepted"], Statuses(body!));
        Assert.Equal([0, 1, 2, 3, 4], body!["results"]!.AsArray().Select(r => (int)r!["index"]!));
        Assert.Equal((3, 0, 2), ((int)body["accepted"]!, (int)body["repeats"]!, (int)body["errors"]!));
        var bad = body["results"]![1]!["error"]!;
        Assert.Equal("INVALID_PARAMETER_VALUE", (string?)bad["error_code"]);
        Assert.Equal("run.runId", (string?)bad["field"]);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string?)body["results"]![3]!["error"]!["error_code"]);
        Assert.Equal((string?)body["results"]![0]!["executionId"], (string?)body["results"]![2]!["executionId"]);
        var execution = JsonNode.Parse(await Server.Http.GetStringAsync($"/api/v1/executions/{body["results"]![0]!["executionId"]}"))!;
        Assert.Equal("COMPLETE", (string?)execution["state"]);
        Assert.Equal(3, await StoredEvents());
    }

    [Fact]
    public async Task a_batch_sent_again_answers_repeat_for_every_event_it_stored()
    {
        var batch = $"[{Event(RunA, "START", "2026-12-01T10:00:00Z")}, {Event(RunA, "COMPLETE", "2026-12-01T10:05:00Z")}, {Event(RunA, "START", "2026-12-01T10:00:00Z")}]";
        var (_, first) = await Post(batch);
        // The same event twice in one batch: one of the two is stored, the other is its repeat.
        Assert.Equal(1, Statuses(first!).Count(s => s == "repeat"));

        var (status, again) = await Post(batch);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["repeat", "repeat", "repeat"], Statuses(again!));
        Assert.Equal(2, await StoredEvents());
    }

    [Fact]
    public async Task ndjson_takes_one_event_per_line_and_a_line_that_is_not_json_is_rejected_alone()
    {
        var lines = string.Join("\n", Event(RunA, "START", "2026-12-01T10:00:00Z").ReplaceLineEndings(" "), "", "{not json",
            Event(RunA, "COMPLETE", "2026-12-01T10:05:00Z").ReplaceLineEndings(" ") + "\r") + "\n";
        var (status, body) = await Post(lines, "application/x-ndjson");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["accepted", "error", "accepted"], Statuses(body!));
        Assert.Contains("line 3", (string?)body!["results"]![1]!["error"]!["message"]);
        Assert.Equal(2, await StoredEvents());
    }

    [Fact]
    public async Task a_batch_over_the_event_limit_or_not_an_array_or_with_a_key_is_refused_whole_and_stores_nothing()
    {
        var many = "[" + string.Join(",", Enumerable.Range(0, Limits.MaxLineageBatchEvents + 1)
            .Select(i => Event(Guid.CreateVersion7().ToString("D"), "START", "2026-12-01T10:00:00Z"))) + "]";
        var (status, body) = await Post(many);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("at most 1,000 events", (string?)body!["message"]);

        (status, body) = await Post(Event(RunA, "START", "2026-12-01T10:00:00Z"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("JSON array", (string?)body!["message"]);

        (status, body) = await Post($"[{Event(RunA, "START", "2026-12-01T10:00:00Z")}]", key: "k-1");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Idempotency-Key", (string?)body!["field"]);

        (status, body) = await Post($"[{Event(RunA, "START", "2026-12-01T10:00:00Z")}]", "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", (string?)body!["error_code"]);
        Assert.Equal(0, await StoredEvents());
    }

    [Fact]
    public async Task a_body_over_the_batch_size_limit_is_a_413()
    {
        await using var small = await TestServer.StartAsync(Postgres, o => o with { MaxBatchBodyBytes = 4_000 });
        var batch = "[" + string.Join(",", Enumerable.Range(0, 20).Select(i => Event(Guid.CreateVersion7().ToString("D"), "START", "2026-12-01T10:00:00Z"))) + "]";
        using var response = await small.Http.PostAsync("/api/v1/lineage/batch", new StringContent(batch, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("PAYLOAD_TOO_LARGE", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error_code"]);
    }

    [Fact]
    public async Task the_csharp_client_sends_a_batch_as_ndjson_into_a_project()
    {
        await Server.Client.CreateProjectAsync("team-a");
        var result = await Server.Client.IngestOpenLineageBatchAsync(
            [Event(RunA, "START", "2026-12-01T10:00:00Z"), Event(RunA, "BOGUS", "2026-12-01T10:00:00Z"), Event(RunA, "COMPLETE", "2026-12-01T10:05:00Z")], "team-a");

        Assert.Equal((2, 0, 1), (result.Accepted, result.Repeats, result.Errors));
        Assert.Equal("eventType", result.Results[1].Error!.Field);
        var execution = JsonNode.Parse(await Server.Http.GetStringAsync($"/api/v1/executions/{result.Results[0].ExecutionId}"))!;
        Assert.Equal("team-a", (string?)execution["project"]);
        var refused = await Assert.ThrowsAsync<LineageApiException>(() => Server.Client.IngestOpenLineageBatchAsync(
            Enumerable.Repeat(Event(RunB, "START", "2026-12-01T10:00:00Z"), Limits.MaxLineageBatchEvents + 1)));
        Assert.Equal(ErrorCode.InvalidParameterValue, refused.Code);
    }
}

public sealed class OpenLineageBatchSqliteTests : OpenLineageBatchTests
{
    protected override bool Postgres => false;
}

public sealed class OpenLineageBatchPostgresTests : OpenLineageBatchTests
{
    protected override bool Postgres => true;
}
