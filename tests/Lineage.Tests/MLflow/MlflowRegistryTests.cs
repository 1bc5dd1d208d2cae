using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lineage.Core.Artifacts;
using Lineage.Core.Lineage;
using Lineage.Storage.Lineage;
using Lineage.Storage.Registry;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Tests.MLflow;

/// <summary>
/// The model-registry part of the MLflow API beyond the recording: versions from runs:/ sources linked in
/// lineage, alias moves, stage transitions with archive_existing_versions, search filters and paging,
/// deletes, and the 4xx answers where MLflow would answer 500. Runs on SQLite and PostgreSQL.
/// </summary>
public abstract class MlflowRegistryTests : IAsyncLifetime
{
    private const string Api = "/api/2.0/mlflow";

    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Postgres);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Send(HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        using var response = await Server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private async Task<JsonNode> Ok(HttpMethod method, string path, object body)
    {
        var (status, json) = await Send(method, path, body);
        Assert.True(status == HttpStatusCode.OK, $"{method} {path}: {(int)status} {json?.ToJsonString()}");
        return json!;
    }

    private Task<JsonNode> Post(string path, object body) => Ok(HttpMethod.Post, Api + path, body);

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Get(string pathAndQuery)
    {
        using var response = await Server.Http.GetAsync(Api + pathAndQuery);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>A run with a two-file model folder uploaded through the artifact proxy, as mlflow.sklearn.log_model does.</summary>
    private async Task<string> RunWithModelFiles()
    {
        var run = await Post("/runs/create", new { experiment_id = "0", run_name = "train", start_time = 1000 });
        var runId = (string)run["run"]!["info"]!["run_id"]!;
        foreach (var (file, content) in new[] { ("MLmodel", "flavors: {}\n"), ("model.pkl", "pickled bytes") })
        {
            using var put = await Server.Http.PutAsync($"/api/2.0/mlflow-artifacts/artifacts/0/{runId}/artifacts/model/{file}",
                new ByteArrayContent(Encoding.UTF8.GetBytes(content)));
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        return runId;
    }

    private async Task<string> Version(string model, string source, string? runId = null, object? tags = null)
    {
        var created = await Post("/model-versions/create", new { name = model, source, run_id = runId, tags = tags ?? Array.Empty<object>() });
        return (string)created["model_version"]!["version"]!;
    }

    [Fact]
    public async Task a_version_from_a_runs_uri_is_the_runs_model_artifact_in_the_registry_and_in_lineage()
    {
        var runId = await RunWithModelFiles();
        await Post("/registered-models/create", new { name = "churn" });
        var created = await Post("/model-versions/create", new { name = "churn", source = $"runs:/{runId}/model", run_id = runId });
        Assert.Equal($"runs:/{runId}/model", (string?)created["model_version"]!["source"]);
        Assert.Equal(runId, (string?)created["model_version"]!["run_id"]);

        // The native registry sees the same version: linked to the run, over a directory artifact the run produced.
        var registry = Server.Server.App.Services.GetRequiredService<RegistryStore>();
        var native = await registry.GetVersionAsync(null, "churn", new VersionRef(1, null));
        Assert.Equal(runId, native.RunId);
        Assert.Equal("model", native.Artifact.Type);
        Assert.Equal(ArtifactKind.Directory, native.Artifact.Kind);
        Assert.Equal(2, native.Artifact.FileCount);
        Assert.Equal(runId, native.Artifact.ProducerRunId);

        // Lineage: the run's execution produced the model artifact.
        var lineage = Server.Server.App.Services.GetRequiredService<LineageStore>();
        var execution = await lineage.ExecutionOfRunAsync(runId);
        var graph = await lineage.GraphAsync(new GraphQuery(new NodeId(NodeKind.Artifact, native.Artifact.Id), Direction.Upstream, 1));
        Assert.Contains(graph.Edges, e => e.From == new NodeId(NodeKind.Execution, execution.Id) && e.To == new NodeId(NodeKind.Artifact, native.Artifact.Id));

        // The same folder registered again (mlflow-artifacts: spelling, no run id) reuses the artifact version and still
        // links the run in lineage, while MLflow's run_id stays what the client sent ("").
        var again = await Post("/model-versions/create", new { name = "churn", source = $"mlflow-artifacts:/0/{runId}/artifacts/model" });
        Assert.Equal("", (string?)again["model_version"]!["run_id"]);
        var second = await registry.GetVersionAsync(null, "churn", new VersionRef(2, null));
        Assert.Equal(native.Artifact.Id, second.Artifact.Id);
        Assert.Equal(runId, second.RunId);

        // The UI route serves the version's files, for a runs:/ source too (MLflow 2.12 answers 500 there).
        using var file = await Server.Http.GetAsync("/model-versions/get-artifact?name=churn&version=1&path=MLmodel");
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("flavors: {}\n", await file.Content.ReadAsStringAsync());
        var uri = await Get("/model-versions/get-download-uri?name=churn&version=1");
        Assert.Equal($"runs:/{runId}/model", (string?)uri.Body!["artifact_uri"]);
    }

    [Fact]
    public async Task a_version_from_a_source_this_server_does_not_hold_is_an_external_model_artifact()
    {
        await Post("/registered-models/create", new { name = "ext" });
        await Version("ext", "s3://bucket/models/ext/1");
        var native = await Server.Server.App.Services.GetRequiredService<RegistryStore>().GetVersionAsync(null, "ext", new VersionRef(1, null));
        Assert.Equal(ArtifactKind.External, native.Artifact.Kind);
        Assert.Equal("s3://bucket/models/ext/1", native.Artifact.ExternalUri);
        Assert.Null(native.RunId);
        await Version("ext", "s3://bucket/models/ext/1");
        var again = await Server.Server.App.Services.GetRequiredService<RegistryStore>().GetVersionAsync(null, "ext", new VersionRef(2, null));
        Assert.Equal(native.Artifact.Id, again.Artifact.Id);
        // Its files are not here to serve: 404, not MLflow's 500.
        using var file = await Server.Http.GetAsync("/model-versions/get-artifact?name=ext&version=1&path=MLmodel");
        Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
        Assert.Equal("s3://bucket/models/ext/1", (string?)(await Get("/model-versions/get-download-uri?name=ext&version=1")).Body!["artifact_uri"]);
    }

    [Fact]
    public async Task moving_an_alias_points_it_at_the_new_version_and_keeps_the_history()
    {
        var runId = await RunWithModelFiles();
        await Post("/registered-models/create", new { name = "m" });
        await Version("m", $"runs:/{runId}/model", runId);
        await Version("m", $"runs:/{runId}/model", runId);
        await Post("/registered-models/alias", new { name = "m", alias = "champion", version = "1" });
        await Post("/registered-models/alias", new { name = "m", alias = "champion", version = "2" });

        var (status, byAlias) = await Get("/registered-models/alias?name=m&alias=champion");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("2", (string?)byAlias!["model_version"]!["version"]);
        Assert.Equal(new[] { "champion" }, byAlias["model_version"]!["aliases"]!.AsArray().Select(a => (string)a!));
        var (_, v1) = await Get("/model-versions/get?name=m&version=1");
        Assert.Null(v1!["model_version"]!["aliases"]);
        var (_, model) = await Get("/registered-models/get?name=m");
        Assert.Equal("2", (string?)model!["registered_model"]!["aliases"]![0]!["version"]);

        var history = await Server.Server.App.Services.GetRequiredService<RegistryStore>().HistoryAsync(null, "m", "alias", "champion");
        Assert.Equal(new (string?, string?)[] { (null, "1"), ("1", "2") }, history.Select(h => (h.OldValue, h.NewValue)));

        // Deleting it twice is fine (MLflow answers 200); reading it afterwards is MLflow's 400.
        await Ok(HttpMethod.Delete, Api + "/registered-models/alias", new { name = "m", alias = "champion" });
        await Ok(HttpMethod.Delete, Api + "/registered-models/alias", new { name = "m", alias = "champion" });
        var (gone, error) = await Get("/registered-models/alias?name=m&alias=champion");
        Assert.Equal(HttpStatusCode.BadRequest, gone);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string?)error!["error_code"]);

        // Reserved names, as MLflow reserves them.
        foreach (var reserved in new[] { "latest", "LATEST", "v1", "V12" })
        {
            var (refused, body) = await Send(HttpMethod.Post, Api + "/registered-models/alias", new { name = "m", alias = reserved, version = "1" });
            Assert.Equal(HttpStatusCode.BadRequest, refused);
            Assert.Equal("INVALID_PARAMETER_VALUE", (string?)body!["error_code"]);
        }
    }

    [Fact]
    public async Task transition_stage_with_archive_existing_versions_archives_the_others_in_that_stage_only()
    {
        var runId = await RunWithModelFiles();
        await Post("/registered-models/create", new { name = "m" });
        for (var i = 0; i < 4; i++) await Version("m", $"runs:/{runId}/model", runId);
        await Post("/model-versions/transition-stage", new { name = "m", version = "1", stage = "Production", archive_existing_versions = false });
        await Post("/model-versions/transition-stage", new { name = "m", version = "2", stage = "Production", archive_existing_versions = false });
        await Post("/model-versions/transition-stage", new { name = "m", version = "3", stage = "staging", archive_existing_versions = false });
        var moved = await Post("/model-versions/transition-stage", new { name = "m", version = "4", stage = "PRODUCTION", archive_existing_versions = true });
        Assert.Equal("Production", (string?)moved["model_version"]!["current_stage"]);

        async Task<string> StageOf(int v) => (string)(await Get($"/model-versions/get?name=m&version={v}")).Body!["model_version"]!["current_stage"]!;
        Assert.Equal(new[] { "Archived", "Archived", "Staging", "Production" }, new[] { await StageOf(1), await StageOf(2), await StageOf(3), await StageOf(4) });

        var latest = await Post("/registered-models/get-latest-versions", new { name = "m" });
        Assert.Equal(new[] { "2", "3", "4" }, latest["model_versions"]!.AsArray().Select(v => (string)v!["version"]!));
        var (_, production) = await Get("/registered-models/get-latest-versions?name=m&stages=production");
        Assert.Equal("4", (string?)production!["model_versions"]![0]!["version"]);

        var (bad, error) = await Send(HttpMethod.Post, Api + "/model-versions/transition-stage", new { name = "m", version = "1", stage = "Prod" });
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Equal("INVALID_PARAMETER_VALUE", (string?)error!["error_code"]);
    }

    [Fact]
    public async Task registry_searches_filter_order_and_page_like_mlflow_with_the_extensions()
    {
        var runA = await RunWithModelFiles();
        var runB = await RunWithModelFiles();
        foreach (var name in new[] { "alpha-cls", "beta-cls", "gamma-reg" })
            await Post("/registered-models/create", new { name, tags = new[] { new { key = "team", value = name.EndsWith("cls") ? "vision" : "tabular" } } });
        await Version("alpha-cls", $"runs:/{runA}/model", runA, new[] { new { key = "quality", value = "gold" } });
        await Version("alpha-cls", $"runs:/{runB}/model", runB);
        await Version("gamma-reg", $"runs:/{runB}/model", runB);

        async Task<string[]> Models(string query) =>
            ((await Get("/registered-models/search?" + query)).Body!["registered_models"]?.AsArray() ?? [])
            .Select(m => (string)m!["name"]!).ToArray();
        Assert.Equal(new[] { "alpha-cls", "beta-cls" }, await Models("filter=" + Uri.EscapeDataString("name LIKE '%-cls'")));
        Assert.Equal(new[] { "gamma-reg" }, await Models("filter=" + Uri.EscapeDataString("tags.team = 'tabular'")));
        Assert.Equal(new[] { "gamma-reg", "beta-cls", "alpha-cls" }, await Models("order_by=" + Uri.EscapeDataString("name DESC")));
        Assert.Equal(new[] { "alpha-cls", "gamma-reg" }, await Models("filter=" + Uri.EscapeDataString("name = 'alpha-cls' OR name ILIKE 'GAMMA%'")));

        // Paging: two pages of two and one, the token bound to its query.
        var (_, first) = await Get("/registered-models/search?max_results=2");
        Assert.Equal(2, first!["registered_models"]!.AsArray().Count);
        var token = (string)first["next_page_token"]!;
        var (_, last) = await Get($"/registered-models/search?max_results=2&page_token={Uri.EscapeDataString(token)}");
        Assert.Single(last!["registered_models"]!.AsArray());
        Assert.Null(last["next_page_token"]);
        var (wrongQuery, _) = await Get($"/registered-models/search?max_results=2&filter=name%3D'x'&page_token={Uri.EscapeDataString(token)}");
        Assert.Equal(HttpStatusCode.BadRequest, wrongQuery);

        async Task<string[]> Versions(string filter) =>
            ((await Get("/model-versions/search?filter=" + Uri.EscapeDataString(filter))).Body!["model_versions"]?.AsArray() ?? [])
            .Select(v => $"{v!["name"]}/{v["version"]}").OrderBy(x => x).ToArray();
        Assert.Equal(new[] { "alpha-cls/2", "gamma-reg/1" }, await Versions($"run_id = '{runB}'"));
        Assert.Equal(new[] { "alpha-cls/1", "alpha-cls/2", "gamma-reg/1" }, await Versions($"run_id IN ('{runA}', '{runB}')"));
        Assert.Equal(new[] { "alpha-cls/2" }, await Versions("name = 'alpha-cls' AND version_number > 1"));
        Assert.Equal(new[] { "alpha-cls/1" }, await Versions("tags.quality = 'gold'"));
        Assert.Equal(new[] { "alpha-cls/1" }, await Versions($"source_path = 'runs:/{runA}/model'"));
        Assert.Equal(new[] { "gamma-reg/1" }, await Versions("name LIKE 'gamma%' OR (tags.quality = 'x')"));

        // Mistakes are 400 INVALID_PARAMETER_VALUE, never a 500.
        foreach (var bad in new[] { "/registered-models/search?filter=version_number%20%3E%201", "/registered-models/search?order_by=size%20ASC",
                     "/model-versions/search?filter=stage%20%3D%20'Production'", "/model-versions/search?filter=name%20~%20'x'",
                     "/model-versions/search?max_results=1000000", "/registered-models/search?max_results=1001" })
        {
            var (status, body) = await Get(bad);
            Assert.True(status == HttpStatusCode.BadRequest, $"{bad}: {(int)status}");
            Assert.Equal("INVALID_PARAMETER_VALUE", (string?)body!["error_code"]);
        }
    }

    [Fact]
    public async Task rename_and_delete_free_names_and_a_deleted_version_is_gone_but_its_number_is_not_reused()
    {
        var runId = await RunWithModelFiles();
        await Post("/registered-models/create", new { name = "old" });
        await Post("/registered-models/create", new { name = "taken" });
        await Version("old", $"runs:/{runId}/model", runId);
        await Version("old", $"runs:/{runId}/model", runId);

        var (clash, clashBody) = await Send(HttpMethod.Post, Api + "/registered-models/rename", new { name = "old", new_name = "taken" });
        Assert.Equal(HttpStatusCode.BadRequest, clash);
        Assert.Equal("RESOURCE_ALREADY_EXISTS", (string?)clashBody!["error_code"]);

        var renamed = await Post("/registered-models/rename", new { name = "old", new_name = "new" });
        Assert.Equal("new", (string?)renamed["registered_model"]!["name"]);
        Assert.Equal(HttpStatusCode.NotFound, (await Get("/registered-models/get?name=old")).Status);
        Assert.Equal("new", (string?)(await Get("/model-versions/get?name=new&version=2")).Body!["model_version"]!["name"]);

        await Post("/registered-models/alias", new { name = "new", alias = "champion", version = "2" });
        await Ok(HttpMethod.Delete, Api + "/model-versions/delete", new { name = "new", version = "2" });
        Assert.Equal(HttpStatusCode.NotFound, (await Get("/model-versions/get?name=new&version=2")).Status);
        Assert.Null((await Get("/registered-models/get?name=new")).Body!["registered_model"]!["aliases"]);
        Assert.Equal("3", await Version("new", $"runs:/{runId}/model", runId));

        // Tags: deleting one that is not there is fine, as in MLflow.
        await Ok(HttpMethod.Delete, Api + "/registered-models/delete-tag", new { name = "new", key = "never-set" });
        await Ok(HttpMethod.Delete, Api + "/model-versions/delete-tag", new { name = "new", version = "1", key = "never-set" });

        await Ok(HttpMethod.Delete, Api + "/registered-models/delete", new { name = "new" });
        Assert.Equal(HttpStatusCode.NotFound, (await Get("/registered-models/get?name=new")).Status);
        await Post("/registered-models/create", new { name = "new" });
        Assert.Null((await Get("/registered-models/get?name=new")).Body!["registered_model"]!["latest_versions"]);

        // The run and its artifacts outlive the registry entries (lineage is never deleted with them).
        Assert.Equal(HttpStatusCode.OK, (await Get($"/runs/get?run_id={runId}")).Status);
    }

    [Fact]
    public async Task registry_mistakes_answer_mlflows_codes_and_the_ajax_prefix_serves_the_same()
    {
        await Post("/registered-models/create", new { name = "m" });
        var cases = new (HttpMethod Method, string Path, object Body, HttpStatusCode Status, string Code)[]
        {
            (HttpMethod.Post, "/registered-models/create", new { name = "m" }, HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS"),
            (HttpMethod.Post, "/registered-models/create", new { name = "" }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE"),
            (HttpMethod.Post, "/model-versions/create", new { name = "nope", source = "s3://x" }, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST"),
            (HttpMethod.Post, "/model-versions/create", new { name = "m" }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE"),
            (HttpMethod.Post, "/registered-models/alias", new { name = "m", alias = "ghost", version = "42" }, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST"),
            (HttpMethod.Delete, "/registered-models/delete", new { name = "nope" }, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST"),
            (HttpMethod.Delete, "/model-versions/delete", new { name = "m", version = "7" }, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST"),
            (HttpMethod.Patch, "/model-versions/update", new { name = "m", version = "abc" }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE"),
        };
        foreach (var (method, path, body, status, code) in cases)
        {
            var (actual, json) = await Send(method, Api + path, body);
            Assert.True(actual == status, $"{method} {path}: {(int)actual} {json?.ToJsonString()}");
            Assert.Equal(code, (string?)json!["error_code"]);
        }

        var ajax = JsonNode.Parse(await Server.Http.GetStringAsync("/ajax-api/2.0/mlflow/registered-models/get?name=m"))!;
        Assert.Equal("m", (string?)ajax["registered_model"]!["name"]);
    }
}

public sealed class MlflowRegistrySqliteTests : MlflowRegistryTests
{
    protected override bool Postgres => false;
}

public sealed class MlflowRegistryPostgresTests : MlflowRegistryTests
{
    protected override bool Postgres => true;
}
