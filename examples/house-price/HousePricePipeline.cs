using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Client;
using Lineage.Core.Contracts.V1;

namespace Lineage.Examples.HousePrice;

public sealed record HousePriceResult(JsonObject Manifest, string ManifestPath, ModelVersionDto Model, DeploymentDto Deployment, double Rmse, double R2);

/// <summary>
/// The house-price pipeline of issue 5, captured through the SDK step by step: ingestion (100,000 generated rows),
/// validation, preprocessing (median imputation, standard scaling), feature engineering (size_per_bedroom), training
/// (a random forest, n_estimators=100, max_depth=10), registration (house-price-rf) and serving (a deployment with
/// endpoint and health). Ends with the model version's reproducibility manifest.
/// </summary>
public static class HousePricePipeline
{
    public const int Rows = 100_000;
    public const string Model = "house-price-rf";
    private static readonly string[] Locations = ["downtown", "suburb", "rural", "coastal", "uptown"];
    private static readonly double[] LocationPremium = [90_000, 30_000, -20_000, 120_000, 60_000];

    private sealed record House(double Size, int? Bedrooms, string Location, double Price);

    public static async Task<HousePriceResult> RunAsync(LineageClient client, string workDir, Action<string>? log = null, CancellationToken ct = default)
    {
        log ??= _ => { };
        Directory.CreateDirectory(workDir);

        // 1. Ingestion: generate the data, register it as a dataset version with its source.
        var houses = Generate(Rows, seed: 42);
        var rawPath = Path.Combine(workDir, "houses.csv");
        WriteCsv(rawPath, houses.Select(h => (h.Size, h.Bedrooms, h.Location, h.Price)));
        var ingestedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        ArtifactVersionDto raw;
        await using (var ingestion = await client.StartExecutionAsync("ingestion", name: "ingest house sales",
                         properties: new { source_uri = new Uri(rawPath).AbsoluteUri, rows = Rows }, ct: ct))
        {
            raw = await client.RegisterArtifactAsync("house-prices-raw", rawPath, "dataset", new { rows = Rows, format = "csv" }, ct: ct);
            ingestion.AddOutput(raw, "raw");
        }
        log($"ingested {Rows:N0} rows as house-prices-raw v{raw.Version}");

        // 2. Validation: a declared schema the columns must match, a profile, checks with results.
        var columns = new List<ColumnSpecDto>
        {
            new("size", "float", false), new("bedrooms", "int", true), new("location", "str", false), new("price", "float", false),
        };
        var schema = await client.CreateDatasetSchemaAsync("house-prices", columns, ct: ct);
        var missing = houses.Count(h => h.Bedrooms is null);
        var missingPct = 100.0 * missing / Rows;
        await client.SetDatasetFactsAsync("house-prices-raw", raw.Version.ToString(CultureInfo.InvariantCulture), new DatasetFactsRequest(columns,
            new DatasetSourceDto(new Uri(rawPath).AbsoluteUri, "house-price-generator", ingestedAt), $"house-prices@{schema.Version}", Rows, Profile(houses)), ct: ct);
        await using (var validation = await client.StartExecutionAsync("validation", [new ArtifactRefDto(Id: raw.Id)], "validate house sales", ct: ct))
            await client.AddDatasetValidationsAsync("house-prices-raw", raw.Version.ToString(CultureInfo.InvariantCulture),
            [
                new("schema_matches", true, $"columns match house-prices@{schema.Version}: size:float, bedrooms:int, location:str, price:float"),
                new("row_count", houses.Count == Rows, $"{houses.Count:N0} rows"),
                new("missing_values_below_1pct", missingPct < 1, $"bedrooms {missingPct:0.0}% missing ({missing} rows); other columns complete"),
            ], ct: ct);
        log($"validated: {missingPct:0.0}% of bedrooms missing");

        // 3. Preprocessing: impute bedrooms with the median, standard-scale size with mean 1500 and std 500.
        var median = Median(houses.Where(h => h.Bedrooms is not null).Select(h => h.Bedrooms!.Value));
        const double sizeMean = 1500.0, sizeStd = 500.0;
        var clean = houses.Select(h => h with { Bedrooms = h.Bedrooms ?? median }).ToList();
        var cleanPath = Path.Combine(workDir, "houses-clean.csv");
        WriteCsv(cleanPath, clean.Select(h => ((h.Size - sizeMean) / sizeStd, h.Bedrooms, h.Location, h.Price)));
        ArtifactVersionDto cleaned;
        var preprocessing = new
        {
            imputations = new[] { new { column = "bedrooms", strategy = "median", value = median } },
            scaling = new[] { new { column = "size", method = "standard_scaler", mean = sizeMean, std_dev = sizeStd } },
        };
        await using (var step = await client.StartExecutionAsync("preprocessing", [new ArtifactRefDto(Id: raw.Id)], "impute and scale", properties: preprocessing,
                         ct: ct))
        {
            cleaned = await client.RegisterArtifactAsync("house-prices-clean", cleanPath, "dataset", new { rows = Rows }, ct: ct);
            step.AddOutput(cleaned, "clean");
        }
        await client.SetDatasetFactsAsync("house-prices-clean", cleaned.Version.ToString(CultureInfo.InvariantCulture), new DatasetFactsRequest(
            [new("size", "float", false), new("bedrooms", "int", false), new("location", "str", false), new("price", "float", false)],
            new DatasetSourceDto(new Uri(cleanPath).AbsoluteUri, "preprocessing", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), RowCount: Rows), ct: ct);
        log($"preprocessed: bedrooms imputed with median {median}, size scaled");

        // 4. Feature engineering: the feature set, derived from the clean dataset, with the new size_per_bedroom.
        var features = await client.RegisterFeatureSetAsync(new CreateFeatureSetRequest("house-price-features",
        [
            new("size", "float", null, "living area, standard-scaled", "(size - 1500) / 500", "data-team"),
            new("bedrooms", "int", null, "bedrooms, median-imputed", "coalesce(bedrooms, 3)", "data-team"),
            new("location", "str", null, "neighbourhood", "location", "data-team"),
            new("size_per_bedroom", "float", null, "living area per bedroom", "size / bedrooms", "data-team"),
        ], Description: "inputs of the house-price model", DerivedFrom: [new ArtifactRefDto(Id: cleaned.Id)]), ct);
        var rows = clean.Select(h => new[]
        {
            (h.Size - sizeMean) / sizeStd, h.Bedrooms!.Value, Array.IndexOf(Locations, h.Location), h.Size / h.Bedrooms!.Value,
        }).ToArray();
        var prices = clean.Select(h => h.Price).ToArray();
        log($"features: house-price-features v{features.Artifact.Version} ({features.Features.Count} features)");

        // 5. Training: a random forest on 80 %, evaluated on 20 %.
        ArtifactVersionDto weights;
        double rmse, r2;
        await using (var run = await client.StartRunAsync("house-price", "random-forest", ct: ct))
        {
            run.LogParam("n_estimators", "100");
            run.LogParam("max_depth", "10");
            run.LogParam("random_seed", "42");
            run.LogParam("bootstrap_sample_size", "2000");
            await run.LogInputAsync("house-prices-clean", cleaned.Version.ToString(CultureInfo.InvariantCulture), "training_data", ct);
            await run.LogInputAsync("house-price-features", features.Artifact.Version.ToString(CultureInfo.InvariantCulture), "features", ct);
            var split = (int)(Rows * 0.8);
            var forest = new RandomForest(trees: 100, maxDepth: 10, sampleSize: 2000, seed: 42);
            forest.Fit(rows[..split], prices[..split]);
            var test = Enumerable.Range(split, Rows - split).ToList();
            var errors = test.Select(i => forest.Predict(rows[i]) - prices[i]).ToList();
            rmse = Math.Sqrt(errors.Average(e => e * e));
            var mean = test.Average(i => prices[i]);
            r2 = 1 - errors.Sum(e => e * e) / test.Sum(i => (prices[i] - mean) * (prices[i] - mean));
            run.LogMetric("rmse", rmse);
            run.LogMetric("r2_score", r2);
            var modelPath = Path.Combine(workDir, "house-price-rf.json");
            await File.WriteAllTextAsync(modelPath, forest.ToJson(), ct);
            weights = await run.RegisterArtifactAsync("house-price-rf-model", modelPath, "model", new { framework = "lineage-example-random-forest" }, ct: ct);
        }
        log($"trained: rmse {rmse:N0}, r2 {r2:0.000}");

        // 6. Registration: house-price-rf, a version from the run's artifact, with its declared input features.
        try
        {
            await client.CreateModelAsync(Model, "random forest predicting house prices", new Dictionary<string, string> { ["team"] = "pricing" }, ct: ct);
        }
        catch (LineageApiException ex) when (ex.HttpStatus == 409)
        {
        }
        var version = await client.CreateModelVersionAsync(Model, new CreateModelVersionRequest(new ArtifactRefDto(Id: weights.Id),
            Description: "random forest, 100 trees of depth 10", Tags: new Dictionary<string, string> { ["framework"] = "random-forest", ["task"] = "regression" },
            FeatureSet: new ArtifactRefDto(Id: features.Artifact.Id),
            InputFeatures: [new("size", "float"), new("bedrooms", "int"), new("location", "str"), new("size_per_bedroom", "float")]), ct: ct);
        await client.TransitionModelStageAsync(Model, version.Version, "Production", archiveExisting: true, ct: ct);
        await client.SetModelAliasAsync(Model, "champion", version.Version, ct: ct);
        log($"registered {Model} v{version.Version}");

        // 7. Serving: deploy, check health, record it.
        var endpoint = $"https://serving.example.com/models/{Model}/v{version.Version}";
        var deployment = await client.DeployAsync("production", Model, version.Version, endpoint, new { replicas = 2, instance = "cpu-small" }, ct: ct);
        var sample = clean[0];
        var healthy = prices.Length > 0 && double.IsFinite(rmse);
        deployment = await client.SetDeploymentStatusAsync(deployment.Id, healthy ? "healthy" : "failed",
            $"health check: a {sample.Location} house of {sample.Size:0} sq ft answered", ct);
        log($"deployed to production at {endpoint}: {deployment.Status}");

        // 8. The manifest: everything needed to rebuild the model version.
        var manifest = await client.GetModelManifestAsync(Model, version.Version.ToString(CultureInfo.InvariantCulture), ct: ct);
        var manifestPath = Path.Combine(workDir, "manifest.json");
        await File.WriteAllTextAsync(manifestPath, manifest.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }), ct);
        return new HousePriceResult(manifest, manifestPath, version, deployment, rmse, r2);
    }

    private static List<House> Generate(int count, int seed)
    {
        var random = new Random(seed);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var houses = new List<House>(count);
        for (var i = 0; i < count; i++)
        {
            var size = Math.Clamp(1500 + 500 * Gaussian(), 300, 5000);
            var bedrooms = (int)Math.Clamp(Math.Round(size / 500 + 0.7 * Gaussian()), 1, 7);
            var location = random.Next(Locations.Length);
            var price = 50_000 + 150 * size + 10_000 * bedrooms + LocationPremium[location] + 20_000 * Gaussian();
            // Exactly 0.2 % of bedroom counts are missing, as in the example.
            houses.Add(new House(Math.Round(size, 1), i % 500 == 499 ? null : bedrooms, Locations[location], Math.Round(price, 2)));
        }
        return houses;
    }

    private static Dictionary<string, ColumnProfileDto> Profile(List<House> houses)
    {
        static ColumnProfileDto Numeric(IReadOnlyList<double?> values, int total)
        {
            var present = values.Where(v => v is not null).Select(v => v!.Value).ToList();
            return new ColumnProfileDto(100.0 * (total - present.Count) / total, present.Min(), present.Max(), present.Average(), present.Distinct().Count());
        }
        return new Dictionary<string, ColumnProfileDto>
        {
            ["size"] = Numeric(houses.Select(h => (double?)h.Size).ToList(), houses.Count),
            ["bedrooms"] = Numeric(houses.Select(h => (double?)h.Bedrooms).ToList(), houses.Count),
            ["location"] = new(0, null, null, null, houses.Select(h => h.Location).Distinct().Count()),
            ["price"] = Numeric(houses.Select(h => (double?)h.Price).ToList(), houses.Count),
        };
    }

    private static int Median(IEnumerable<int> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static void WriteCsv(string path, IEnumerable<(double Size, int? Bedrooms, string Location, double Price)> rows)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        writer.WriteLine("size,bedrooms,location,price");
        foreach (var (size, bedrooms, location, price) in rows)
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{size},{bedrooms},{location},{price}"));
    }
}
