using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lineage.Core.Governance;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>
/// Issue 7, roles per project on every entity and every result: two projects, alpha and beta ("bsecret-beta"). A reader of
/// alpha gets for beta's entities exactly the answer a missing entity gets, and sees none of beta in lists,
/// searches, counts or lineage walks; a writer of alpha cannot write into beta.
/// Everything of beta is named "bsecret…", so a leak shows up as that text in an answer.
/// </summary>
public abstract partial class ProjectScopingTests : IAsyncLifetime
{
    protected TestServer Server = null!;
    protected abstract bool Postgres { get; }
    private readonly Dictionary<string, string> _tokens = new();

    private const string MissingRun = "0123456789abcdef0123456789abcdef";
    private const string Missing = "987654";

    // alpha's and beta's entities, filled by InitializeAsync
    private string _aExp = "", _aRun = "", _aArt = "", _aArt2 = "";
    private string _bExp = "", _bRun = "", _bArt = "", _bOut = "", _bExec = "", _bCtx = "", _bDep = "", _bPromo = "";

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync(Postgres, o => o with { CredentialCache = TimeSpan.Zero });
        var gov = new GovernanceStore(Server.Server.Database);
        await gov.CreatePrincipalAsync("root", PrincipalKind.User, null, true, "test");
        _tokens["root"] = (await gov.IssueTokenAsync("root", null, TimeSpan.FromHours(1), "test")).Secret;
        await Ok("POST", "/api/v1/projects/", """{"name":"alpha"}""", "root", HttpStatusCode.Created);
        await Ok("POST", "/api/v1/projects/", """{"name":"bsecret-beta"}""", "root", HttpStatusCode.Created);
        foreach (var (name, grants) in new (string, (string Project, Role Role)[])[]
                 {
                     ("readerA", [("alpha", Role.Reader)]), ("writerA", [("alpha", Role.Writer)]),
                     ("writerAreaderB", [("alpha", Role.Writer), ("bsecret-beta", Role.Reader)]),
                 })
        {
            await gov.CreatePrincipalAsync(name, PrincipalKind.User, null, false, "test");
            foreach (var (project, role) in grants) await gov.GrantAsync(name, project, role, "test");
            _tokens[name] = (await gov.IssueTokenAsync(name, null, TimeSpan.FromHours(1), "test")).Secret;
        }

        (_aExp, _aRun, _aArt) = await Tracked("alpha", "avisible");
        (_bExp, _bRun, _bArt) = await Tracked("bsecret-beta", "bsecret");
        // alpha's data → beta's step → beta's output → alpha's step → alpha's second artifact: a walk from alpha's
        // data must stop at the boundary and reach neither beta's nodes nor what lies behind them.
        _bOut = await External("bsecret-beta", "bsecret-features");
        _aArt2 = await External("alpha", "avisible-report");
        _bExec = Id(await Ok("POST", "/api/v1/executions/", $$$"""
            {"type":"bsecret-step","name":"bsecret-join","project":"bsecret-beta","inputs":[{"artifact":{"id":"{{{_aArt}}}"}}],"outputs":[{"artifact":{"id":"{{{_bOut}}}"}}]}
            """, "root", HttpStatusCode.Created));
        await Ok("POST", "/api/v1/executions/", $$$"""
            {"type":"report","name":"avisible-report-step","project":"alpha","inputs":[{"artifact":{"id":"{{{_bOut}}}"}}],"outputs":[{"artifact":{"id":"{{{_aArt2}}}"}}]}
            """, "root", HttpStatusCode.Created);
        _bCtx = Id(await Ok("POST", "/api/v1/contexts/", """{"type":"pipeline","name":"bsecret-pipeline","project":"bsecret-beta"}""", "root", HttpStatusCode.Created));
        await Ok("POST", "/api/v1/models/", """{"name":"bsecret-model","project":"bsecret-beta"}""", "root", HttpStatusCode.Created);
        await Ok("POST", "/api/v1/models/bsecret-model/versions?project=bsecret-beta", $$$"""{"artifact":{"id":"{{{_bOut}}}"}}""", "root", HttpStatusCode.Created);
        _bPromo = Id(await Ok("POST", "/api/v1/models/bsecret-model/promotions?project=bsecret-beta", """{"version":1,"alias":"champion"}""", "root",
            HttpStatusCode.Created));
        _bDep = Id(await Ok("POST", "/api/v1/deployments/", """{"environment":"bsecret-prod","model":"bsecret-model","version":1,"project":"bsecret-beta"}""",
            "root", HttpStatusCode.Created));
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>An experiment, a run with a metric and a param, and an external dataset artifact in a project.</summary>
    private async Task<(string Experiment, string Run, string Artifact)> Tracked(string project, string prefix)
    {
        var experiment = Id(await Ok("POST", "/api/v1/experiments/", $$$"""{"name":"{{{prefix}}}-exp","project":"{{{project}}}"}""", "root", HttpStatusCode.Created));
        var run = (string)(await Ok("POST", "/api/v1/runs/", $$$"""{"experimentId":"{{{experiment}}}","name":"{{{prefix}}}-run"}""", "root",
            HttpStatusCode.Created))["runId"]!;
        await Ok("POST", $"/api/v1/runs/{run}/batch", $$$"""{"params":[{"key":"lr","value":"{{{prefix}}}-lr"}],"metrics":[{"key":"loss","value":0.5,"step":0}]}""", "root");
        return (experiment, run, await External(project, prefix + "-data"));
    }

