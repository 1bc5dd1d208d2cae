using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Lineage.Tests.Support;

namespace Lineage.Tests.Reliability;

/// <summary>
/// Issue 17, section 2: inputs found by fuzzing that answered 500 or stored values that broke later reads. Each is a
/// 4xx with a stable code naming the field, and a rejected request changes nothing (<see cref="StoreDigest"/>).
/// </summary>
public abstract class HostileInputContract : IAsyncLifetime
{
    protected abstract bool Postgres { get; }

    private TestServer _server = null!;
    private string _run = "";
    private const string Zeros = "0000000000000000000000000000000000000000000000000000000000000000";

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(Postgres);
        var experiment = (string)(await Json("POST", "/api/v1/experiments", """{"name":"hostile"}""", HttpStatusCode.Created))["id"]!;
        _run = (string)(await Json("POST", "/api/v1/runs", $$"""{"experimentId":"{{experiment}}"}""", HttpStatusCode.Created))["runId"]!;
        await Json("POST", $"/api/v1/runs/{_run}/batch", """{"metrics":[{"key":"loss","value":1,"step":0}]}""", HttpStatusCode.OK);
        await Json("POST", "/api/2.0/mlflow/registered-models/create", """{"name":"m"}""", HttpStatusCode.OK);
        await Json("POST", "/api/v1/artifacts", $$$"""{"name":"d","type":"dataset","external":{"uri":"s3://a/b","digest":"{{{Zeros}}}","size":1}}""",
            HttpStatusCode.Created);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, string Text, string? ContentType)> Send(string method, string path, string? body,
        string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        using var response = await _server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    private async Task<JsonNode> Json(string method, string path, string? body, HttpStatusCode expected)
    {
        var (status, text, _) = await Send(method, path, body);
        Assert.True(status == expected, $"{method} {path}: {(int)status} {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    /// <summary>Sends a request that must be refused with 400 INVALID_PARAMETER_VALUE and leave the store as it was.</summary>
    private async Task<JsonNode> Refused(string method, string path, string body, string? field = null, string contentType = "application/json")
    {
        var before = await StoreDigest.OfAsync(_server.Server.Database);
        var (status, text, type) = await Send(method, path, body, contentType);
        Assert.True(status == HttpStatusCode.BadRequest, $"{method} {path} {Shorten(body)}: {(int)status} {text}");
        Assert.Equal("application/json", type);
        var error = JsonNode.Parse(text)!;
        Assert.Equal("INVALID_PARAMETER_VALUE", (string?)error["error_code"]);
        if (field is not null) Assert.Contains(field, (string?)error["field"] ?? (string)error["message"]!);
        Assert.Equal(before, await StoreDigest.OfAsync(_server.Server.Database));
        return error;
    }

    private static string Shorten(string s) => s.Length > 120 ? s[..120] + "…" : s;

    [Fact]
    public async Task a_value_that_looks_encrypted_is_refused_at_every_write_path_and_lists_keep_working()
    {
        await Refused("POST", "/api/v1/artifacts",
            $$$"""{"name":"x","type":"dataset","metadata":{"a":"enc:v1:x:y"},"external":{"uri":"s3://a/b","digest":"{{{Zeros}}}","size":1}}""", "metadata.a");
        await Refused("POST", "/api/2.0/mlflow/model-versions/create", """{"name":"m","source":"enc:v1:x:y"}""", "source");
        foreach (var field in new[] { "name", "digest", "source", "source_type" })
        {
            var dataset = new JsonObject { ["name"] = "ds", ["digest"] = "abc", ["source_type"] = "local", ["source"] = "/tmp/x" };
            dataset[field] = "enc:v1:k:v";
            await Refused("POST", "/api/2.0/mlflow/runs/log-inputs",
                new JsonObject { ["run_id"] = _run, ["datasets"] = new JsonArray(new JsonObject { ["dataset"] = dataset }) }.ToJsonString(), field);
        }
        await Json("GET", "/api/v1/artifacts", null, HttpStatusCode.OK);
        Assert.DoesNotContain((await Json("GET", "/api/2.0/mlflow/model-versions/search", null, HttpStatusCode.OK)).AsObject(), p => p.Key == "model_versions");
    }

    [Fact]
    public async Task a_stored_value_that_cannot_be_decrypted_reads_as_redacted_instead_of_failing_the_list()
    {
        // As a store written before such values were refused would hold it.
        await _server.Server.Database.WriteAsync(s => s.Connection.ExecuteAsync(
            """UPDATE artifact_versions SET metadata = '{"a":"enc:v1:x:y","rows":3}'""", transaction: s.Transaction));
        var list = await Json("GET", "/api/v1/artifacts", null, HttpStatusCode.OK);
        var metadata = list["artifacts"]![0]!["metadata"]!;
        Assert.Equal("***", (string?)metadata["a"]);
        Assert.Equal(3, (int)metadata["rows"]!);
        await Json("GET", "/api/v1/artifacts/d/versions/1", null, HttpStatusCode.OK);
    }

    [Fact]
    public async Task lone_surrogate_escapes_are_a_400_naming_the_field_on_every_json_surface()
    {
        const string bad = "\\ud800";
        await Refused("POST", "/api/2.0/mlflow/experiments/create", $$"""{"name":"e{{bad}}"}""", "name");
        await Refused("POST", "/api/2.0/mlflow/runs/log-batch", $$"""{"run_id":"{{_run}}","params":[{"key":"k","value":"v{{bad}}"}]}""", "params[0].value");
        await Refused("POST", "/api/2.0/mlflow/runs/set-tag", $$"""{"run_id":"{{_run}}","key":"k","value":"\udc00x"}""", "value");
        await Refused("POST", "/api/2.0/mlflow/runs/search", $$"""{"experiment_ids":["0"],"filter":"params.a = '{{bad}}'"}""", "filter");
        await Refused("POST", "/api/2.0/mlflow/registered-models/create", $$"""{"name":"{{bad}}"}""", "name");
        await Refused("POST", "/api/v1/lineage", $$"""
            {"eventType":"START","eventTime":"2024-01-01T00:00:00Z","run":{"runId":"{{bad}}"},"job":{"namespace":"a","name":"b"},
             "producer":"https://x","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}
            """, "run.runId");
        await Refused("POST", "/api/v1/artifacts",
            $$$"""{"name":"x","type":"dataset","metadata":{"{{{bad}}}":1},"external":{"uri":"s3://a/b","digest":"{{{Zeros}}}","size":1}}""", "metadata");
        await Refused("POST", "/api/v1/experiments", $$$"""{"name":"ok","tags":{"t":"{{{bad}}}"}}""", "tags.t");
        // A proper pair is text like any other.
        await Json("POST", "/api/2.0/mlflow/experiments/create", """{"name":"smile \ud83d\ude00"}""", HttpStatusCode.OK);
    }

    [Fact]
    public async Task page_tokens_beyond_int64_are_a_400()
    {
        const string token = "MDoxOTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ"; // "0:1999999999999999999999999999"
        foreach (var path in new[] { "/api/v1/experiments", "/api/v1/runs", "/api/v1/artifacts", $"/api/v1/runs/{_run}/metrics/history?key=loss" })
        {
            var (status, text, _) = await Send("GET", path + (path.Contains('?') ? "&" : "?") + "pageToken=" + token, null);
            Assert.True(status == HttpStatusCode.BadRequest, $"{path}: {(int)status} {text}");
            Assert.Contains("pageToken", text);
        }
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(5_000)]
    public async Task deeply_nested_filters_are_a_400(int nots)
    {
        var filter = string.Concat(Enumerable.Repeat("NOT ", nots)) + "metrics.loss > 1";
        var error = await Refused("POST", "/api/2.0/mlflow/runs/search", new JsonObject { ["experiment_ids"] = new JsonArray("0"), ["filter"] = filter }.ToJsonString());
        Assert.Contains("32 deep", (string)error["message"]!);
        var parens = new string('(', 500) + "metrics.loss > 1" + new string(')', 500);
        await Refused("POST", "/api/2.0/mlflow/runs/search", new JsonObject { ["experiment_ids"] = new JsonArray("0"), ["filter"] = parens }.ToJsonString());
        var wide = string.Join(" AND ", Enumerable.Range(0, 1_000).Select(i => $"metrics.m{i} > 1"));
        await Refused("POST", "/api/2.0/mlflow/runs/search", new JsonObject { ["experiment_ids"] = new JsonArray("0"), ["filter"] = wide }.ToJsonString());
    }

    [Fact]
    public async Task invalid_tar_uploads_are_a_400_and_register_nothing()
    {
        var real = new MemoryStream();
        await using (var writer = new System.Formats.Tar.TarWriter(real, leaveOpen: true))
        {
            var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "weights.bin")
                { DataStream = new MemoryStream(new byte[4096]) };
            await writer.WriteEntryAsync(entry);
        }
        var truncated = real.ToArray()[..700];
        foreach (var body in new[] { Encoding.ASCII.GetBytes("notatar"), [], truncated })
        {
            var before = await StoreDigest.OfAsync(_server.Server.Database);
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-tar");
            using var response = await _server.Http.PostAsync("/api/v1/artifacts/upload?name=t&type=model", content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{body.Length} bytes: {(int)response.StatusCode} {text}");
            Assert.Contains("tar", text);
            Assert.Equal(before, await StoreDigest.OfAsync(_server.Server.Database));
        }
    }

    [Fact]
    public async Task mlflow_messages_of_the_wrong_type_are_a_400_naming_the_field()
    {
        await Refused("POST", "/api/2.0/mlflow/runs/log-inputs",
            $$"""{"run_id":"{{_run}}","datasets":[{"dataset":{"name":"a","digest":"b","source_type":"c","source":"d"},"tags":[1,2]}]}""", "datasets[0].tags[0]");
        await Refused("POST", "/api/2.0/mlflow/runs/log-batch", $$"""{"run_id":"{{_run}}","metrics":["x"]}""", "metrics");
    }

    [Fact]
    public async Task odd_project_prefixes_and_api_paths_get_json_errors_never_a_page_or_a_500()
    {
        foreach (var path in new[] { "/projects/%2500/api/2.0/mlflow/experiments/search", "/projects/%252F/api/2.0/mlflow/experiments/search" })
        {
            var (status, text, type) = await Send("GET", path, null);
            Assert.True((int)status is >= 400 and < 500, $"{path}: {(int)status} {text}");
            Assert.Equal("application/json", type);
            Assert.Contains("error_code", text);
        }
        foreach (var path in new[] { "/projects/default/api/v1/executions", "/projects/default/api/v1/artifacts/by-id/1" })
        {
            var (status, text, type) = await Send("GET", path, null);
            Assert.True(status == HttpStatusCode.NotFound, $"{path}: {(int)status} {text}");
            Assert.Equal("application/json", type);
        }
    }

    [Fact]
    public async Task deleting_a_missing_proxy_file_is_a_404_as_reading_it_is()
    {
        var (status, text, _) = await Send("DELETE", "/api/2.0/mlflow-artifacts/artifacts/0/missing.txt", null);
        Assert.True(status == HttpStatusCode.NotFound, $"{(int)status} {text}");
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", (string?)JsonNode.Parse(text)!["error_code"]);
    }

    [Fact]
    public async Task every_error_has_a_body_in_the_shape_of_its_surface()
    {
        // Routing's 415 (no Content-Type on a blob upload) used to be a bare status.
        var (status, text, type) = await Send("PUT", $"/api/v1/blobs?digest={Zeros}", "x", "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal("application/json", type);
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", (string?)JsonNode.Parse(text)!["error_code"]);
        // Errors raised before an MLflow endpoint runs (the JSON guard, an unknown route) are MLflow-shaped: no "field".
        foreach (var (method, path, body) in new[]
                 {
                     ("POST", "/api/2.0/mlflow/experiments/create", """{"name":"\ud800"}"""),
                     ("GET", "/api/2.0/mlflow/experiments/list", null),
                     ("POST", "/api/2.0/mlflow/runs/get", "{}"),
                 })
        {
            var answer = await Send(method, path, body);
            Assert.True((int)answer.Status is >= 400 and < 500, $"{method} {path}: {(int)answer.Status} {answer.Text}");
            var error = JsonNode.Parse(answer.Text)!.AsObject();
            Assert.Equal(["error_code", "message"], error.Select(p => p.Key).Order().ToArray());
        }
        // …while the native API names the field.
        var native = JsonNode.Parse((await Send("POST", "/api/v1/experiments", """{"name":"\ud800"}""")).Text)!;
        Assert.Equal("name", (string?)native["field"]);
    }
}

public sealed class HostileInputSqliteTests : HostileInputContract
{
    protected override bool Postgres => false;
}

public sealed class HostileInputPostgresTests : HostileInputContract
{
    protected override bool Postgres => true;
}
