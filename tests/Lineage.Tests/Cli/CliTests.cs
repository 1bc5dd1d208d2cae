using System.Text.Json.Nodes;
using Lineage.Cli;
using Lineage.Core.Contracts.V1;
using Lineage.Client;
using Lineage.Server;
using Lineage.Tests.Support;

namespace Lineage.Tests.Cli;

/// <summary>The `lineage` command run in-process against a real server; output captured.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<(int Code, string Out, string Err)> Cli(params string[] args) => InProcessCli.RunAsync(args);

    private Task<(int Code, string Out, string Err)> Remote(params string[] args) =>
        Cli([.. args, "--server", _server.Address.ToString()]);

    [Fact]
    public async Task experiments_create_then_list_shows_the_experiment_in_a_table_and_as_json()
    {
        var created = await Remote("experiments", "create", "cli-churn", "--tag", "team=growth", "--description", "weekly");
        Assert.Equal(0, created.Code);
        Assert.Contains("created experiment", created.Out);

        var table = await Remote("experiments", "list");
        Assert.Equal(0, table.Code);
        Assert.Contains("cli-churn", table.Out);
        Assert.Contains("team=growth", table.Out);
        Assert.Contains("│", table.Out); // a table, not a dump

        var json = await Remote("experiments", "list", "--json");
        var names = JsonNode.Parse(json.Out)!["experiments"]!.AsArray().Select(e => (string)e!["name"]!).ToList();
        Assert.Contains("cli-churn", names);
        Assert.Contains("Default", names);
    }

    [Fact]
    public async Task projects_create_then_list_shows_the_project_and_experiments_can_be_made_in_it()
    {
        var created = await Remote("projects", "create", "cli-team", "--description", "growth team");
        Assert.Equal(0, created.Code);
        Assert.Contains("created project 'cli-team'", created.Out);
        var table = await Remote("projects", "list");
        Assert.Contains("cli-team", table.Out);
        Assert.Contains("growth team", table.Out);
        Assert.Contains("│", table.Out);
        var names = JsonNode.Parse((await Remote("projects", "list", "--json")).Out)!["projects"]!.AsArray().Select(p => (string)p!["name"]!).ToList();
        Assert.Equal(["cli-team", "default"], names.Order());
        Assert.Contains("in project 'cli-team'", (await Remote("experiments", "create", "cli-exp", "--project", "cli-team")).Out);

        var again = await Remote("projects", "create", "cli-team");
        Assert.NotEqual(0, again.Code);
        Assert.Contains("already exists", again.Err);
    }

    [Fact]
    public async Task experiments_delete_and_restore_change_the_lifecycle()
    {
        var e = await _server.Client.CreateExperimentAsync("cli-temp");
        Assert.Contains("deleted", (await Remote("experiments", "delete", e.Id)).Out);
        Assert.Contains("cli-temp", (await Remote("experiments", "list", "--lifecycle", "deleted")).Out);
        Assert.DoesNotContain("cli-temp", (await Remote("experiments", "list")).Out);
        Assert.Contains("active", (await Remote("experiments", "restore", e.Id)).Out);
    }

    [Fact]
    public async Task runs_list_and_show_print_params_tags_and_latest_metrics()
    {
        var e = await _server.Client.CreateExperimentAsync("cli-runs");
        var run = await _server.Client.CreateRunAsync(new CreateRunRequest(e.Id, "cli-run-1"));
        await _server.Client.LogBatchAsync(run.RunId, new BatchRequest(
            [new LogMetricRequest("rmse", 0.25, 3, 1_700_000_000_000)], [new KeyValueDto("depth", "7")], [new KeyValueDto("stage", "dev")]));

        var list = await Remote("runs", "list", "--experiment", e.Id);
        Assert.Equal(0, list.Code);
        Assert.Contains(run.RunId, list.Out);
        Assert.Contains("rmse=0.25", list.Out);

        var show = await Remote("runs", "show", run.RunId);
        Assert.Equal(0, show.Code);
        Assert.Contains("cli-run-1", show.Out);
        Assert.Contains("depth", show.Out);
        Assert.Contains("stage", show.Out);
        Assert.Contains("Metrics (latest) (1)", show.Out);

        var json = await Remote("runs", "show", run.RunId, "--json");
        Assert.Equal("7", (string?)JsonNode.Parse(json.Out)!["params"]!["depth"]);
    }

    [Fact]
    public async Task an_unknown_run_is_exit_1_with_the_error_code_on_stderr()
    {
        var missing = Guid.NewGuid().ToString("N");
        var result = await Remote("runs", "show", missing);
        Assert.Equal(1, result.Code);
        Assert.Contains("RESOURCE_DOES_NOT_EXIST", result.Err);
        Assert.Contains(missing, result.Err);
    }

    [Fact]
    public async Task an_unreachable_server_says_how_to_start_one()
    {
        var result = await Cli("runs", "list", "--server", "http://127.0.0.1:9");
        Assert.Equal(1, result.Code);
        Assert.Contains("lineage server", result.Err);
    }

    [Fact]
    public async Task a_wrong_command_line_is_exit_2_and_help_explains_with_examples()
    {
        Assert.Equal(2, (await Cli("runs", "lisst")).Code);
        var help = await Cli("runs", "list", "--help");
        Assert.Equal(0, help.Code);
        Assert.Contains("Examples:", help.Out);
        Assert.Contains("lineage runs list --experiment", help.Out);
        Assert.Contains("--status", help.Out);
    }

    [Fact]
    public async Task db_upgrade_creates_a_new_database_and_status_shows_its_version()
    {
        using var dir = new TempDir();
        var db = dir.File("fresh.db");
        Assert.Equal(0, (await Cli("db", "upgrade", "--db", db)).Code);
        var status = await Cli("db", "status", "--db", db);
        Assert.Equal(0, status.Code);
        Assert.Contains($"schema version: {Lineage.Storage.Migrations.Migrator.LatestVersion(Lineage.Storage.Engine.SqlDialect.Sqlite)}", status.Out);
    }

    [Fact]
    public async Task artifacts_push_show_pull_alias_and_delete_round_trip()
    {
        using var dir = new TempDir();
        var file = dir.File("data.csv");
        await File.WriteAllTextAsync(file, "a,b\n1,2\n");
        var push = await Remote("artifacts", "push", "cli-data", file, "--type", "dataset", "--metadata", """{"rows": 1}""");
        Assert.Equal(0, push.Code);
        Assert.Contains("version 1", push.Out);
        Assert.Equal(0, (await Remote("artifacts", "push", "cli-data", file, "--type", "dataset")).Code);

        var show = await Remote("artifacts", "show", "cli-data", "1");
        Assert.Contains("\"rows\":1", show.Out.Replace(" ", ""));
        Assert.Equal(0, (await Remote("artifacts", "alias", "set", "cli-data", "production", "1")).Code);
        Assert.Contains("production", (await Remote("artifacts", "list", "--name", "cli-data")).Out);

        var copy = dir.File("copy.csv");
        Assert.Equal(0, (await Remote("artifacts", "pull", "cli-data", copy, "--version", "production")).Code);
        Assert.Equal("a,b\n1,2\n", await File.ReadAllTextAsync(copy));

        var refused = await Remote("artifacts", "delete", "cli-data", "1");
        Assert.Equal(1, refused.Code);
        Assert.Contains("CONFLICT", refused.Err);
        Assert.Contains("deleted", (await Remote("artifacts", "delete", "cli-data", "2")).Out);
        Assert.Contains("(removed)", (await Remote("artifacts", "alias", "delete", "cli-data", "production")).Out + (await Remote("artifacts", "alias", "history", "cli-data")).Out);
    }

    [Fact]
    public async Task graph_commands_show_impact_provenance_and_mermaid()
    {
        using var dir = new TempDir();
        var client = _server.Client;
        await File.WriteAllTextAsync(dir.File("d.csv"), "x");
        await client.RegisterArtifactAsync("cli-sales", dir.File("d.csv"), "dataset");
        string runId;
        await using (var run = await client.StartRunAsync("cli-lineage", "cli-train"))
        {
            runId = run.RunId;
            run.LogParam("depth", "4");
            await run.LogInputAsync("cli-sales", "1", "training_data");
            await File.WriteAllTextAsync(dir.File("m.bin"), "m");
            await run.RegisterArtifactAsync("cli-model", dir.File("m.bin"), "model");
        }
        var impact = await Remote("graph", "impact", "cli-sales@1");
        Assert.Equal(0, impact.Code);
        Assert.Contains("cli-model v1", impact.Out);
        Assert.Contains(runId, impact.Out);
        var provenance = await Remote("graph", "provenance", "cli-model@latest");
        Assert.Contains("cli-sales", provenance.Out);
        Assert.Contains("depth", provenance.Out);
        var mermaid = await Remote("graph", "show", "artifact:cli-model@1", "--direction", "upstream", "--format", "mermaid");
        Assert.StartsWith("graph LR", mermaid.Out);
        var path = await Remote("graph", "path", "artifact:cli-sales@1", "artifact:cli-model@1");
        Assert.Contains("cli-sales v1 (dataset) → cli-train (run) → cli-model v1 (model)", path.Out);
    }

    [Fact]
    public async Task gc_dry_run_verify_and_stats_work_on_the_store_directly()
    {
        using var dir = new TempDir();
        var db = dir.File("m.db");
        var artifacts = dir.File("artifacts");
        await using (var server = await LineageServer.StartAsync(new ServerOptions { Database = db, ArtifactRoot = artifacts, Port = 0 }))
        {
            using var client = new LineageClient(server.Address);
            var file = dir.File("x.txt");
            for (var i = 0; i < 3; i++)
            {
                await File.WriteAllTextAsync(file, $"content {i}");
                await client.RegisterArtifactAsync("nightly", file, "report");
            }
            await client.SetRetentionPolicyAsync(new RetentionPolicyDto(null, "name", "nightly", KeepLast: 1));
        }
        var gc = await Cli("gc", "--dry-run", "--db", db, "--artifacts", artifacts);
        Assert.Equal(0, gc.Code);
        Assert.Contains("gc would: delete 2 version(s) by retention", gc.Out);
        var verify = await Cli("verify", "--db", db, "--artifacts", artifacts);
        Assert.Equal(0, verify.Code);
        Assert.Contains("verified 3 blob(s)", verify.Out);
        var stats = await Cli("stats", "--db", db, "--artifacts", artifacts);
        Assert.Contains("metadata share", stats.Out);
    }
}