    private async Task<string> External(string project, string name) =>
        Id(await Ok("POST", "/api/v1/artifacts/", $$$"""
            {"name":"{{{name}}}","type":"dataset","project":"{{{project}}}","external":{"uri":"s3://lake/{{{name}}}","digest":"{{{new string('a', 64)}}}","size":1}}
            """, "root", HttpStatusCode.Created));

    private static string Id(JsonNode node) => (string)node["id"]!;

    private async Task<(HttpStatusCode Status, string Text)> Send(string method, string path, string? json, string who)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _tokens[who]);
        if (method is not ("GET" or "DELETE")) request.Content = new StringContent(json ?? "{}", Encoding.UTF8, "application/json");
        using var response = await Server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonNode> Ok(string method, string path, string? json, string who, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var (status, text) = await Send(method, path, json, who);
        Assert.True(status == expected, $"{method} {path} as {who}: {(int)status} {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    /// <summary>Routes that read one of beta's entities, each with the same route for an entity that does not exist.</summary>
    private IEnumerable<(string Beta, string Missing)> ReadsOfBeta()
    {
        foreach (var (template, real, missing) in new[]
                 {
                     ("/api/v1/experiments/{0}", _bExp, Missing),
                     ("/api/v1/runs/{0}", _bRun, MissingRun),
                     ("/api/v1/runs/{0}/metrics/history?key=loss", _bRun, MissingRun),
                     ("/api/v1/artifacts/by-id/{0}", _bArt, Missing),
                     ("/api/v1/executions/{0}", _bExec, Missing),
                     ("/api/v1/contexts/{0}", _bCtx, Missing),
                     ("/api/v1/deployments/{0}", _bDep, Missing),
                     ("/api/v1/promotions/{0}", _bPromo, Missing),
                     ("/api/v1/lineage/graph?node=artifact:{0}", _bArt, Missing),
                     ("/api/v1/lineage/graph?node=execution:{0}", _bExec, Missing),
                     ("/api/v1/lineage/graph?node=run:{0}", _bRun, MissingRun),
                     ("/api/v1/lineage/impact?artifact={0}", _bArt, Missing),
                     ("/api/v1/lineage/provenance?artifact={0}", _bOut, Missing),
                     ("/api/2.0/mlflow/runs/get?run_id={0}", _bRun, MissingRun),
                     ("/api/2.0/mlflow/experiments/get?experiment_id={0}", _bExp, Missing),
                     ("/api/2.0/mlflow/metrics/get-history?run_id={0}&metric_key=loss", _bRun, MissingRun),
                     ("/api/2.0/mlflow/artifacts/list?run_id={0}", _bRun, MissingRun),
                     ("/ajax-api/2.0/mlflow/runs/get?run_id={0}", _bRun, MissingRun),
                 })
            yield return (string.Format(template, real), string.Format(template, missing));
    }

    [Fact]
    public async Task reader_of_project_a_gets_for_every_entity_of_project_b_the_answer_of_a_missing_entity()
    {
        foreach (var (beta, missing) in ReadsOfBeta())
        {
            var asRoot = await Send("GET", beta, null, "root");
            Assert.True(asRoot.Status == HttpStatusCode.OK, $"{beta} as server admin: {(int)asRoot.Status} {asRoot.Text}");
            var hidden = await Send("GET", beta, null, "readerA");
            var absent = await Send("GET", missing, null, "readerA");
            Assert.True(hidden.Status == absent.Status, $"{beta}: {(int)hidden.Status} {hidden.Text}, a missing one {(int)absent.Status}");
            if (absent.Status == HttpStatusCode.OK)
            {
                // MLflow answers some reads of a missing run with an empty result.
                Assert.Equal(absent.Text, hidden.Text);
                continue;
            }
            Assert.Equal(HttpStatusCode.NotFound, absent.Status);
            // The same code and message, but for the id the caller sent.
            var idOf = (string url) => url.Split('/', '=', '?', '&', ':').First(part => part == MissingRun || part == Missing
                || part == _bExp || part == _bRun || part == _bArt || part == _bOut || part == _bExec || part == _bCtx || part == _bDep || part == _bPromo);
            var (expected, actual) = (JsonNode.Parse(absent.Text)!, JsonNode.Parse(hidden.Text)!);
            Assert.Equal((string?)expected["error_code"], (string?)actual["error_code"]);
            Assert.Equal((string?)expected["field"], (string?)actual["field"]);
            Assert.Equal(WithoutId((string)expected["message"]!, idOf(missing)), WithoutId((string)actual["message"]!, idOf(beta)));
        }
    }

    private static string WithoutId(string text, string id) => Regex.Replace(text, $"(?<![0-9a-zA-Z]){Regex.Escape(id)}(?![0-9a-zA-Z])", "ID");

    [Fact]
    public async Task lists_searches_and_counts_show_a_reader_of_project_a_nothing_of_project_b()
    {
        foreach (var path in new[]
                 {
                     "/api/v1/projects/", "/api/v1/experiments/", "/api/v1/artifacts/", "/api/v1/executions/", "/api/v1/models/",
                     "/api/v1/model-versions/", "/api/v1/deployments/", "/api/v1/promotions/", "/api/v1/environments/stats",
                     $"/api/v1/runs/?experimentId={_aExp}&experimentId={_bExp}", $"/api/v1/search/runs?experimentId={_aExp}&experimentId={_bExp}",
                     "/api/v1/search/experiments", "/api/v1/retention-policies/",
                     $"/api/2.0/mlflow/runs/search?experiment_ids={_aExp}&experiment_ids={_bExp}", "/api/2.0/mlflow/experiments/search?max_results=100",
                 })
        {
            var (status, text) = await Send("GET", path, null, "readerA");
            Assert.DoesNotContain("bsecret", text);
            Assert.DoesNotContain(_bRun, text);
            var admin = await Send("GET", path, null, "root");
            if (status == HttpStatusCode.OK && !path.Contains("retention")) Assert.Contains("bsecret", admin.Text); // the filter, not an empty store
        }
        var mine = await Ok("GET", "/api/v1/experiments/", null, "readerA");
        Assert.Equal(["avisible-exp"], mine["experiments"]!.AsArray().Select(e => (string)e!["name"]!));
        Assert.Equal(["alpha"], (await Ok("GET", "/api/v1/projects/", null, "readerA"))["projects"]!.AsArray().Select(p => (string)p!["name"]!));
        Assert.Contains(_aRun, (await Send("GET", $"/api/v1/search/runs?experimentId={_aExp}&experimentId={_bExp}", null, "readerA")).Text);
        // Naming a project one has no role on is refused outright, whether it exists or not.
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("GET", "/api/v1/models/?project=bsecret-beta", null, "readerA")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("GET", "/api/v1/models/?project=nosuch", null, "readerA")).Status);
    }

    [Fact]
    public async Task lineage_walks_are_pruned_at_the_boundary_of_readable_projects()
    {
        var (status, text) = await Send("GET", $"/api/v1/lineage/graph?node=artifact:{_aArt}&direction=both&depth=10", null, "readerA");
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.DoesNotContain("bsecret", text);
        Assert.DoesNotContain($"artifact:{_aArt2}", text); // alpha's, but only reachable through beta
        var impact = await Send("GET", $"/api/v1/lineage/impact?artifact={_aArt}", null, "readerA");
        Assert.DoesNotContain("bsecret", impact.Text);
        Assert.DoesNotContain("avisible-report", impact.Text);
        var full = await Send("GET", $"/api/v1/lineage/graph?node=artifact:{_aArt}&direction=both&depth=10", null, "root");
        Assert.Contains("bsecret-join", full.Text);
        Assert.Contains($"artifact:{_aArt2}", full.Text);
        // A walk that crosses projects says where each node belongs (the UI links into that project).
        var nodes = JsonNode.Parse(full.Text)!["nodes"]!.AsArray();
        Assert.Equal("bsecret-beta", (string?)nodes.Single(n => (string)n!["label"]! == "bsecret-join")!["project"]);
        Assert.Equal("alpha", (string?)nodes.Single(n => (string)n!["id"]! == $"artifact:{_aArt2}")!["project"]);
        var path = await Send("GET", $"/api/v1/lineage/path?from=artifact:{_aArt}&to=artifact:{_aArt2}", null, "readerA");
        Assert.Equal(HttpStatusCode.NotFound, path.Status);
        Assert.DoesNotContain("bsecret", path.Text);
    }

    [Fact]
    public async Task writer_of_project_a_cannot_write_into_project_b_and_b_stays_unchanged()
    {
        foreach (var (method, path, json) in new (string, string, string?)[]
                 {
                     ("POST", $"/api/v1/runs/{_bRun}/metrics", """{"key":"loss","value":9}"""),
                     ("PATCH", $"/api/v1/runs/{_bRun}", """{"status":"FAILED"}"""),
                     ("POST", $"/api/v1/runs/{_bRun}/tags", """{"key":"k","value":"v"}"""),
                     ("DELETE", $"/api/v1/runs/{_bRun}", null),
                     ("PATCH", $"/api/v1/experiments/{_bExp}", """{"description":"x"}"""),
                     ("DELETE", $"/api/v1/experiments/{_bExp}", null),
                     ("POST", "/api/v1/runs/", $$$"""{"experimentId":"{{{_bExp}}}"}"""),
                     ("PATCH", $"/api/v1/executions/{_bExec}", """{"state":"FAILED"}"""),
                     ("POST", $"/api/v1/executions/{_bExec}/events", $$$"""{"inputs":[{"artifact":{"id":"{{{_aArt}}}"}}]}"""),
                     ("POST", $"/api/v1/contexts/{_bCtx}/members", $$$"""{"artifacts":[{"id":"{{{_aArt}}}"}]}"""),
                     ("POST", $"/api/v1/deployments/{_bDep}/status", """{"status":"failed"}"""),
                     ("POST", $"/api/2.0/mlflow/runs/log-metric", $$$"""{"run_id":"{{{_bRun}}}","key":"loss","value":9,"timestamp":1,"step":1}"""),
                     ("POST", $"/api/2.0/mlflow/runs/set-tag", $$$"""{"run_uuid":"{{{_bRun}}}","key":"k","value":"v"}"""),
                     ("POST", $"/api/2.0/mlflow/runs/create", $$$"""{"experiment_id":"{{{_bExp}}}"}"""),
                     ("POST", $"/api/2.0/mlflow/experiments/update", $$$"""{"experiment_id":"{{{_bExp}}}","new_name":"taken"}"""),
                 })
        {
            var (status, text) = await Send(method, path, json, "writerA");
            Assert.True(status == HttpStatusCode.NotFound, $"{method} {path} as a writer of alpha only: {(int)status} {text}");
            Assert.DoesNotContain("bsecret", text);
            // With read on beta the same write is a plain 403.
            var (readable, why) = await Send(method, path, json, "writerAreaderB");
            Assert.True(readable == HttpStatusCode.Forbidden, $"{method} {path} as a reader of beta: {(int)readable} {why}");
        }
        foreach (var (path, json) in new[]
                 {
                     ("/api/v1/experiments/", """{"name":"intruder","project":"bsecret-beta"}"""),
                     ("/api/v1/models/", """{"name":"intruder","project":"bsecret-beta"}"""),
                     ("/api/v1/executions/", """{"type":"t","name":"intruder","project":"bsecret-beta"}"""),
                     ("/api/v1/contexts/", """{"type":"t","name":"intruder","project":"bsecret-beta"}"""),
                     ("/api/v1/artifacts/?project=alpha", $$$"""{"name":"intruder","type":"t","project":"bsecret-beta","external":{"uri":"s3://x","digest":"{{{new string('b', 64)}}}"}}"""),
                 })
            Assert.Equal(HttpStatusCode.Forbidden, (await Send("POST", path, json, "writerA")).Status);

        // The run id as the store also accepts it, in upper case: still no way in.
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("POST", $"/api/v1/runs/{_bRun.ToUpperInvariant()}/metrics", """{"key":"loss","value":9}""",
            "writerAreaderB")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send("POST", $"/api/v1/runs/{_bRun.ToUpperInvariant()}/metrics", """{"key":"loss","value":9}""",
            "writerA")).Status);
        var run = await Ok("GET", $"/api/v1/runs/{_bRun}", null, "root");
        Assert.Equal("RUNNING", (string?)run["status"]);
        Assert.Equal("bsecret-exp", (string?)(await Ok("GET", $"/api/v1/experiments/{_bExp}", null, "root"))["name"]);
        var history = await Ok("GET", $"/api/v1/runs/{_bRun}/metrics/history?key=loss", null, "root");
        Assert.Single(history["points"]!.AsArray());
        var experiments = await Ok("GET", "/api/v1/experiments/?project=bsecret-beta", null, "root");
        Assert.DoesNotContain("intruder", experiments.ToJsonString());
        // …while writing into alpha works.
        await Ok("POST", $"/api/v1/runs/{_aRun}/metrics", """{"key":"loss","value":0.1,"step":1}""", "writerA", HttpStatusCode.NoContent);
        await Ok("POST", "/api/v1/experiments/", """{"name":"mine","project":"alpha"}""", "writerA", HttpStatusCode.Created);
    }
}

