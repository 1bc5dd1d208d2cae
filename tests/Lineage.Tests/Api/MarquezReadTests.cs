using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>What OpenLineage clients sent, read back through Marquez's API shapes (both dialects).</summary>
public abstract class MarquezReadTests : IAsyncLifetime
{
    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    private const string OrdersDb = "postgres://orders-db.example.com:5432";
    private const string Warehouse = "postgres://warehouse-db.example.com:5432";

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync(Postgres);
        foreach (var file in Directory.GetFiles(RecordedFixtures.OpenLineage("examples", "written"), "*.json").Order())
        {
            using var response = await Server.Http.PostAsync("/api/v1/lineage", new StringContent(await File.ReadAllTextAsync(file), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task<JsonNode> Get(string path)
    {
        using var response = await Server.Http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    private static string E(string s) => Uri.EscapeDataString(s);

    [Fact]
    public async Task namespaces_of_jobs_and_datasets_are_listed()
    {
        var names = (await Get("/api/v1/namespaces"))["namespaces"]!.AsArray().Select(n => (string)n!["name"]!).ToList();
        Assert.Equal(new[] { "dbt-analytics", OrdersDb, Warehouse, "s3://raw-bucket", "s3://warehouse-bucket", "spark-etl" }.Order(StringComparer.Ordinal), names);
        Assert.Equal("spark-etl", (string?)(await Get("/api/v1/namespaces/spark-etl"))["name"]);
    }

    [Fact]
    public async Task a_store_without_openlineage_data_lists_no_namespaces()
    {
        await using var empty = await TestServer.StartAsync(Postgres);
        using var response = await empty.Http.GetAsync("/api/v1/namespaces");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Empty(JsonNode.Parse(text)!["namespaces"]!.AsArray());
    }

    [Fact]
    public async Task a_job_shows_its_datasets_latest_run_and_facets()
    {
        var job = await Get("/api/v1/namespaces/spark-etl/jobs/orders_daily.aggregate");
        Assert.Equal("spark-etl", (string?)job["id"]!["namespace"]);
        Assert.Equal("orders_daily.aggregate", (string?)job["name"]);
        Assert.Equal("BATCH", (string?)job["type"]);
        Assert.Equal(new[] { $"{OrdersDb}/shop.public.orders", "s3://raw-bucket/customers/2024-05-13" },
            job["inputs"]!.AsArray().Select(i => $"{i!["namespace"]}/{i["name"]}"));
        Assert.Equal("marts/orders_daily", (string?)job["outputs"]![0]!["name"]);
        Assert.Equal("COMPLETED", (string?)job["latestRun"]!["state"]);
        Assert.NotNull((string?)job["location"]);
        Assert.NotNull(job["facets"]!["jobType"]);
        Assert.True(job.AsObject().ContainsKey("parentJobName")); // nulls are written, as Marquez writes them

        var failed = await Get("/api/v1/namespaces/dbt-analytics/jobs/analytics.reporting.revenue_report");
        Assert.Equal("FAILED", (string?)failed["latestRun"]!["state"]);
        Assert.NotNull(failed["latestRun"]!["facets"]!["errorMessage"]);

        var jobs = await Get("/api/v1/namespaces/dbt-analytics/jobs?limit=1");
        Assert.Equal(2, (int)jobs["totalCount"]!);
        Assert.Single(jobs["jobs"]!.AsArray());
    }

    [Fact]
    public async Task runs_of_a_job_carry_state_times_and_dataset_versions()
    {
        var runs = (await Get("/api/v1/namespaces/spark-etl/jobs/orders_daily.aggregate/runs"))["runs"]!.AsArray();
        var run = Assert.Single(runs)!;
        Assert.Equal("COMPLETED", (string?)run["state"]);
        Assert.True((long)run["durationMs"]! > 0);
        Assert.Equal(2, run["inputDatasetVersions"]!.AsArray().Count);
        Assert.Equal("1", (string?)run["outputDatasetVersions"]![0]!["datasetVersionId"]!["version"]);
        Assert.Equal((string?)run["id"], (string?)(await Get($"/api/v1/jobs/runs/{run["id"]}"))["id"]);
    }

    [Fact]
    public async Task a_dataset_shows_its_schema_fields_from_the_schema_facet()
    {
        var dataset = await Get($"/api/v1/namespaces/{E(OrdersDb)}/datasets/shop.public.orders");
        Assert.Equal(OrdersDb, (string?)dataset["namespace"]);
        Assert.Equal("DB_TABLE", (string?)dataset["type"]);
        Assert.Contains(dataset["fields"]!.AsArray(), f => (string?)f!["name"] == "order_id");
        Assert.NotNull(dataset["facets"]!["schema"]);

        var slashed = await Get($"/api/v1/namespaces/{E("s3://raw-bucket")}/datasets/{E("customers/2024-05-13")}");
        Assert.Equal("customers/2024-05-13", (string?)slashed["name"]);
        var listed = await Get($"/api/v1/namespaces/{E(Warehouse)}/datasets?limit=2");
        Assert.Equal(4, (int)listed["totalCount"]!); // staging.customers, marts.orders_daily, marts.customer_ltv, reporting.revenue_report
        Assert.Equal(2, listed["datasets"]!.AsArray().Count);
    }

    [Fact]
    public async Task lineage_of_a_dataset_follows_jobs_both_ways_with_depth_counted_in_jobs()
    {
        var node = $"dataset:{Warehouse}:analytics.marts.orders_daily";
        var graph = (await Get($"/api/v1/lineage?nodeId={E(node)}&depth=1"))["graph"]!.AsArray();
        var ids = graph.Select(n => (string)n!["id"]!).ToHashSet();
        // orders_daily is read by customer_ltv and revenue_report; depth 1 reaches those jobs and their datasets.
        Assert.Contains("job:dbt-analytics:analytics.marts.customer_ltv", ids);
        Assert.Contains("job:dbt-analytics:analytics.reporting.revenue_report", ids);
        Assert.Contains($"dataset:{Warehouse}:analytics.marts.customer_ltv", ids);
        Assert.Contains($"dataset:{Warehouse}:analytics.staging.customers", ids);
        Assert.DoesNotContain(ids, id => id.StartsWith("job:spark-etl", StringComparison.Ordinal)); // not connected

        var start = graph.Single(n => (string?)n!["id"] == node)!;
        Assert.Equal("DATASET", (string?)start["type"]);
        Assert.Equal(2, start["outEdges"]!.AsArray().Count);
        Assert.All(start["outEdges"]!.AsArray(), e => Assert.Equal(node, (string?)e!["origin"]));
        var job = graph.Single(n => (string?)n!["id"] == "job:dbt-analytics:analytics.marts.customer_ltv")!;
        Assert.Equal("JOB", (string?)job["type"]);
        Assert.Equal("analytics.marts.customer_ltv", (string?)job["data"]!["name"]);
        Assert.Contains(job["inEdges"]!.AsArray(), e => (string?)e!["origin"] == node);

        var only = (await Get($"/api/v1/lineage?nodeId={E(node)}&depth=0"))["graph"]!.AsArray();
        Assert.Single(only);
    }

    [Fact]
    public async Task lineage_of_a_job_includes_its_inputs_and_outputs()
    {
        var graph = (await Get("/api/v1/lineage?nodeId=job:spark-etl:orders_daily.aggregate&depth=20"))["graph"]!.AsArray();
        Assert.Equal(4, graph.Count);
        var output = graph.Single(n => (string?)n!["id"] == "dataset:s3://warehouse-bucket:marts/orders_daily")!;
        Assert.Equal("job:spark-etl:orders_daily.aggregate", (string?)output["inEdges"]![0]!["origin"]);
    }

    [Theory]
    [InlineData("/api/v1/lineage?nodeId=job:spark-etl:nope", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")]
    [InlineData("/api/v1/lineage?nodeId=table:a:b", HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")]
    [InlineData("/api/v1/lineage?nodeId=job:spark-etl", HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")]
    [InlineData("/api/v1/lineage", HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")]
    [InlineData("/api/v1/lineage?nodeId=job:spark-etl:orders_daily.aggregate&depth=-1", HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")]
    [InlineData("/api/v1/namespaces/spark-etl/jobs/nope", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")]
    [InlineData("/api/v1/namespaces/nope", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")]
    [InlineData("/api/v1/namespaces/spark-etl/datasets/nope", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")]
    [InlineData("/api/v1/jobs/runs/not-a-uuid", HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")]
    [InlineData("/api/v1/jobs/runs/018f74d4-0d00-7c41-9d0e-00000000ffff", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")]
    public async Task unknown_or_malformed_reads_answer_with_a_stable_code(string path, HttpStatusCode status, string code)
    {
        using var response = await Server.Http.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error_code"]);
    }
}

public sealed class MarquezReadSqliteTests : MarquezReadTests
{
    protected override bool Postgres => false;
}

public sealed class MarquezReadPostgresTests : MarquezReadTests
{
    protected override bool Postgres => true;
}
