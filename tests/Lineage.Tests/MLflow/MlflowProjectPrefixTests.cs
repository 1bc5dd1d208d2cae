using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Core.Governance;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;

namespace Lineage.Tests.MLflow;

/// <summary>A server with authentication on, a project team-a, and "ana" who writes in team-a only.</summary>
public abstract class ProjectPrefixTestBase : IAsyncLifetime
{
    protected TestServer Server = null!;
    protected abstract bool Postgres { get; }
    private readonly Dictionary<string, string> _tokens = new();

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync(Postgres, o => o with { CredentialCache = TimeSpan.Zero });
        var gov = new GovernanceStore(Server.Server.Database);
        await gov.CreatePrincipalAsync("root", PrincipalKind.User, null, true, "test");
        _tokens["root"] = (await gov.IssueTokenAsync("root", null, TimeSpan.FromHours(1), "test")).Secret;
        Assert.Equal(HttpStatusCode.Created, (await Send("POST", "/api/v1/projects/", """{"name":"team-a"}""", "root")).Status);
        await gov.CreatePrincipalAsync("ana", PrincipalKind.User, null, false, "test");
        await gov.GrantAsync("ana", "team-a", Role.Writer, "test");
        _tokens["ana"] = (await gov.IssueTokenAsync("ana", null, TimeSpan.FromHours(1), "test")).Secret;
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    protected void AddToken(string who, string secret) => _tokens[who] = secret;

    protected Task<(HttpStatusCode Status, string Text)> SendAs(string method, string path, string? json, string who) => Send(method, path, json, who);

    protected async Task<(HttpStatusCode Status, string Text)> Send(string method, string path, string? json, string who, byte[]? bytes = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _tokens[who]);
        if (bytes is not null) request.Content = new ByteArrayContent(bytes);
        else if (method is not ("GET" or "DELETE")) request.Content = new StringContent(json ?? "{}", Encoding.UTF8, "application/json");
        using var response = await Server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    protected async Task<JsonNode> Ok(string method, string path, string? json, string who)
    {
        var (status, text) = await Send(method, path, json, who);
        Assert.True(status == HttpStatusCode.OK, $"{method} {path}: {(int)status} {text}");
        return JsonNode.Parse(text.Length == 0 ? "{}" : text)!;
    }
}

/// <summary>
/// An MLflow client names a project with its tracking URI (<c>http://host/projects/team-a</c>): experiments and
/// registered models are created, found by name and searched in that project, artifacts go through the proxy under
/// the same prefix, and roles are checked on that project.
/// </summary>
public abstract class MlflowProjectPrefixTests : ProjectPrefixTestBase
{
    private const string TeamA = "/projects/team-a/api/2.0/mlflow";
    private const string Plain = "/api/2.0/mlflow";

    [Fact]
    public async Task experiments_runs_and_artifacts_made_through_the_prefix_live_in_that_project()
    {
        var experiment = (string)(await Ok("POST", $"{TeamA}/experiments/create", """{"name":"churn"}""", "ana"))["experiment_id"]!;
        var native = await Ok("GET", $"/api/v1/experiments/{experiment}", null, "root");
        Assert.Equal("team-a", (string?)native["project"]);

        // Found by name and listed through the prefix; the same name is free in the default project.
        Assert.Equal(experiment, (string?)(await Ok("GET", $"{TeamA}/experiments/get-by-name?experiment_name=churn", null, "ana"))["experiment"]!["experiment_id"]);
        var listed = (await Ok("POST", $"{TeamA}/experiments/search", """{"max_results":100}""", "ana"))["experiments"]!.AsArray();
        Assert.Equal(["churn"], listed.Select(e => (string)e!["name"]!));
        var plain = await Ok("POST", $"{Plain}/experiments/search", """{"max_results":100}""", "root");
        Assert.DoesNotContain("churn", plain["experiments"]!.AsArray().Select(e => (string)e!["name"]!));
        Assert.Equal(HttpStatusCode.NotFound, (await Send("GET", $"{Plain}/experiments/get-by-name?experiment_name=churn", null, "root")).Status);
        await Ok("POST", $"{Plain}/experiments/create", """{"name":"churn"}""", "root");

        // A run logs and uploads its artifact through the prefixed proxy, as the client does from mlflow-artifacts:/ URIs.
        var run = (string)(await Ok("POST", $"{TeamA}/runs/create", $$"""{"experiment_id":"{{experiment}}"}""", "ana"))["run"]!["info"]!["run_id"]!;
        await Ok("POST", $"{TeamA}/runs/log-batch", $$"""{"run_id":"{{run}}","metrics":[{"key":"auc","value":0.9,"timestamp":1,"step":0}]}""", "ana");
        var upload = await Send("PUT", $"/projects/team-a/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run}/artifacts/model/MLmodel", null, "ana",
            Encoding.UTF8.GetBytes("flavors: {}\n"));
        Assert.True(upload.Status == HttpStatusCode.OK, upload.Text);
        var download = await Send("GET", $"/projects/team-a/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run}/artifacts/model/MLmodel", null, "ana");
        Assert.Equal("flavors: {}\n", download.Text);
    }