public partial class ProjectScopingTests
{
    private const string Proxy = "/api/2.0/mlflow-artifacts/artifacts";

    private static readonly System.Text.Json.JsonSerializerOptions Unescaped = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [Fact]
    public async Task mlflow_proxy_files_of_project_b_are_missing_to_a_reader_of_project_a()
    {
        foreach (var (experiment, file) in new[] { (_aExp, "avisible.txt"), (_bExp, "bsecret.txt") })
            await Ok("PUT", $"{Proxy}/{experiment}/{file}", "content", "root");

        var hidden = await Send("GET", $"{Proxy}/{_bExp}/bsecret.txt", null, "readerA");
        var absent = await Send("GET", $"{Proxy}/{Missing}/bsecret.txt", null, "readerA");
        Assert.Equal(HttpStatusCode.NotFound, hidden.Status);
        Assert.Equal(WithoutId(JsonNode.Parse(absent.Text)!.ToJsonString(Unescaped), Missing), WithoutId(JsonNode.Parse(hidden.Text)!.ToJsonString(Unescaped), _bExp));
        Assert.Equal((await Send("GET", $"{Proxy}?path={Missing}", null, "readerA")).Text, (await Send("GET", $"{Proxy}?path={_bExp}", null, "readerA")).Text);
        var root = (await Send("GET", $"{Proxy}?path=", null, "readerA")).Text;
        Assert.Contains($"\"{_aExp}\"", root);
        Assert.DoesNotContain($"\"{_bExp}\"", root);
        Assert.Contains($"\"{_bExp}\"", (await Send("GET", $"{Proxy}?path=", null, "root")).Text);

        // A writer of alpha deletes nothing of beta's (the answer of a missing path: 404) and cannot upload into its folders.
        var deleteMissing = await Send("DELETE", $"{Proxy}/{Missing}/bsecret.txt", null, "writerA");
        var deleteHidden = await Send("DELETE", $"{Proxy}/{_bExp}/bsecret.txt", null, "writerA");
        Assert.Equal(HttpStatusCode.NotFound, deleteHidden.Status);
        Assert.Equal(WithoutId(JsonNode.Parse(deleteMissing.Text)!.ToJsonString(Unescaped), Missing), WithoutId(JsonNode.Parse(deleteHidden.Text)!.ToJsonString(Unescaped), _bExp));
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("DELETE", $"{Proxy}/{_bExp}/bsecret.txt", null, "writerAreaderB")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send("PUT", $"{Proxy}/{_bExp}/intruder.txt", "x", "writerA")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("PUT", $"{Proxy}/{_bExp}/intruder.txt", "x", "writerAreaderB")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send("GET", $"{Proxy}/{_bExp}/bsecret.txt", null, "root")).Status);
        Assert.DoesNotContain("intruder", (await Send("GET", $"{Proxy}?path={_bExp}", null, "root")).Text);
    }
}

