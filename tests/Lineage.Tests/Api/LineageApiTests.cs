using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Client;
using Lineage.Core.Contracts.V1;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>Lineage over HTTP, through the SDK and the CLI: capture, queries, exports, bad input.</summary>
public abstract class LineageApiTests : IAsyncLifetime
{
    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Postgres);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>sales v1 → [train run] → churn-model v1 → [evaluate step] → eval-report v1.</summary>
    private async Task<(string RunId, ArtifactVersionDto Model, ArtifactVersionDto Report)> Pipeline(TempDir dir)
    {
        var client = Server.Client;
        var file = dir.File("sales.csv");
        await File.WriteAllTextAsync(file, "a,b\n");
        await client.RegisterArtifactAsync("sales", file, "dataset");
        ArtifactVersionDto model;
        string runId;
        await using (var run = await client.StartRunAsync("lineage-demo", "train"))
        {
            runId = run.RunId;
            run.LogParam("lr", "0.05");
            await run.LogInputAsync("sales", "1", "training_data");
            await File.WriteAllTextAsync(dir.File("model.bin"), "weights");
            model = await run.RegisterArtifactAsync("churn-model", dir.File("model.bin"), "model");
        }
        ArtifactVersionDto report;
        await using (var step = await client.StartExecutionAsync("evaluation", [new ArtifactRefDto(Name: "churn-model", Version: "1")], "evaluate"))
        {
            await File.WriteAllTextAsync(dir.File("report.html"), "<h1>ok</h1>");
            report = await client.RegisterArtifactAsync("eval-report", dir.File("report.html"), "report");
            step.AddOutput(report, "report");
        }
        return (runId, model, report);
    }

    [Fact]
    public async Task sdk_capture_builds_the_graph_and_impact_and_provenance_answer()
    {
        using var dir = new TempDir();
        var (runId, model, _) = await Pipeline(dir);
        var client = Server.Client;

        var down = await client.GetLineageAsync("artifact:sales@1", "downstream");
        Assert.Equal(["sales v1", "train", "churn-model v1", "evaluate", "eval-report v1"], down.Nodes.Select(n => n.Label));
        Assert.Equal("COMPLETE", down.Nodes.Single(n => n.Label == "evaluate").State);
        Assert.Equal("COMPLETE", down.Nodes.Single(n => n.Label == "train").State); // the run finished

        var impact = await client.GetImpactAsync("sales@1");
        Assert.Equal([runId], impact.Runs);
        Assert.Equal([model.Id], impact.ModelVersions.Select(m => m.Id));

        var provenance = await client.GetProvenanceAsync("churn-model@1");
        Assert.Equal(["sales"], provenance.Datasets.Select(d => d.Name));
        Assert.Equal("0.05", provenance.RunParams[runId]["lr"]);

        var path = await client.GetLineagePathAsync("artifact:eval-report@latest", $"run:{runId}");
        Assert.Equal(["train", "churn-model v1", "evaluate", "eval-report v1"], path.Nodes.Select(n => n.Label));

        var mermaid = await client.ExportLineageAsync("artifact:sales@1", "mermaid", "downstream");
        Assert.StartsWith("graph LR", mermaid);
        Assert.Contains("-->|training_data|", mermaid);
        Assert.StartsWith("digraph lineage", await client.ExportLineageAsync($"run:{runId}", "dot"));
    }

    [Fact]
    public async Task a_failing_step_ends_failed()
    {
        string? id = null;
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var step = await Server.Client.StartExecutionAsync("ingestion", name: "pull crm");
            id = step.Id;
            throw new InvalidOperationException("source down");
        });
        var execution = JsonNode.Parse(await Server.Http.GetStringAsync($"/api/v1/executions/{id}"))!;
        Assert.Equal("FAILED", (string?)execution["state"]);
    }

    [Fact]
    public async Task bad_lineage_requests_are_4xx_with_the_field_named()
    {
        using var dir = new TempDir();
        var (runId, _, report) = await Pipeline(dir);
        var http = Server.Http;

        using var cycle = await http.PostAsync($"/api/v1/runs/{runId}/inputs",
            new StringContent($$"""{"artifact":{"id":"{{report.Id}}"},"role":"feedback"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, cycle.StatusCode);
        Assert.Contains("cycle", await cycle.Content.ReadAsStringAsync());

        using var badNode = await http.GetAsync("/api/v1/lineage/graph?node=dataset:sales");
        Assert.Equal(HttpStatusCode.BadRequest, badNode.StatusCode);
        Assert.Equal("node", (string?)JsonNode.Parse(await badNode.Content.ReadAsStringAsync())!["field"]);

        using var missing = await http.GetAsync("/api/v1/lineage/impact?artifact=sales@9");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("latest is 1", await missing.Content.ReadAsStringAsync());

        using var depth = await http.GetAsync("/api/v1/lineage/graph?node=artifact:sales@1&depth=1000");
        Assert.Equal(HttpStatusCode.BadRequest, depth.StatusCode);

        using var state = await http.PostAsync("/api/v1/executions",
            new StringContent("""{"type":"training","name":"x","state":"DONE"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, state.StatusCode);
    }

    [Fact]
    public async Task an_artifact_name_in_a_lineage_query_is_looked_up_in_the_named_project()
    {
        var http = Server.Http;
        using (var project = await http.PostAsync("/api/v1/projects", new StringContent("""{"name":"vision"}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, project.StatusCode);
        async Task<string> Upload(string project, string name)
        {
            using var res = await http.PostAsync($"/api/v1/artifacts/upload?project={project}&name={name}&type=dataset", new ByteArrayContent("a,b\n"u8.ToArray()));
            Assert.Equal(HttpStatusCode.Created, res.StatusCode);
            return "artifact:" + (string)JsonNode.Parse(await res.Content.ReadAsStringAsync())!["id"]!;
        }
        var inDefault = await Upload("default", "sales");
        var inVision = await Upload("vision", "sales");
        await Upload("vision", "features");
        using (var step = await http.PostAsync("/api/v1/executions", new StringContent("""
            {"project":"vision","type":"featurize","name":"featurize","state":"COMPLETE",
             "inputs":[{"artifact":{"project":"vision","name":"sales","version":"1"}}],"outputs":[{"artifact":{"project":"vision","name":"features","version":"1"}}]}
            """, Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, step.StatusCode);

        async Task<string> Root(string query)
        {
            using var res = await http.GetAsync("/api/v1/lineage/" + query);
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
            return (string)JsonNode.Parse(await res.Content.ReadAsStringAsync())!["root"]!;
        }
        Assert.Equal(inVision, await Root("graph?node=artifact:sales@1&project=vision"));
        Assert.Equal(inDefault, await Root("graph?node=artifact:sales@1"));
        Assert.Equal(inVision, await Root("impact?artifact=sales@latest&project=vision"));
        Assert.Equal(inVision, await Root("provenance?artifact=sales@1&project=vision"));
        Assert.Equal(inVision, await Root("path?from=artifact:sales@1&to=artifact:features@1&project=vision"));

        // Without the project the names are looked up in default, which has no "features"; an unknown project is not found either.
        using var inDefaultOnly = await http.GetAsync("/api/v1/lineage/path?from=artifact:sales@1&to=artifact:features@1");
        Assert.Equal(HttpStatusCode.NotFound, inDefaultOnly.StatusCode);
        using var elsewhere = await http.GetAsync("/api/v1/lineage/graph?node=artifact:sales@1&project=nowhere");
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
    }

    [Fact]
    public async Task contexts_group_executions_and_artifacts_over_http()
    {
        using var dir = new TempDir();
        var (runId, _, _) = await Pipeline(dir);
        var http = Server.Http;
        using var created = await http.PostAsync("/api/v1/contexts",
            new StringContent("""{"type":"pipeline_run","name":"nightly-1"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var contextId = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
        var runExecution = (await Server.Client.GetLineageAsync($"run:{runId}", "downstream", 1)).Root.Split(':')[1];
        using var members = await http.PostAsync($"/api/v1/contexts/{contextId}/members",
            new StringContent($$"""{"executions":["{{runExecution}}"],"artifacts":[{"name":"sales","version":"1"}]}""", Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await members.Content.ReadAsStringAsync())!;
        Assert.Equal(runId, (string?)body["executions"]![0]!["runId"]);
        Assert.Equal("sales", (string?)body["artifacts"]![0]!["name"]);
    }

    [Fact]
    public async Task contexts_are_listed_by_type_parent_and_project_newest_first_in_pages()
    {
        var http = Server.Http;
        async Task<string> Create(string json, string? project = null)
        {
            using var response = await http.PostAsync("/api/v1/contexts", new StringContent(json, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Created, text);
            return (string)JsonNode.Parse(text)!["id"]!;
        }
        async Task<(List<string> Ids, string? Next)> List(string query)
        {
            var body = JsonNode.Parse(await http.GetStringAsync($"/api/v1/contexts?{query}"))!;
            return (body["contexts"]!.AsArray().Select(c => (string)c!["id"]!).ToList(), (string?)body["nextPageToken"]);
        }
        using (var project = await http.PostAsync("/api/v1/projects", new StringContent("""{"name":"team-b"}""", Encoding.UTF8, "application/json")))
            Assert.True(project.IsSuccessStatusCode);
        var pipeline = await Create("""{"type":"pipeline","name":"churn"}""");
        var runs = new List<string>();
        for (var i = 0; i < 3; i++) runs.Add(await Create($$"""{"type":"pipeline_run","name":"churn-{{i}}","parentId":"{{pipeline}}"}"""));
        var other = await Create("""{"type":"pipeline_run","name":"fraud-1","project":"team-b"}""");

        Assert.Equal([other, runs[2], runs[1], runs[0]], (await List("type=pipeline_run")).Ids); // every readable project
        Assert.Equal([runs[2], runs[1], runs[0]], (await List("type=pipeline_run&project=default")).Ids);
        Assert.Equal([other], (await List("type=pipeline_run&project=team-b")).Ids);
        Assert.Equal([pipeline], (await List("type=pipeline")).Ids);
        Assert.Equal([runs[2], runs[1], runs[0]], (await List($"parentId={pipeline}")).Ids);
        var first = await List("type=pipeline_run&project=default&limit=2");
        Assert.Equal([runs[2], runs[1]], first.Ids);
        var rest = await List($"type=pipeline_run&project=default&limit=2&pageToken={first.Next}");
        Assert.Equal([runs[0]], rest.Ids);
        Assert.Null(rest.Next);
        Assert.Empty((await List("type=nothing_here")).Ids);

        foreach (var (query, field) in new[] { ("type=Not%20A%20Type", "type"), ("parentId=x", "parentId"), ("limit=0", "limit"), ("project=nowhere", "") })
        {
            using var bad = await http.GetAsync($"/api/v1/contexts?{query}");
            var text = await bad.Content.ReadAsStringAsync();
            Assert.True(bad.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{query}: {(int)bad.StatusCode} {text}");
            Assert.Contains(field, text);
        }
    }
}

public sealed class LineageApiSqliteTests : LineageApiTests
{
    protected override bool Postgres => false;
}

public sealed class LineageApiPostgresTests : LineageApiTests
{
    protected override bool Postgres => true;
}