    [Fact]
    public async Task registered_models_made_through_the_prefix_live_in_that_project()
    {
        await Ok("POST", $"{TeamA}/registered-models/create", """{"name":"churn-model"}""", "ana");
        Assert.Equal("team-a", (string?)(await Ok("GET", "/api/v1/models/churn-model?project=team-a", null, "root"))["project"]);
        Assert.Equal("churn-model", (string?)(await Ok("GET", $"{TeamA}/registered-models/get?name=churn-model", null, "ana"))["registered_model"]!["name"]);
        Assert.Single((await Ok("GET", $"{TeamA}/registered-models/search", null, "ana"))["registered_models"]!.AsArray());

        // Without the prefix the name means the default project, where it does not exist.
        var (status, text) = await Send("GET", $"{Plain}/registered-models/get?name=churn-model", null, "root");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("RESOURCE_DOES_NOT_EXIST", text);
    }

    [Fact]
    public async Task roles_are_checked_on_the_project_the_prefix_names()
    {
        // ana writes in team-a, and has no role in default.
        await Ok("POST", $"{TeamA}/experiments/create", """{"name":"allowed"}""", "ana");
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("POST", $"{Plain}/experiments/create", """{"name":"refused"}""", "ana")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("POST", $"{Plain}/registered-models/create", """{"name":"refused"}""", "ana")).Status);
        // A project she cannot see answers as one that does not exist would for her: refused, nothing revealed.
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("POST", "/projects/other/api/2.0/mlflow/experiments/create", """{"name":"x"}""", "ana")).Status);

        // An unknown project is a clear MLflow error for someone who may look everywhere.
        var (status, text) = await Send("POST", "/projects/nope/api/2.0/mlflow/experiments/create", """{"name":"x"}""", "root");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("RESOURCE_DOES_NOT_EXIST", text);
        Assert.Contains("nope", text);
    }
}

/// <summary>OpenLineage clients and Marquez readers name a project the same way: <c>url: http://host/projects/team-a</c>.</summary>
public abstract class OpenLineageProjectPrefixTests : ProjectPrefixTestBase
{
    private const string OlTeamA = "/projects/team-a/api/v1";

    private async Task<(HttpStatusCode Status, string Text)> Post(string path, string json, string who = "ana") => await SendAs("POST", path, json, who);

