using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>The registry, deployment, dataset and feature endpoints over real HTTP: status codes, error shapes, actors.</summary>
public abstract class RegistryApiTests : IAsyncLifetime
{
    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Postgres);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Send(HttpMethod method, string url, string? json = null, string? user = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (user is not null) request.Headers.Add("Lineage-User", user);
        using var response = await Server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private async Task<JsonNode> Ok(HttpMethod method, string url, string? json = null, string? user = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var (status, body) = await Send(method, url, json, user);
        Assert.True(status == expected, $"{method} {url}: {(int)status} {body?.ToJsonString()}");
        return body!;
    }

    private async Task Error(HttpStatusCode status, string code, HttpMethod method, string url, string? json = null, string? user = null, string? field = null)
    {
        var answer = await Send(method, url, json, user);
        Assert.True(answer.Status == status, $"{method} {url}: expected {(int)status}, got {(int)answer.Status} {answer.Body?.ToJsonString()}");
        Assert.Equal(code, (string?)answer.Body!["error_code"]);
        if (field is not null) Assert.Equal(field, (string?)answer.Body["field"]);
    }

    /// <summary>A model artifact uploaded in one request, and a registered model with <paramref name="versions"/> versions of it.</summary>
    private async Task<string> ModelWithVersions(string name, int versions, string? approvers = null)
    {
        using var upload = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/artifacts/upload?name={name}-weights&type=model")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("weights of " + name)),
        };
        using var uploaded = await Server.Http.SendAsync(upload);
        var artifactId = (string)JsonNode.Parse(await uploaded.Content.ReadAsStringAsync())!["id"]!;
        await Ok(HttpMethod.Post, "/api/v1/models", $$"""{"name":"{{name}}","approvers":{{approvers ?? "[]"}}}""", "ana", HttpStatusCode.Created);
        for (var i = 0; i < versions; i++)
            await Ok(HttpMethod.Post, $"/api/v1/models/{name}/versions", $$$"""{"artifact":{"id":"{{{artifactId}}}"},"tags":{"i":"{{{i}}}"}}""", "ana",
                HttpStatusCode.Created);
        return artifactId;
    }

    [Fact]
    public async Task a_model_version_is_created_read_by_number_alias_and_latest_and_its_changes_name_the_actor()
    {
        await ModelWithVersions("churn", 2);
        var v = await Ok(HttpMethod.Get, "/api/v1/models/churn/versions/latest");
        Assert.Equal(2, (int)v["version"]!);
        Assert.Equal("READY", (string?)v["status"]);
        Assert.Equal("None", (string?)v["stage"]);
        Assert.Equal("model", (string?)v["artifact"]!["type"]);

        await Ok(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", """{"version":1}""", "ana");
        await Ok(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", """{"version":2}""", "bo");
        Assert.Equal(2, (int)(await Ok(HttpMethod.Get, "/api/v1/models/churn/versions/champion"))["version"]!);
        await Ok(HttpMethod.Post, "/api/v1/models/churn/versions/2/stage", """{"stage":"Staging"}""", "cy");
        var history = (await Ok(HttpMethod.Get, "/api/v1/models/churn/history"))["changes"]!.AsArray();
        Assert.Equal(["alias champion ->1 by ana", "alias champion 1->2 by bo", "stage None->Staging by cy"],
            history.Select(h => $"{h!["kind"]}{(h["name"] is null ? "" : " " + h["name"])} {h["oldValue"]}->{h["newValue"]} by {h["changedBy"]}"));
        var onlyAlias = (await Ok(HttpMethod.Get, "/api/v1/models/churn/history?kind=alias&alias=champion"))["changes"]!.AsArray();
        Assert.Equal(2, onlyAlias.Count);
        var model = await Ok(HttpMethod.Get, "/api/v1/models/churn");
        Assert.Equal(2, (int)model["aliases"]!["champion"]!);
        Assert.Equal(2, (int)model["latestVersion"]!);
    }

    [Fact]
    public async Task bad_requests_are_4xx_with_stable_codes_and_change_nothing()
    {
        await ModelWithVersions("m", 1);
        await Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", HttpMethod.Get, "/api/v1/models/nope");
        await Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", HttpMethod.Get, "/api/v1/models/m/versions/9");
        await Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", HttpMethod.Get, "/api/v1/models/m/versions/prod");
        await Error(HttpStatusCode.Conflict, "RESOURCE_ALREADY_EXISTS", HttpMethod.Post, "/api/v1/models", """{"name":"m"}""");
        await Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", HttpMethod.Post, "/api/v1/models", """{"name":"bad name"}""", field: "name");
        await Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", HttpMethod.Post, "/api/v1/models", """{"name":"x","colour":"red"}""");
        await Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", HttpMethod.Post, "/api/v1/models/m/versions", """{"artifact":{"id":"424242"}}""",
            field: "artifact");
        await Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", HttpMethod.Post, "/api/v1/models/m/versions/1/stage", """{"stage":"Live"}""",
            field: "stage");
        await Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", HttpMethod.Post, "/api/v1/deployments", """{"model":"m","version":1}""",
            field: "environment");
        await Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", HttpMethod.Post, "/api/v1/models/m/promotions",
            """{"version":1,"alias":"a","stage":"Production"}""");
        await Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", HttpMethod.Get, "/api/v1/model-versions?status=DONE", field: "status");
        await Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", HttpMethod.Post, "/api/v1/manifests/verify", """{"model_id":"x"}""",
            field: "artifacts");
        await Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", HttpMethod.Post, "/api/v1/promotions/77/approve", "{}", "carol");
        await Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", HttpMethod.Post, "/api/v1/deployments/77/rollback");
        Assert.Equal(1, (int)(await Ok(HttpMethod.Get, "/api/v1/models/m"))["latestVersion"]!);
        Assert.Empty((await Ok(HttpMethod.Get, "/api/v1/deployments"))["deployments"]!.AsArray());
    }

    [Fact]
    public async Task without_the_approver_role_promotion_is_403_and_an_approver_decides_requests()
    {
        await ModelWithVersions("fraud", 2, """["carol"]""");
        await Error(HttpStatusCode.Forbidden, "PERMISSION_DENIED", HttpMethod.Put, "/api/v1/models/fraud/aliases/champion", """{"version":1}""", "mallory");
        await Error(HttpStatusCode.Forbidden, "PERMISSION_DENIED", HttpMethod.Post, "/api/v1/models/fraud/versions/1/stage", """{"stage":"Production"}""");
        Assert.Empty((await Ok(HttpMethod.Get, "/api/v1/models/fraud/history"))["changes"]!.AsArray());

        var request = await Ok(HttpMethod.Post, "/api/v1/models/fraud/promotions", """{"version":2,"alias":"champion","comment":"better recall"}""", "ana",
            HttpStatusCode.Created);
        var id = (string)request["id"]!;
        var pending = (await Ok(HttpMethod.Get, "/api/v1/promotions?status=PENDING"))["requests"]!.AsArray();
        Assert.Equal([id], pending.Select(p => (string)p!["id"]!));
        await Error(HttpStatusCode.Forbidden, "PERMISSION_DENIED", HttpMethod.Post, $"/api/v1/promotions/{id}/approve", "{}", "ana");
        var approved = await Ok(HttpMethod.Post, $"/api/v1/promotions/{id}/approve", """{"comment":"ok"}""", "carol");
        Assert.Equal(("APPROVED", "carol"), ((string?)approved["status"], (string?)approved["decidedBy"]));
        await Error(HttpStatusCode.Conflict, "CONFLICT", HttpMethod.Post, $"/api/v1/promotions/{id}/reject", "{}", "carol");
        Assert.Equal(2, (int)(await Ok(HttpMethod.Get, "/api/v1/models/fraud/versions/champion"))["version"]!);
        var change = Assert.Single((await Ok(HttpMethod.Get, "/api/v1/models/fraud/history"))["changes"]!.AsArray());
        Assert.Equal((id, "carol"), ((string?)change!["requestId"], (string?)change["changedBy"]));
    }

    [Fact]
    public async Task deleting_refuses_deployed_or_aliased_versions_and_keeps_the_artifacts()
    {
        var artifactId = await ModelWithVersions("gone", 3, """["carol"]""");
        await Ok(HttpMethod.Put, "/api/v1/models/gone/aliases/champion", """{"version":2}""", "carol");
        await Ok(HttpMethod.Post, "/api/v1/deployments", """{"environment":"prod","model":"gone","version":3}""", "ana", HttpStatusCode.Created);
        await Ok(HttpMethod.Post, "/api/v1/models/gone/promotions", """{"version":1,"stage":"Staging"}""", "ana", HttpStatusCode.Created);

        await Error(HttpStatusCode.Conflict, "CONFLICT", HttpMethod.Delete, "/api/v1/models/gone/versions/2"); // aliased
        await Error(HttpStatusCode.Conflict, "CONFLICT", HttpMethod.Delete, "/api/v1/models/gone/versions/3"); // deployed
        await Error(HttpStatusCode.Conflict, "CONFLICT", HttpMethod.Delete, "/api/v1/models/gone");
        await Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", HttpMethod.Delete, "/api/v1/models/gone/versions/9");
        Assert.Equal(3, (await Ok(HttpMethod.Get, "/api/v1/models/gone/versions"))["versions"]!.AsArray().Count);

        await Ok(HttpMethod.Delete, "/api/v1/models/gone/versions/1", expected: HttpStatusCode.NoContent);
        await Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", HttpMethod.Get, "/api/v1/models/gone/versions/1");
        Assert.Empty((await Ok(HttpMethod.Get, "/api/v1/promotions?model=gone"))["requests"]!.AsArray()); // its pending request went with it
        Assert.Equal(artifactId, (string?)(await Ok(HttpMethod.Get, $"/api/v1/artifacts/by-id/{artifactId}"))["id"]);

        await ModelWithVersions("scratch", 2);
        await Ok(HttpMethod.Delete, "/api/v1/models/scratch", expected: HttpStatusCode.NoContent);
        await Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", HttpMethod.Get, "/api/v1/models/scratch");
        await Ok(HttpMethod.Post, "/api/v1/models", """{"name":"scratch"}""", "ana", HttpStatusCode.Created); // the name is free again
    }

    [Fact]
    public async Task search_filters_versions_by_three_tags()
    {
        await ModelWithVersions("a", 3);
        await Ok(HttpMethod.Post, "/api/v1/models/a/versions/2/tags", """{"key":"team","value":"search"}""");
        await Ok(HttpMethod.Post, "/api/v1/models/a/versions/2/tags", """{"key":"framework","value":"sklearn"}""");
        await Ok(HttpMethod.Post, "/api/v1/models/a/versions/3/tags", """{"key":"team","value":"search"}""");
        var hits = (await Ok(HttpMethod.Get, "/api/v1/model-versions?tag.team=search&tag.framework=sklearn&tag.i=1"))["versions"]!.AsArray();
        Assert.Equal([2], hits.Select(h => (int)h!["version"]!));
        Assert.Equal(2, (await Ok(HttpMethod.Get, "/api/v1/models/a/versions?tag.team=search"))["versions"]!.AsArray().Count);
    }

    [Fact]
    public async Task deployments_report_what_is_deployed_where_history_per_environment_and_success_rates()
    {
        await ModelWithVersions("rec", 2);
        var d1 = await Ok(HttpMethod.Post, "/api/v1/deployments", """{"environment":"prod","model":"rec","version":1,"endpointUrl":"https://rec.example/1"}""",
            "ana", HttpStatusCode.Created);
        await Ok(HttpMethod.Post, $"/api/v1/deployments/{d1["id"]}/status", """{"status":"healthy"}""", "ops");
        var d2 = await Ok(HttpMethod.Post, "/api/v1/deployments", """{"environment":"prod","model":"rec","version":2,"config":{"replicas":3}}""", "ana",
            HttpStatusCode.Created);
        Assert.Equal(3, (int)d2["config"]!["replicas"]!);
        await Ok(HttpMethod.Post, $"/api/v1/deployments/{d2["id"]}/status", """{"status":"degraded","reason":"p99 up"}""", "ops");
        await Error(HttpStatusCode.Conflict, "CONFLICT", HttpMethod.Post, $"/api/v1/deployments/{d1["id"]}/status", """{"status":"healthy"}""");
        var back = await Ok(HttpMethod.Post, $"/api/v1/deployments/{d2["id"]}/rollback", """{"reason":"latency"}""", "ops", HttpStatusCode.Created);
        Assert.Equal((1, (string?)d2["id"]), ((int)back["version"]!, (string?)back["rollbackOf"]));

        var live = (await Ok(HttpMethod.Get, "/api/v1/deployments?live=true"))["deployments"]!.AsArray();
        Assert.Equal([(string?)back["id"]], live.Select(d => (string?)d!["id"]));
        var history = (await Ok(HttpMethod.Get, "/api/v1/environments/prod/history"))["deployments"]!.AsArray();
        Assert.Equal(3, history.Count);
        var degraded = history.Single(d => (string?)d!["id"] == (string?)d2["id"])!;
        Assert.Equal(["pending:ana", "degraded:ops", "retired:ops"], degraded["events"]!.AsArray().Select(e => $"{e!["status"]}:{e["actor"]}"));
        var stats = Assert.Single((await Ok(HttpMethod.Get, "/api/v1/environments/stats"))["environments"]!.AsArray())!;
        Assert.Equal((3, 1, 0, 1), ((int)stats["deployments"]!, (int)stats["succeeded"]!, (int)stats["failed"]!, (int)stats["rollbacks"]!));
        Assert.Equal(1.0, (double)stats["successRate"]!);
        await Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", HttpMethod.Get, "/api/v1/environments/nowhere/history");
    }

    [Fact]
    public async Task datasets_take_facts_once_validate_against_their_schema_and_diff_and_features_report_usage()
    {
        foreach (var text in new[] { "v1", "v2" })
        {
            using var upload = new HttpRequestMessage(HttpMethod.Post, "/api/v1/artifacts/upload?name=sales&type=dataset") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(text)) };
            (await Server.Http.SendAsync(upload)).Dispose();
        }
        await Ok(HttpMethod.Post, "/api/v1/dataset-schemas", """{"name":"sales","columns":[{"name":"amount","dtype":"float","nullable":false}]}""", null,
            HttpStatusCode.Created);
        await Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", HttpMethod.Put, "/api/v1/datasets/sales/versions/1",
            """{"schema":"sales@1","columns":[{"name":"amount","dtype":"int","nullable":false}],"rowCount":10}""", field: "columns[0].dtype");
        var facts = await Ok(HttpMethod.Put, "/api/v1/datasets/sales/versions/1",
            """{"schema":"sales@1","columns":[{"name":"amount","dtype":"float","nullable":false}],"rowCount":10,"source":{"uri":"s3://b/sales","system":"s3","ingestedAt":1700000000000},"profile":{"amount":{"missingPct":0,"min":1,"max":9,"mean":5,"distinctCount":9}}}""");
        Assert.Equal(("sales@1", 10, "s3://b/sales"), ((string?)facts["facts"]!["schema"], (int)facts["facts"]!["rowCount"]!, (string?)facts["facts"]!["source"]!["uri"]));
        await Error(HttpStatusCode.Conflict, "RESOURCE_ALREADY_EXISTS", HttpMethod.Put, "/api/v1/datasets/sales/versions/1",
            """{"columns":[{"name":"amount","dtype":"float"}]}""");
        await Ok(HttpMethod.Put, "/api/v1/datasets/sales/versions/2", """{"columns":[{"name":"amount","dtype":"float","nullable":false},{"name":"store","dtype":"str"}]}""");
        var diff = await Ok(HttpMethod.Get, "/api/v1/datasets/sales/diff?from=1&to=2");
        Assert.Equal("store:added", $"{diff["changes"]![0]!["column"]}:{diff["changes"]![0]!["change"]}");
        var validated = await Ok(HttpMethod.Post, "/api/v1/datasets/sales/versions/1/validations", """{"checks":[{"name":"no_nulls","passed":false,"details":"3 nulls"}]}""");
        Assert.False((bool)validated["validations"]![0]!["passed"]!);

        var set = await Ok(HttpMethod.Post, "/api/v1/feature-sets",
            """{"name":"sales-features","features":[{"name":"amount_log","dtype":"float","transformation":"log(amount)"}],"derivedFrom":[{"name":"sales","version":"2"}]}""",
            null, HttpStatusCode.Created);
        Assert.Equal("sales", (string?)set["derivedFrom"]![0]!["name"]);
        var usage = await Ok(HttpMethod.Get, "/api/v1/features/amount_log/usage");
        Assert.Single(usage["featureSets"]!.AsArray());
        var used = await Ok(HttpMethod.Get, "/api/v1/datasets/sales/versions/2/usage");
        Assert.Contains(used["artifacts"]!.AsArray(), a => (string?)a!["name"] == "sales-features");
    }

    [Fact]
    public async Task failing_datasets_are_the_versions_whose_latest_result_of_a_check_failed()
    {
        foreach (var (name, text) in new[] { ("orders", "v1"), ("orders", "v2"), ("orders", "v3"), ("clean", "c1") })
        {
            using var upload = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/artifacts/upload?name={name}&type=dataset") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(text)) };
            (await Server.Http.SendAsync(upload)).Dispose();
        }
        var none = await Ok(HttpMethod.Get, "/api/v1/datasets/failing");
        Assert.Empty(none["versions"]!.AsArray());

        // v1: failed, then fixed (the same check passed later). v2: two checks failed. v3: one of two failed, then another run failed it again.
        await Ok(HttpMethod.Post, "/api/v1/datasets/orders/versions/1/validations", """{"checks":[{"name":"ids","passed":false}]}""");
        await Ok(HttpMethod.Post, "/api/v1/datasets/orders/versions/1/validations", """{"checks":[{"name":"ids","passed":true}]}""");
        await Ok(HttpMethod.Post, "/api/v1/datasets/orders/versions/2/validations", """{"checks":[{"name":"ids","passed":false},{"name":"amounts","passed":false},{"name":"dates","passed":true}]}""");
        await Ok(HttpMethod.Post, "/api/v1/datasets/orders/versions/3/validations", """{"checks":[{"name":"ids","passed":true},{"name":"amounts","passed":false}]}""");
        await Ok(HttpMethod.Post, "/api/v1/datasets/orders/versions/3/validations", """{"checks":[{"name":"amounts","passed":false}]}""");
        await Ok(HttpMethod.Post, "/api/v1/datasets/clean/versions/1/validations", """{"checks":[{"name":"ids","passed":true}]}""");

        var failing = (await Ok(HttpMethod.Get, "/api/v1/datasets/failing?project=default"))["versions"]!.AsArray();
        Assert.Equal(["orders v3: 1", "orders v2: 2"], failing.Select(f => $"{f!["name"]} v{f["version"]}: {f["failedChecks"]}"));
        var first = (await Ok(HttpMethod.Get, "/api/v1/datasets/failing?limit=1"))["versions"]!.AsArray();
        Assert.Equal("3", first.Single()!["version"]!.ToJsonString());
        // A deleted version is not flagged.
        await Ok(HttpMethod.Delete, "/api/v1/artifacts/orders/versions/3", expected: HttpStatusCode.OK);
        Assert.Equal("2", (await Ok(HttpMethod.Get, "/api/v1/datasets/failing"))["versions"]!.AsArray().Single()!["version"]!.ToJsonString());

        await Error(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", HttpMethod.Get, "/api/v1/datasets/failing?limit=0", field: "limit");
        await Error(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", HttpMethod.Get, "/api/v1/datasets/failing?project=nowhere");
    }

    [Fact]
    public async Task the_manifest_endpoint_and_verify_agree_on_an_untouched_store()
    {
        await ModelWithVersions("m", 1);
        var manifest = await Ok(HttpMethod.Get, "/api/v1/models/m/versions/1/manifest");
        Assert.Equal("m-v1", (string?)manifest["model_id"]);
        var verified = await Ok(HttpMethod.Post, "/api/v1/manifests/verify", manifest.ToJsonString());
        Assert.True((bool)verified["ok"]!);
        Assert.Equal("ok", (string?)verified["checks"]![0]!["status"]);
    }
}

public sealed class RegistryApiSqliteTests : RegistryApiTests
{
    protected override bool Postgres => false;
}

public sealed class RegistryApiPostgresTests : RegistryApiTests
{
    protected override bool Postgres => true;
}