public partial class ProjectScopingTests
{
    /// <summary>
    /// Issue 17: a writer of alpha registered an MLflow model version whose source named beta's proxy folder, which
    /// copied beta's files into alpha. Every source URI or id that names stored content is resolved with the caller's
    /// rights on the project that owns it.
    /// </summary>
    [Fact]
    public async Task a_model_version_source_in_another_project_is_missing_to_a_writer_without_read_on_it()
    {
        await Ok("PUT", $"{Proxy}/{_bExp}/{_bRun}/artifacts/model/bsecret-weights.bin", "bsecret-bytes", "root");
        await Ok("POST", "/projects/alpha/api/2.0/mlflow/registered-models/create", """{"name":"stolen"}""", "writerA");
        foreach (var source in new[]
                 {
                     $"mlflow-artifacts:/{_bExp}", $"mlflow-artifacts:/{_bExp}/{_bRun}/artifacts/model", $"runs:/{_bRun}/model",
                 })
        {
            var (status, text) = await Send("POST", "/projects/alpha/api/2.0/mlflow/model-versions/create",
                $$"""{"name":"stolen","source":"{{source}}"}""", "writerA");
            Assert.True(status == HttpStatusCode.NotFound, $"{source}: {(int)status} {text}");
            Assert.DoesNotContain("bsecret", text);
        }
        var versions = await Ok("GET", "/api/v1/models/stolen/versions?project=alpha", null, "root");
        Assert.DoesNotContain("\"version\"", versions.ToJsonString());
        Assert.DoesNotContain("bsecret", (await Send("GET", "/api/v1/artifacts?project=alpha", null, "root")).Text);

        // A writer who may read beta can register from it (they could download and upload the same bytes).
        await Ok("POST", "/projects/alpha/api/2.0/mlflow/registered-models/create", """{"name":"shared"}""", "writerAreaderB");
        await Ok("POST", "/projects/alpha/api/2.0/mlflow/model-versions/create", $$"""{"name":"shared","source":"mlflow-artifacts:/{{_bExp}}/{{_bRun}}/artifacts/model"}""",
            "writerAreaderB");
    }