    [Fact]
    public async Task events_sent_through_the_prefix_land_in_that_project_and_read_back_only_there()
    {
        var run = Guid.CreateVersion7().ToString("D");
        var inputs = $"[{Lineage.Tests.Api.OpenLineageTests.Dataset("orders", "id")}]";
        var outputs = $"[{Lineage.Tests.Api.OpenLineageTests.Dataset("daily", "id")}]";
        var start = await Post($"{OlTeamA}/lineage", Lineage.Tests.Api.OpenLineageTests.Event(run, "START", "2026-11-25T10:00:00Z", inputs, "[]", "etl"));
        Assert.True(start.Status == HttpStatusCode.Created, start.Text);
        var complete = await Post($"{OlTeamA}/lineage", Lineage.Tests.Api.OpenLineageTests.Event(run, "COMPLETE", "2026-11-25T10:05:00Z", inputs, outputs, "etl"));
        Assert.True(complete.Status == HttpStatusCode.Created, complete.Text);
        var execution = (string)JsonNode.Parse(complete.Text)!["executionId"]!;
        Assert.Equal("team-a", (string?)JsonNode.Parse((await SendAs("GET", $"/api/v1/executions/{execution}", null, "root")).Text)!["project"]);

        // Marquez reads under the prefix see the job, its run and both datasets; the default project sees none of it.
        var job = JsonNode.Parse((await SendAs("GET", $"{OlTeamA}/namespaces/tests/jobs/etl", null, "ana")).Text)!;
        Assert.Equal("COMPLETED", (string?)job["latestRun"]!["state"]);
        Assert.Equal(2, JsonNode.Parse((await SendAs("GET", $"{OlTeamA}/namespaces/warehouse/datasets", null, "ana")).Text)!["totalCount"]!.GetValue<int>());
        var graph = await SendAs("GET", $"{OlTeamA}/lineage?nodeId=job:tests:etl&depth=2", null, "ana");
        Assert.True(graph.Status == HttpStatusCode.OK, graph.Text);
        Assert.Contains("dataset:warehouse:daily", graph.Text);
        Assert.DoesNotContain("tests", JsonNode.Parse((await SendAs("GET", "/api/v1/namespaces", null, "root")).Text)!["namespaces"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.NotFound, (await SendAs("GET", "/api/v1/namespaces/tests/jobs/etl", null, "root")).Status);

        // ana may not write OpenLineage into the default project, and a run recorded in team-a stays there.
        Assert.Equal(HttpStatusCode.Forbidden, (await Post("/api/v1/lineage", Lineage.Tests.Api.OpenLineageTests.Event(run, "COMPLETE", "2026-11-25T10:06:00Z", "[]", "[]", "etl"))).Status);
        var elsewhere = await Post("/api/v1/lineage", Lineage.Tests.Api.OpenLineageTests.Event(run, "FAIL", "2026-11-25T10:07:00Z", "[]", "[]", "etl"), "root");
        Assert.Equal(HttpStatusCode.Conflict, elsewhere.Status);
        Assert.Contains("another project", elsewhere.Text);
    }

    [Fact]
    public async Task marquez_job_run_read_by_id_is_read_in_the_runs_own_project_and_names_no_other()
    {
        var run = Guid.CreateVersion7().ToString("D");
        var created = await Post($"{OlTeamA}/lineage", Lineage.Tests.Api.OpenLineageTests.Event(run, "COMPLETE", "2026-11-25T10:05:00Z", "[]", "[]", "etl"));
        Assert.True(created.Status == HttpStatusCode.Created, created.Text);
        var gov = new GovernanceStore(Server.Server.Database);
        await gov.CreatePrincipalAsync("ben", PrincipalKind.User, null, false, "test");
        await gov.GrantAsync("ben", "default", Role.Reader, "test");
        AddToken("ben", (await gov.IssueTokenAsync("ben", null, TimeSpan.FromHours(1), "test")).Secret);

        // ana (team-a) finds her run by id with or without the prefix; this answered 404 "project 'default' does not
        // exist; existing projects: team-a" without it, naming a project the run has nothing to do with.
        foreach (var path in new[] { $"/api/v1/jobs/runs/{run}", $"{OlTeamA}/jobs/runs/{run}" })
        {
            var (status, text) = await SendAs("GET", path, null, "ana");
            Assert.True(status == HttpStatusCode.OK, $"{path}: {(int)status} {text}");
            Assert.Equal(run, (string?)JsonNode.Parse(text)!["id"]);
        }
        // ben (reader of default only) gets what a missing run gets, naming no project: neither team-a's name nor a
        // claim that team-a or default does not exist.
        var missing = Guid.CreateVersion7().ToString("D");
        foreach (var (path, id) in new[] { ($"/api/v1/jobs/runs/{run}", run), ($"{OlTeamA}/jobs/runs/{run}", run), ($"/api/v1/jobs/runs/{missing}", missing) })
        {
            var (status, text) = await SendAs("GET", path, null, "ben");
            Assert.True(status == HttpStatusCode.NotFound, $"{path}: {(int)status} {text}");
            var error = JsonNode.Parse(text)!;
            Assert.Equal("RESOURCE_DOES_NOT_EXIST", (string?)error["error_code"]);
            Assert.Equal($"run '{id}' does not exist", (string?)error["message"]);
        }
    }
}

public sealed class OpenLineageProjectPrefixSqliteTests : OpenLineageProjectPrefixTests
{
    protected override bool Postgres => false;
}

public sealed class OpenLineageProjectPrefixPostgresTests : OpenLineageProjectPrefixTests
{
    protected override bool Postgres => true;
}

public sealed class MlflowProjectPrefixSqliteTests : MlflowProjectPrefixTests
{
    protected override bool Postgres => false;
}

public sealed class MlflowProjectPrefixPostgresTests : MlflowProjectPrefixTests
{
    protected override bool Postgres => true;
}
