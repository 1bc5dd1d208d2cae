using System.Text.Json.Nodes;
using Lineage.Examples.HousePrice;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>The issue's worked example (examples/house-price) against a real server; its manifest checked field by field.</summary>
public abstract class HousePriceExampleTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private readonly TempDir _work = new();

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(Postgres);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _work.Dispose();
    }

    [Fact]
    public async Task the_house_price_pipeline_yields_a_manifest_with_every_fact_of_the_issue()
    {
        var result = await HousePricePipeline.RunAsync(_server.Client, _work.Path);
        var m = result.Manifest;

        Assert.Equal("house-price-rf-v1", (string?)m["model_id"]);
        Assert.Equal("house-prices-raw@1", (string?)m["dataset_version"]);
        Assert.Equal("house-prices-clean@1", (string?)m["trained_on"]);

        var imputation = Assert.Single(m["preprocessing_details"]!["imputations"]!.AsArray())!;
        Assert.Equal(("bedrooms", "median", 3), ((string?)imputation["column"], (string?)imputation["strategy"], (int)imputation["value"]!));
        var scaling = Assert.Single(m["preprocessing_details"]!["scaling"]!.AsArray())!;
        Assert.Equal(("size", "standard_scaler", 1500.0, 500.0),
            ((string?)scaling["column"], (string?)scaling["method"], (double)scaling["mean"]!, (double)scaling["std_dev"]!));

        Assert.Equal(100L, (long)m["hyperparameters"]!["n_estimators"]!);
        Assert.Equal(10L, (long)m["hyperparameters"]!["max_depth"]!);
        Assert.Equal(42L, (long)m["seeds"]!["random_seed"]!);
        var rmse = (double)m["evaluation_metrics"]!["rmse"]!;
        var r2 = (double)m["evaluation_metrics"]!["r2_score"]!;
        Assert.Equal(result.Rmse, rmse, 6);
        Assert.InRange(r2, 0.5, 1.0);

        Assert.Equal("production", (string?)m["deployed_on"]);
        Assert.Equal("https://serving.example.com/models/house-price-rf/v1", (string?)m["endpoint_url"]);
        Assert.Equal("healthy", (string?)m["health"]);
        Assert.True((long)m["deployed_at"]! > 0);

        // Model and registry facts.
        Assert.Equal(("house-price-rf", 1L, "READY", "Production"),
            ((string?)m["model"]!["name"], (long)m["model"]!["version"]!, (string?)m["model"]!["status"], (string?)m["model"]!["stage"]));
        Assert.Equal(["champion"], m["registry"]!["aliases"]!.AsArray().Select(a => (string)a!));
        Assert.Equal(4, m["model"]!["input_features"]!.AsArray().Count);

        // Input datasets with digests, source, rows, schema and validations.
        var raw = m["datasets"]!.AsArray().Single(d => (string?)d!["name"] == "house-prices-raw")!;
        Assert.Equal(64, ((string)raw["digest"]!).Length);
        Assert.Equal(100_000L, (long)raw["row_count"]!);
        Assert.Equal("house-prices@1", (string?)raw["schema"]);
        Assert.StartsWith("file://", (string?)raw["source_uri"]);
        Assert.Equal(["size:float", "bedrooms:int", "location:str", "price:float"],
            raw["columns"]!.AsArray().Select(c => $"{c!["name"]}:{c["dtype"]}"));
        Assert.All(raw["validations"]!.AsArray(), v => Assert.True((bool)v!["passed"]!));
        Assert.Contains("0.2% missing", raw["validations"]!.AsArray().Select(v => (string?)v!["details"]).Single(d => d!.StartsWith("bedrooms")));

        // Steps from ingestion to training, and the feature set with size_per_bedroom.
        Assert.Equal(["ingestion", "preprocessing", "feature_engineering", "run"], m["steps"]!.AsArray().Select(s => (string)s!["type"]!));
        var feature = m["feature_set"]!["features"]!.AsArray().Single(f => (string?)f!["name"] == "size_per_bedroom")!;
        Assert.Equal(("float", "size / bedrooms"), ((string?)feature["dtype"], (string?)feature["transformation"]));

        // Code and environment of the training run.
        Assert.NotNull(m["run"]!["run_id"]);
        Assert.NotNull(m["environment"]!["runtime"]);

        // Every digest the manifest names checks out; the written manifest is the same document.
        var verified = await _server.Client.VerifyManifestAsync(m);
        Assert.True(verified.Ok, string.Join("; ", verified.Checks.Select(c => $"{c.Name}: {c.Status} {c.Detail}")));
        Assert.Equal(4, verified.Checks.Count); // raw and clean datasets, feature set, model
        Assert.Equal("house-price-rf-v1", (string?)JsonNode.Parse(await File.ReadAllTextAsync(result.ManifestPath))!["model_id"]);
    }
}

public sealed class HousePriceExampleSqliteTests : HousePriceExampleTests
{
    protected override bool Postgres => false;
}

public sealed class HousePriceExamplePostgresTests : HousePriceExampleTests
{
    protected override bool Postgres => true;
}
