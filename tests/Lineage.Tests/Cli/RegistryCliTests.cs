using System.Text;
using System.Text.Json.Nodes;
using Lineage.Cli;
using Lineage.Tests.Support;

namespace Lineage.Tests.Cli;

/// <summary>`lineage models`, `lineage deployments` and `lineage manifest` in-process against a real server.</summary>
public sealed class RegistryCliTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private readonly TempDir _dir = new();

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<(int Code, string Out, string Err)> Remote(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync([.. args, "--server", _server.Address.ToString()], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private async Task<string> Ok(params string[] args)
    {
        var (code, output, error) = await Remote(args);
        Assert.True(code == 0, $"lineage {string.Join(' ', args)} exited {code}: {error}");
        return output;
    }

    [Fact]
    public async Task models_are_registered_promoted_through_an_approver_and_their_history_is_a_table_and_json()
    {
        var file = _dir.File("weights.bin");
        await File.WriteAllTextAsync(file, "weights");
        await _server.Client.RegisterArtifactAsync("churn-weights", file, "model");
        Assert.Contains("created registered model churn", await Ok("models", "create", "churn", "--approver", "carol", "--tag", "team=growth"));
        Assert.Contains("registered churn v1 from churn-weights v1 (READY)", await Ok("models", "register", "churn", "--artifact", "churn-weights@1"));

        var denied = await Remote("models", "alias", "churn", "champion", "1", "--as", "mallory");
        Assert.Equal(1, denied.Code);
        Assert.Contains("PERMISSION_DENIED", denied.Err);
        var filed = await Ok("models", "promote", "churn", "1", "--alias", "champion", "--as", "ana");
        var id = filed.Split("promotion request ")[1].Split(':')[0];
        Assert.Contains(id, await Ok("models", "requests"));
        Assert.Contains("approved by carol", await Ok("models", "approve", id, "--as", "carol"));
        Assert.Contains("champion", await Ok("models", "show", "churn:champion"));

        var table = await Ok("models", "history", "churn");
        Assert.Contains("│", table);
        Assert.Contains("carol", table);
        var json = JsonNode.Parse(await Ok("models", "history", "churn", "--json"))!;
        Assert.Equal("champion", (string?)json["changes"]![0]!["name"]);
        Assert.Equal("""{"versions":[]}""", (await Ok("models", "versions", "--tag", "team=none", "--model", "churn", "--json")).Trim());
        Assert.Contains("churn-weights v1", await Ok("models", "versions", "--model", "churn"));
    }

    [Fact]
    public async Task deployments_are_created_moved_rolled_back_and_summarised_and_a_manifest_verifies()
    {
        var file = _dir.File("w.bin");
        await File.WriteAllTextAsync(file, "w");
        await _server.Client.RegisterArtifactAsync("w", file, "model");
        await Ok("models", "create", "rec");
        await Ok("models", "register", "rec", "--artifact", "w@1");
        await Ok("models", "register", "rec", "--artifact", "w@1");
        var first = await Ok("deployments", "create", "production", "rec:1", "--endpoint", "https://rec.example/1", "--config", """{"replicas":2}""");
        var firstId = first.Split("deployment ")[1].Split(':')[0];
        await Ok("deployments", "status", firstId, "healthy");
        var second = await Ok("deployments", "create", "production", "rec:2");
        var secondId = second.Split("deployment ")[1].Split(':')[0];
        Assert.Contains($"rollback of {secondId}", await Ok("deployments", "rollback", secondId, "--reason", "errors"));
        var live = await Ok("deployments", "list");
        Assert.Contains("https://rec.example/1", live);
        Assert.Contains("retired", await Ok("deployments", "history", "production"));
        Assert.Contains("100%", await Ok("deployments", "stats"));

        var manifestFile = _dir.File("manifest.json");
        await Ok("manifest", "rec:1", "-o", manifestFile);
        Assert.Equal("rec-v1", (string?)JsonNode.Parse(await File.ReadAllTextAsync(manifestFile))!["model_id"]);
        Assert.Contains("all 1 digests check out", await Ok("manifest", "rec:1", "--verify", "--file", manifestFile));
        var tampered = (await File.ReadAllTextAsync(manifestFile)).Replace((string)JsonNode.Parse(await File.ReadAllTextAsync(manifestFile))!["artifact"]!["digest"]!,
            new string('0', 64));
        await File.WriteAllTextAsync(manifestFile, tampered, Encoding.UTF8);
        var failed = await Remote("manifest", "rec:1", "--verify", "--file", manifestFile);
        Assert.Equal(1, failed.Code);
        Assert.Contains("mismatch", failed.Out);
    }

    [Fact]
    public async Task help_for_the_new_commands_shows_examples()
    {
        foreach (var args in new[] { new[] { "models", "--help" }, ["deployments", "--help"], ["manifest", "--help"], ["models", "stage", "--help"] })
        {
            var stdout = new StringWriter();
            Assert.Equal(0, await CliApp.RunAsync(args, stdout, new StringWriter()));
            Assert.Contains("Example", stdout.ToString());
        }
    }
}
