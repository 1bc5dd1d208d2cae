using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>Issue 7, item 7: every record keeps who created it and when, and who changed it last and when.</summary>
public abstract class ProvenanceTests
{
    protected abstract bool Postgres { get; }

    private static async Task<JsonNode> Send(TestServer server, string user, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Lineage-User", user);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length > 0 ? JsonNode.Parse(text)! : new JsonObject();
    }

    private static void AssertMadeBy(JsonNode record, string creator, string modifier)
    {
        Assert.Equal(creator, (string?)record["createdBy"]);
        Assert.Equal(modifier, (string?)record["updatedBy"]);
        Assert.True((long)record["updatedAt"]! >= (long)record["createdAt"]!, record.ToJsonString());
    }

    [Fact]
    public async Task a_record_created_by_one_user_and_changed_by_another_reports_both()
    {
        await using var server = await TestServer.StartAsync(Postgres);

        var project = await Send(server, "xavier", HttpMethod.Post, "/api/v1/projects/", """{"name":"prov"}""");
        AssertMadeBy(project, "xavier", "xavier");

        var experiment = await Send(server, "xavier", HttpMethod.Post, "/api/v1/experiments/", """{"name":"prov-exp"}""");
        var experimentId = (string)experiment["id"]!;
        AssertMadeBy(experiment, "xavier", "xavier");
        await Send(server, "yvonne", HttpMethod.Patch, $"/api/v1/experiments/{experimentId}", """{"description":"vision team"}""");
        AssertMadeBy(await Send(server, "reader", HttpMethod.Get, $"/api/v1/experiments/{experimentId}"), "xavier", "yvonne");

        var run = await Send(server, "xavier", HttpMethod.Post, "/api/v1/runs/", $$"""{"experimentId":"{{experimentId}}"}""");
        var runId = (string)run["runId"]!;
        AssertMadeBy(run, "xavier", "xavier");
        await Send(server, "yvonne", HttpMethod.Patch, $"/api/v1/runs/{runId}", """{"status":"FINISHED"}""");
        AssertMadeBy(await Send(server, "reader", HttpMethod.Get, $"/api/v1/runs/{runId}"), "xavier", "yvonne");
        // Logging metrics is data logged into the run, not a change of the run record.
        await Send(server, "zoe", HttpMethod.Post, $"/api/v1/runs/{runId}/batch", """{"metrics":[{"key":"loss","value":1,"step":0,"timestamp":1}]}""");
        AssertMadeBy(await Send(server, "reader", HttpMethod.Get, $"/api/v1/runs/{runId}"), "xavier", "yvonne");

        var execution = await Send(server, "xavier", HttpMethod.Post, "/api/v1/executions/", """{"type":"train","name":"prov-step"}""");
        var executionId = (string)execution["id"]!;
        AssertMadeBy(execution, "xavier", "xavier");
        await Send(server, "yvonne", HttpMethod.Patch, $"/api/v1/executions/{executionId}", """{"state":"COMPLETE"}""");
        AssertMadeBy(await Send(server, "reader", HttpMethod.Get, $"/api/v1/executions/{executionId}"), "xavier", "yvonne");

        var context = await Send(server, "xavier", HttpMethod.Post, "/api/v1/contexts/", """{"type":"pipeline","name":"prov-pipe"}""");
        var contextId = (string)context["id"]!;
        AssertMadeBy(context, "xavier", "xavier");
        await Send(server, "yvonne", HttpMethod.Post, $"/api/v1/contexts/{contextId}/members", $$"""{"executions":["{{executionId}}"]}""");
        AssertMadeBy((await Send(server, "reader", HttpMethod.Get, $"/api/v1/contexts/{contextId}"))["context"]!, "xavier", "yvonne");
    }

    [Fact]
    public async Task artifacts_models_versions_and_deployments_report_their_creator_and_last_modifier()
    {
        await using var server = await TestServer.StartAsync(Postgres);
        using var upload = new HttpRequestMessage(HttpMethod.Post, "/api/v1/artifacts/upload?name=prov-weights&type=model")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("weights")),
        };
        upload.Headers.Add("Lineage-User", "xavier");
        using var uploaded = await server.Http.SendAsync(upload);
        var artifact = JsonNode.Parse(await uploaded.Content.ReadAsStringAsync())!;
        AssertMadeBy(artifact, "xavier", "xavier");
        await Send(server, "yvonne", HttpMethod.Post, "/api/v1/artifacts/prov-weights/versions/1/tags", """{"key":"reviewed","value":"yes"}""");
        AssertMadeBy(await Send(server, "reader", HttpMethod.Get, "/api/v1/artifacts/prov-weights/versions/1"), "xavier", "yvonne");

        AssertMadeBy(await Send(server, "xavier", HttpMethod.Post, "/api/v1/models", """{"name":"prov-model"}"""), "xavier", "xavier");
        var version = await Send(server, "xavier", HttpMethod.Post, "/api/v1/models/prov-model/versions", $$$"""{"artifact":{"id":"{{{artifact["id"]}}}"}}""");
        AssertMadeBy(version, "xavier", "xavier");
        await Send(server, "yvonne", HttpMethod.Post, "/api/v1/models/prov-model/versions/1/stage", """{"stage":"Staging"}""");
        AssertMadeBy(await Send(server, "reader", HttpMethod.Get, "/api/v1/models/prov-model/versions/1"), "xavier", "yvonne");
        await Send(server, "yvonne", HttpMethod.Patch, "/api/v1/models/prov-model", """{"description":"churn"}""");
        AssertMadeBy(await Send(server, "reader", HttpMethod.Get, "/api/v1/models/prov-model"), "xavier", "yvonne");

        var deployment = await Send(server, "xavier", HttpMethod.Post, "/api/v1/deployments", """{"environment":"prod","model":"prov-model","version":1}""");
        AssertMadeBy(deployment, "xavier", "xavier");
        await Send(server, "yvonne", HttpMethod.Post, $"/api/v1/deployments/{deployment["id"]}/status", """{"status":"healthy"}""");
        AssertMadeBy(await Send(server, "reader", HttpMethod.Get, $"/api/v1/deployments/{deployment["id"]}"), "xavier", "yvonne");
    }
}

public sealed class ProvenanceSqliteTests : ProvenanceTests
{
    protected override bool Postgres => false;
}

public sealed class ProvenancePostgresTests : ProvenanceTests
{
    protected override bool Postgres => true;
}
