using Lineage.Client;
using Lineage.Examples.HousePrice;

// The whole house-price pipeline against a running Lineage server; prints the model's reproducibility manifest.
// Usage: dotnet run --project examples/house-price -- [server URL] [work folder]
var url = args.Length > 0 ? args[0] : Environment.GetEnvironmentVariable("LINEAGE_SERVER_URL") is { Length: > 0 } env ? env : "http://127.0.0.1:5000";
var work = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "lineage-house-price");
using var client = new LineageClient(url);
var result = await HousePricePipeline.RunAsync(client, work, Console.WriteLine);
Console.WriteLine(result.Manifest.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"manifest written to {result.ManifestPath}");
