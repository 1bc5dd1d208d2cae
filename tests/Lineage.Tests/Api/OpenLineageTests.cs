using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>OpenLineage RunEvents in (the shared spec examples and our own), the lineage graph out.</summary>
public abstract class OpenLineageTests : IAsyncLifetime
{
    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Postgres);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Post(string json)
    {
        using var response = await Server.Http.PostAsync("/api/v1/lineage", new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static string Example(string folder, string file) => File.ReadAllText(RecordedFixtures.OpenLineage("examples", folder, file));

    private async Task<JsonNode> Execution(string id) => JsonNode.Parse(await Server.Http.GetStringAsync($"/api/v1/executions/{id}"))!;

    private async Task<int> Count(string path, string list) => JsonNode.Parse(await Server.Http.GetStringAsync(path))![list]!.AsArray().Count;

    [Fact]
    public async Task every_shared_example_event_is_accepted()
    {
        foreach (var folder in new[] { "from-repo", "written" })
            foreach (var file in Directory.GetFiles(RecordedFixtures.OpenLineage("examples", folder), "*.json").Order())
            {
                var (status, body) = await Post(await File.ReadAllTextAsync(file));
                Assert.True(status == HttpStatusCode.Created, $"{Path.GetFileName(file)}: {status} {body}");
            }
    }

    [Fact]
    public void every_shared_example_event_is_valid_against_the_spec_schema()
    {
        foreach (var folder in new[] { "from-repo", "written" })
            foreach (var file in Directory.GetFiles(RecordedFixtures.OpenLineage("examples", folder), "*.json"))
                Assert.True(OpenLineageSchema.Problems(File.ReadAllText(file)) is { Count: 0 }, $"{Path.GetFileName(file)}: {string.Join("; ", OpenLineageSchema.Problems(File.ReadAllText(file)))}");
    }

    [Fact]
    public void the_events_these_tests_build_are_valid_against_the_spec_schema()
    {
        var own = Event("018f74d4-0d00-7c41-9d0e-000000000001", "COMPLETE", "2024-05-14T02:00:00Z", $"[{Dataset("customers", "id", "email")}]", $"[{Dataset("totals", "n")}]");
        Assert.Empty(OpenLineageSchema.Problems(own));
    }

    [Fact]
    public async Task a_run_maps_to_one_execution_with_datasets_as_artifacts_and_parent_as_context()
    {
        var start = await Post(Example("written", "spark-orders-daily-01-start.json"));
        await Post(Example("written", "spark-orders-daily-02-running.json"));
        var complete = await Post(Example("written", "spark-orders-daily-03-complete.json"));
        Assert.Equal((string?)start.Body!["executionId"], (string?)complete.Body!["executionId"]);

        var execution = await Execution((string)start.Body["executionId"]!);
        Assert.Equal("COMPLETE", (string?)execution["state"]);
        Assert.Equal("job", (string?)execution["type"]);
        Assert.Equal("spark-etl/orders_daily.aggregate", (string?)execution["name"]);
        // Facets are kept verbatim, known or not.
        Assert.Equal("git", (string?)execution["properties"]!["openlineage"]!["jobFacets"]!["sourceCodeLocation"]!["type"]);

        var graph = JsonNode.Parse(await Server.Http.GetStringAsync($"/api/v1/lineage/graph?node=execution:{start.Body["executionId"]}&depth=1"))!;
        Assert.Equal(2, graph["edges"]!.AsArray().Count(e => ((string)e!["to"]!).StartsWith("execution:")));
        Assert.Single(graph["edges"]!.AsArray(), e => ((string)e!["from"]!).StartsWith("execution:"));

        var input = (string)start.Body["inputArtifactIds"]![0]!;
        var artifact = JsonNode.Parse(await Server.Http.GetStringAsync($"/api/v1/artifacts/by-id/{input}"))!;
        Assert.Equal("external", (string?)artifact["kind"]);
        Assert.Equal("shop.public.orders", (string?)artifact["metadata"]!["openlineage"]!["name"]);
        Assert.Equal("postgres://orders-db.example.com:5432/shop.public.orders", (string?)artifact["storageUri"]);

        var executions = JsonNode.Parse(await Server.Http.GetStringAsync("/api/v1/executions?type=job"))!["executions"]!.AsArray();
        Assert.Single(executions);
    }

    [Fact]
    public async Task ingestion_is_idempotent_and_tolerates_events_out_of_order()
    {
        var complete = await Post(Example("written", "spark-orders-daily-03-complete.json"));
        var start = await Post(Example("written", "spark-orders-daily-01-start.json"));
        await Post(Example("written", "spark-orders-daily-03-complete.json"));
        await Post(Example("written", "spark-orders-daily-02-running.json"));
        Assert.Equal((string?)complete.Body!["executionId"], (string?)start.Body!["executionId"]);
        var execution = await Execution((string)complete.Body["executionId"]!);
        Assert.Equal("COMPLETE", (string?)execution["state"]); // a late START or RUNNING does not reopen it

        var before = await Count("/api/v1/artifacts?type=dataset&limit=1000", "artifacts");
        var graphBefore = JsonNode.Parse(await Server.Http.GetStringAsync($"/api/v1/lineage/graph?node=execution:{complete.Body["executionId"]}"))!;
        foreach (var file in new[] { "spark-orders-daily-01-start.json", "spark-orders-daily-02-running.json", "spark-orders-daily-03-complete.json" })
            Assert.Equal(HttpStatusCode.Created, (await Post(Example("written", file))).Status);
        Assert.Equal(before, await Count("/api/v1/artifacts?type=dataset&limit=1000", "artifacts"));
        var graphAfter = JsonNode.Parse(await Server.Http.GetStringAsync($"/api/v1/lineage/graph?node=execution:{complete.Body["executionId"]}"))!;
        Assert.Equal(graphBefore.ToJsonString(), graphAfter.ToJsonString());
    }

    private static string Patched(string patch)
    {
        var valid = JsonNode.Parse(Example("from-repo", "proxy-fluentd-events-event_simple.json"))!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(patch)!.AsObject().ToList())
            valid[key] = value?.DeepClone();
        return valid.ToJsonString();
    }

    internal static string Event(string runId, string type, string time, string inputsJson, string outputsJson, string job = "nightly") => $$"""
        {"eventType":"{{type}}","eventTime":"{{time}}","producer":"https://example.com/tests","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
         "run":{"runId":"{{runId}}"},"job":{"namespace":"tests","name":"{{job}}"},"inputs":{{inputsJson}},"outputs":{{outputsJson}}}
        """;

    internal static string Dataset(string name, params string[] columns)
    {
        JsonNode Facet(string schemaUrl) => new JsonObject { ["_producer"] = "https://example.com/tests", ["_schemaURL"] = schemaUrl };
        var schema = Facet("https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet");
        schema["fields"] = new JsonArray(columns.Select(c => (JsonNode)new JsonObject { ["name"] = c, ["type"] = "string" }).ToArray());
        var custom = Facet("https://example.com/custom.json");
        custom["team"] = "growth";
        return new JsonObject
        {
            ["namespace"] = "warehouse",
            ["name"] = name,
            ["facets"] = new JsonObject { ["schema"] = schema, ["myCompany_custom"] = custom },
        }.ToJsonString();
    }

    [Fact]
    public async Task a_schema_change_makes_a_new_dataset_version_and_unknown_facets_are_kept()
    {
        var a = await Post(Event("018f74d4-0d00-7c41-9d0e-000000000001", "COMPLETE", "2024-05-14T02:00:00Z", $"[{Dataset("customers", "id")}]", "[]"));
        var b = await Post(Event("018f74d4-0d00-7c41-9d0e-000000000002", "COMPLETE", "2024-05-15T02:00:00Z", $"[{Dataset("customers", "id")}]", "[]"));
        var c = await Post(Event("018f74d4-0d00-7c41-9d0e-000000000003", "COMPLETE", "2024-05-16T02:00:00Z", $"[{Dataset("customers", "id", "email")}]", "[]"));
        var v1 = JsonNode.Parse(await Server.Http.GetStringAsync($"/api/v1/artifacts/by-id/{b.Body!["inputArtifactIds"]![0]}"))!;
        var v2 = JsonNode.Parse(await Server.Http.GetStringAsync($"/api/v1/artifacts/by-id/{c.Body!["inputArtifactIds"]![0]}"))!;
        Assert.Equal((string?)a.Body!["inputArtifactIds"]![0], (string?)b.Body["inputArtifactIds"]![0]);
        Assert.Equal((1, 2), ((int)v1["version"]!, (int)v2["version"]!));
        Assert.Equal("growth", (string?)v2["metadata"]!["openlineage"]!["facets"]!["myCompany_custom"]!["team"]);
    }

    [Fact]
    public async Task a_job_reading_and_writing_the_same_table_makes_a_new_version_not_a_cycle()
    {
        var run = "018f74d4-0d00-7c41-9d0e-0000000000aa";
        var first = await Post(Event(run, "START", "2024-05-14T02:00:00Z", $"[{Dataset("totals", "n")}]", $"[{Dataset("totals", "n")}]", "incremental"));
        Assert.Equal(HttpStatusCode.Created, first.Status);
        var done = await Post(Event(run, "COMPLETE", "2024-05-14T02:05:00Z", $"[{Dataset("totals", "n")}]", $"[{Dataset("totals", "n")}]", "incremental"));
        Assert.Equal(HttpStatusCode.Created, done.Status);
        Assert.NotEqual((string?)done.Body!["outputArtifactIds"]![0], (string?)first.Body!["inputArtifactIds"]![0]);
        var next = await Post(Event("018f74d4-0d00-7c41-9d0e-0000000000bb", "COMPLETE", "2024-05-15T02:00:00Z", $"[{Dataset("totals", "n")}]", "[]", "incremental"));
        Assert.Equal((string?)done.Body["outputArtifactIds"]![0], (string?)next.Body!["inputArtifactIds"]![0]); // tomorrow reads today's write
    }

    [Theory]
    [InlineData("job.name", """{"job":{"namespace":"x"}}""")]
    [InlineData("run.runId", """{"run":{"runId":"not-a-uuid"}}""")]
    [InlineData("eventTime", """{"eventTime":"2024-05-14 02:00:00"}""")]
    [InlineData("eventType", """{"eventType":"DONE"}""")]
    [InlineData("producer", """{"producer":"not a uri"}""")]
    [InlineData("inputs[0].facets.schema._producer", """{"inputs":[{"namespace":"n","name":"d","facets":{"schema":{"_schemaURL":"https://x/y","fields":[]}}}]}""")]
    public async Task a_malformed_event_is_a_400_with_the_json_path_and_stores_nothing(string path, string patch)
    {
        var invalid = Patched(patch);
        Assert.NotEmpty(OpenLineageSchema.Problems(invalid)); // the spec's schema rejects it too
        var (status, body) = await Post(invalid);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(path, (string?)body!["field"]);
        Assert.Equal(0, await Count("/api/v1/executions?type=job", "executions"));
        Assert.Equal(0, await Count("/api/v1/artifacts?type=dataset", "artifacts"));
    }
}

public sealed class OpenLineageSqliteTests : OpenLineageTests
{
    protected override bool Postgres => false;
}

public sealed class OpenLineagePostgresTests : OpenLineageTests
{
    protected override bool Postgres => true;
}