    /// <summary>Every write that takes the id or URI of another entity, given one of beta's, answers as for a missing one.</summary>
    [Fact]
    public async Task every_write_that_references_another_entity_refuses_one_of_project_b()
    {
        var aCtx = Id(await Ok("POST", "/api/v1/contexts/", """{"type":"pipeline","name":"avisible-pipeline","project":"alpha"}""", "root", HttpStatusCode.Created));
        await Ok("POST", "/api/v1/models/", """{"name":"avisible-model","project":"alpha"}""", "root", HttpStatusCode.Created);
        foreach (var (method, path, json) in new (string, string, string)[]
                 {
                     ("POST", $"/api/v1/runs/{_aRun}/inputs", $$$"""{"artifact":{"id":"{{{_bArt}}}"},"role":"training_data"}"""),
                     ("POST", "/api/v1/executions/", $$$"""{"type":"t","name":"x","project":"alpha","inputs":[{"artifact":{"id":"{{{_bArt}}}"}}]}"""),
                     ("POST", "/api/v1/executions/", $$$"""{"type":"t","name":"x","project":"alpha","outputs":[{"artifact":{"id":"{{{_bOut}}}"}}]}"""),
                     ("POST", $"/api/v1/contexts/{aCtx}/members", $$$"""{"artifacts":[{"id":"{{{_bArt}}}"}]}"""),
                     ("POST", $"/api/v1/contexts/{aCtx}/members", $$$"""{"executions":["{{{_bExec}}}"]}"""),
                     ("POST", "/api/v1/models/avisible-model/versions?project=alpha", $$$"""{"artifact":{"id":"{{{_bOut}}}"}}"""),
                     ("POST", "/projects/alpha/api/2.0/mlflow/model-versions/create", $$$"""{"name":"avisible-model","source":"runs:/{{{_bRun}}}/model"}"""),
                     ("POST", "/projects/alpha/api/2.0/mlflow/model-versions/create", $$$"""{"name":"avisible-model","source":"mlflow-artifacts:/{{{_bExp}}}/x"}"""),
                 })
        {
            var before = (await Ok("GET", $"/api/v1/experiments/{_bExp}", null, "root")).ToJsonString();
            var (status, text) = await Send(method, path, json, "writerA");
            Assert.True(status == HttpStatusCode.NotFound, $"{method} {path} {json} as a writer of alpha only: {(int)status} {text}");
            Assert.DoesNotContain("bsecret", text);
            Assert.Equal(before, (await Ok("GET", $"/api/v1/experiments/{_bExp}", null, "root")).ToJsonString());
        }
    }
}

public sealed class ProjectScopingSqliteTests : ProjectScopingTests
{
    protected override bool Postgres => false;
}

public sealed class ProjectScopingPostgresTests : ProjectScopingTests
{
    protected override bool Postgres => true;
}
