using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Lineage.Cli;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Server;
using Lineage.Server.Hosting;
using Lineage.Storage.Engine;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Tests.Api;

/// <summary>
/// Sensitive fields (governance issue, item 5): encrypted at rest on every surface's write path,
/// redacted for callers without the reveal role, reveals audited, keys rotated while the server runs.
/// </summary>
public abstract class FieldEncryptionTests : IAsyncLifetime
{
    protected abstract bool Postgres { get; }

    private readonly TempDir _keys = new();
    private TestServer _server = null!;
    private string _keyFile = "";

    // Every secret below must never reach the database in plaintext.
    private static readonly string[] Secrets =
    [
        "tag-secret-e1f0", "param-secret-a7b2", "marked-secret-c3d4", "mlflow-param-secret-9f8e", "mlflow-tag-secret-7d6c",
        "exp-tag-secret-5b4a", "mlflow-exp-secret-3a2b", "metadata-secret-1c0d", "idempotent-secret-0e9f", "sdk-marked-secret-2f1e",
    ];

    public async Task InitializeAsync()
    {
        _keyFile = _keys.File("keys");
        KeySource.AppendNewKey(_keyFile);
        // The SQLite file lives in this test's folder, so it outlives a server restart.
        _server = await StartAsync(o => o with { KeyFile = _keyFile, Database = Postgres ? o.Database : _keys.File("lineage.db") });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _keys.Dispose();
    }

    /// <summary>Starts a server on a fresh database; the first one's database is the one <see cref="_target"/> names.</summary>
    private Task<TestServer> StartAsync(Func<ServerOptions, ServerOptions> configure) =>
        TestServer.StartAsync(Postgres, o =>
        {
            var configured = configure(o with { CredentialCache = TimeSpan.Zero });
            _target ??= configured.Database;
            return configured;
        });

    /// <summary>The first server's database (file path or connection string), for the CLI and restarts.</summary>
    private string? _target;

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> Send(TestServer server, string method, string path, string? json = null,
        string? token = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    private static async Task<JsonNode> Ok(Task<(HttpStatusCode Status, JsonNode? Body)> call, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var (status, body) = await call;
        Assert.True(status == expected, $"expected {(int)expected}, got {(int)status}: {body?.ToJsonString()}");
        return body ?? new JsonObject();
    }

    /// <summary>Writes a sensitive value through each write path; returns the native run id, MLflow run id and experiment id.</summary>
    private async Task<(string Run, string MlflowRun, string Experiment)> WriteSecretsAsync(TestServer server, string? token = null)
    {
        var exp = (string)(await Ok(Send(server, "POST", "/api/v1/experiments", """{"name":"churn","tags":{"team":"ml"}}""", token), HttpStatusCode.Created))["id"]!;
        var run = (string)(await Ok(Send(server, "POST", "/api/v1/runs",
            $$"""{"experimentId":"{{exp}}","tags":{"DB_Password":"tag-secret-e1f0","owner":"ana"} }""", token), HttpStatusCode.Created))["runId"]!;
        await Ok(Send(server, "POST", $"/api/v1/runs/{run}/batch",
            """{"params":[{"key":"openai_api_key","value":"param-secret-a7b2"},{"key":"lr","value":"0.01"},{"key":"note","value":"marked-secret-c3d4","sensitive":true}]}""", token));
        await Ok(Send(server, "POST", $"/api/v1/runs/{run}/params", """{"key":"hf_token","value":"idempotent-secret-0e9f"}""", token, idempotencyKey: "k-1"),
            HttpStatusCode.NoContent);
        await Ok(Send(server, "POST", $"/api/v1/experiments/{exp}/tags", """{"key":"slack_secret","value":"exp-tag-secret-5b4a"}""", token), HttpStatusCode.NoContent);
        var mlflowRun = (string)(await Ok(Send(server, "POST", "/api/2.0/mlflow/runs/create", $$"""{"experiment_id":"{{exp}}"}""", token)))["run"]!["info"]!["run_id"]!;
        await Ok(Send(server, "POST", "/api/2.0/mlflow/runs/log-parameter",
            $$"""{"run_id":"{{mlflowRun}}","key":"aws_secret_access_key","value":"mlflow-param-secret-9f8e"}""", token));
        await Ok(Send(server, "POST", "/api/2.0/mlflow/runs/set-tag", $$"""{"run_id":"{{mlflowRun}}","key":"GITHUB_TOKEN","value":"mlflow-tag-secret-7d6c"}""", token));
        await Ok(Send(server, "POST", "/api/2.0/mlflow/experiments/set-experiment-tag",
            $$"""{"experiment_id":"{{exp}}","key":"db.password","value":"mlflow-exp-secret-3a2b"}""", token));
        await Ok(Send(server, "POST", "/api/v1/artifacts", $$"""
            {"name":"features","type":"dataset","runId":"{{run}}","metadata":{"rows":10,"warehouse_password":"metadata-secret-1c0d"},
             "external":{"uri":"s3://bucket/features.parquet","digest":"{{new string('a', 64)}}"} }
            """, token), HttpStatusCode.Created);
        return (run, mlflowRun, exp);
    }

    private async Task<string> AllStoredTextAsync()
    {
        var db = _server.Server.Database;
        if (db is SqliteDatabase)
        {
            // The raw bytes of the file and its WAL, after a checkpoint and before (the WAL keeps old pages).
            var path = db.Description["sqlite:".Length..];
            var before = string.Concat(new[] { path, path + "-wal" }.Where(File.Exists).Select(ReadShared));
            await db.ReadAsync(s => s.Connection.ExecuteAsync("PRAGMA wal_checkpoint(PASSIVE)"));
            return before + string.Concat(new[] { path, path + "-wal" }.Where(File.Exists).Select(ReadShared));
        }
        // PostgreSQL: every row of every table of the schema, as text.
        return await db.ReadAsync(async s =>
        {
            var text = new StringBuilder();
            foreach (var table in await s.Connection.QueryAsync<string>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            foreach (var row in await s.Connection.QueryAsync<string>($"SELECT t::text FROM \"{table}\" t")) // names from the catalog
                text.AppendLine(row);
            return text.ToString();
        });
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Encoding.Latin1.GetString(copy.ToArray()); // byte for byte; the secrets are ASCII
    }

    [Fact]
    public async Task sensitive_values_from_every_surface_are_nowhere_in_the_database_in_plaintext_yet_read_back_whole()
    {
        var (run, mlflowRun, exp) = await WriteSecretsAsync(_server);
        string sdkRun;
        await using (var active = await _server.Client.StartRunAsync("churn"))
        {
            active.LogParam("seed", "sdk-marked-secret-2f1e", sensitive: true);
            sdkRun = active.RunId;
        }

        // Laptop mode (no user): the single user reads them back in plaintext on every surface.
        Assert.Equal("sdk-marked-secret-2f1e", (await _server.Client.GetRunAsync(sdkRun)).Params["seed"]);
        var native = await Ok(Send(_server, "GET", $"/api/v1/runs/{run}"));
        Assert.Equal("tag-secret-e1f0", (string)native["tags"]!["DB_Password"]!);
        Assert.Equal("param-secret-a7b2", (string)native["params"]!["openai_api_key"]!);
        Assert.Equal("marked-secret-c3d4", (string)native["params"]!["note"]!);
        Assert.Equal("idempotent-secret-0e9f", (string)native["params"]!["hf_token"]!);
        var mlflow = await Ok(Send(_server, "GET", $"/api/2.0/mlflow/runs/get?run_id={mlflowRun}"));
        Assert.Contains("mlflow-param-secret-9f8e", mlflow.ToJsonString());
        Assert.Contains("mlflow-tag-secret-7d6c", mlflow.ToJsonString());
        var experiment = await Ok(Send(_server, "GET", $"/api/v1/experiments/{exp}"));
        Assert.Equal("exp-tag-secret-5b4a", (string)experiment["tags"]!["slack_secret"]!);
        Assert.Equal("mlflow-exp-secret-3a2b", (string)experiment["tags"]!["db.password"]!);
        var artifact = await Ok(Send(_server, "GET", "/api/v1/artifacts/features/versions/1"));
        Assert.Equal("metadata-secret-1c0d", (string)artifact["metadata"]!["warehouse_password"]!);
        Assert.Equal(10, (int)artifact["metadata"]!["rows"]!);

        // A replayed idempotent write returns what was stored for it: the redacted result, never the secret.
        await Ok(Send(_server, "POST", $"/api/v1/runs/{run}/params", """{"key":"hf_token","value":"idempotent-secret-0e9f"}""", idempotencyKey: "k-1"),
            HttpStatusCode.NoContent);

        var stored = await AllStoredTextAsync();
        foreach (var secret in Secrets) Assert.DoesNotContain(secret, stored);
        Assert.Contains(FieldEnvelope.Prefix, stored);
        Assert.Contains("0.01", stored); // ordinary params stay plain (and searchable)
    }

    [Fact]
    public async Task only_project_admins_see_sensitive_values_everyone_else_sees_the_marker_and_each_reveal_is_audited()
    {
        var gov = new GovernanceStore(_server.Server.Database);
        var tokens = new Dictionary<string, string>();
        foreach (var (name, role, serverAdmin) in new (string, Role?, bool)[] { ("reader", Role.Reader, false), ("writer", Role.Writer, false), ("padmin", Role.Admin, false), ("root", null, true) })
        {
            await gov.CreatePrincipalAsync(name, PrincipalKind.User, null, serverAdmin, "test");
            if (role is { } r) await gov.GrantAsync(name, "default", r, "test");
            tokens[name] = (await gov.IssueTokenAsync(name, null, TimeSpan.FromHours(1), "test")).Secret;
        }
        var (run, mlflowRun, exp) = await WriteSecretsAsync(_server, tokens["writer"]);
        var reads = new[]
        {
            $"/api/v1/runs/{run}", $"/api/2.0/mlflow/runs/get?run_id={mlflowRun}", $"/api/v1/experiments/{exp}",
            "/api/v1/artifacts/features/versions/1", $"/api/v1/search/runs?experimentId={exp}", $"/api/v1/runs?experimentId={exp}",
        };
        foreach (var who in new[] { "reader", "writer" })
        foreach (var path in reads)
        {
            var text = (await Ok(Send(_server, "GET", path, token: tokens[who]))).ToJsonString();
            foreach (var secret in Secrets) Assert.DoesNotContain(secret, text);
            Assert.Contains("\"***\"", text);
        }
        var search = await Ok(Send(_server, "POST", "/api/2.0/mlflow/runs/search", $$"""{"experiment_ids":["{{exp}}"]}""", tokens["reader"]));
        Assert.DoesNotContain("mlflow-param-secret-9f8e", search.ToJsonString());
        Assert.Contains("0.01", search.ToJsonString()); // non-sensitive values are untouched

        foreach (var who in new[] { "padmin", "root" })
        {
            var native = await Ok(Send(_server, "GET", $"/api/v1/runs/{run}", token: tokens[who]));
            Assert.Equal("param-secret-a7b2", (string)native["params"]!["openai_api_key"]!);
            Assert.Equal("tag-secret-e1f0", (string)native["tags"]!["DB_Password"]!);
        }

        await _server.Server.App.Services.GetRequiredService<AuditWriter>().FlushAsync();
        var reveals = (await new AuditLog(_server.Server.Database).ListAsync(new AuditQuery(Limit: 1000))).Where(e => e.Action.StartsWith("REVEAL ")).ToList();
        Assert.Equal(["padmin", "root"], reveals.Select(e => e.Actor).ToArray());
        Assert.All(reveals, e => Assert.Equal($"REVEAL GET /api/v1/runs/{{runId}}", e.Action));
        var fields = JsonNode.Parse(reveals[0].Summary)!["revealed"]!.AsArray().Select(n => (string)n!).ToList();
        Assert.Equal([$"run {run} param hf_token", $"run {run} param note", $"run {run} param openai_api_key", $"run {run} tag DB_Password"], fields);
    }

    [Fact]
    public async Task filtering_or_ordering_by_a_sensitive_value_is_a_400_while_is_null_works()
    {
        var (run, _, exp) = await WriteSecretsAsync(_server);
        foreach (var path in new[]
                 {
                     $"/api/v1/search/runs?experimentId={exp}&filter=" + Uri.EscapeDataString("params.openai_api_key = 'param-secret-a7b2'"),
                     $"/api/v1/search/runs?experimentId={exp}&filter=" + Uri.EscapeDataString("tags.db_password LIKE 'tag%'"),
                     $"/api/v1/search/runs?experimentId={exp}&orderBy=" + Uri.EscapeDataString("params.openai_api_key"),
                     "/api/v1/search/artifacts?filter=" + Uri.EscapeDataString("metadata.warehouse_password = 'x'"),
                     "/api/v1/artifacts?metadata.warehouse_password=x",
                 })
        {
            var (status, body) = await Send(_server, "GET", path);
            Assert.True(status == HttpStatusCode.BadRequest, $"{path}: {(int)status} {body?.ToJsonString()}");
            Assert.Equal("INVALID_PARAMETER_VALUE", (string)body!["error_code"]!);
            Assert.Contains("sensitive", (string)body["message"]!);
        }
        var mlflow = await Send(_server, "POST", "/api/2.0/mlflow/runs/search",
            $$"""{"experiment_ids":["{{exp}}"],"filter":"params.aws_secret_access_key = 'mlflow-param-secret-9f8e'"}""");
        Assert.Equal(HttpStatusCode.BadRequest, mlflow.Status);
        var present = await Ok(Send(_server, "GET", $"/api/v1/search/runs?experimentId={exp}&filter=" + Uri.EscapeDataString("params.openai_api_key IS NOT NULL")));
        Assert.Equal([run], present["runs"]!.AsArray().Select(r => (string)r!["runId"]!).ToArray());
    }

    [Fact]
    public async Task params_stay_write_once_under_encryption_and_a_conflict_never_echoes_the_secret()
    {
        var (run, _, _) = await WriteSecretsAsync(_server);
        await Ok(Send(_server, "POST", $"/api/v1/runs/{run}/params", """{"key":"openai_api_key","value":"param-secret-a7b2"}"""), HttpStatusCode.NoContent);
        var (status, body) = await Send(_server, "POST", $"/api/v1/runs/{run}/params", """{"key":"openai_api_key","value":"other"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.DoesNotContain("param-secret-a7b2", body!.ToJsonString());
        Assert.Contains("write-once", (string)body["message"]!);
        var (reserved, error) = await Send(_server, "POST", $"/api/v1/runs/{run}/tags", """{"key":"plain","value":"enc:v1:00000000:abc"}""");
        Assert.Equal(HttpStatusCode.BadRequest, reserved);
        Assert.Contains("reserved", (string)error!["message"]!);
    }

    [Fact]
    public async Task altered_or_swapped_ciphertext_reads_as_redacted_and_never_fails_the_read()
    {
        var (run, _, _) = await WriteSecretsAsync(_server);
        var (other, _, _) = await WriteSecretsAsync(_server, null, "second");
        var db = _server.Server.Database;
        // Swap: run 2's sealed value copied onto run 1 decrypts under the wrong binding.
        await db.WriteAsync(s => s.Connection.ExecuteAsync("""
            UPDATE params SET value = (SELECT p.value FROM params p JOIN runs r ON r.id = p.run_id WHERE r.uuid = @other AND p.key = 'openai_api_key')
            WHERE key = 'openai_api_key' AND run_id = (SELECT id FROM runs WHERE uuid = @run)
            """, new { run, other }, s.Transaction));
        // Issue 17: a value that fails its integrity check hides that field (as redacted); the rest of the run reads.
        var (status, body) = await Send(_server, "GET", $"/api/v1/runs/{run}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("param-secret-a7b2", body!.ToJsonString());
        Assert.Contains("\"openai_api_key\":\"***\"", body.ToJsonString());

        // Tamper: flip one ciphertext character of run 2's tag.
        await db.WriteAsync(async s =>
        {
            var runId = await s.Connection.ExecuteScalarAsync<long>("SELECT id FROM runs WHERE uuid = @other", new { other }, s.Transaction);
            var value = await s.Connection.ExecuteScalarAsync<string>("SELECT value FROM run_tags WHERE run_id = @runId AND key = 'DB_Password'", new { runId }, s.Transaction);
            var flipped = value![..^3] + (value[^3] == 'A' ? 'B' : 'A') + value[^2..];
            return await s.Connection.ExecuteAsync("UPDATE run_tags SET value = @flipped WHERE run_id = @runId AND key = 'DB_Password'", new { flipped, runId }, s.Transaction);
        });
        (status, body) = await Send(_server, "GET", $"/api/2.0/mlflow/runs/get?run_id={other}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("tag-secret-e1f0", body!.ToJsonString());
        Assert.Contains("***", body.ToJsonString());
    }

    private async Task<(string Run, string MlflowRun, string Experiment)> WriteSecretsAsync(TestServer server, string? token, string experimentName)
    {
        var exp = (string)(await Ok(Send(server, "POST", "/api/v1/experiments", $$"""{"name":"{{experimentName}}"}""", token), HttpStatusCode.Created))["id"]!;
        var run = (string)(await Ok(Send(server, "POST", "/api/v1/runs",
            $$"""{"experimentId":"{{exp}}","tags":{"DB_Password":"tag-secret-e1f0"} }""", token), HttpStatusCode.Created))["runId"]!;
        await Ok(Send(server, "POST", $"/api/v1/runs/{run}/params", """{"key":"openai_api_key","value":"param-secret-a7b2"}""", token), HttpStatusCode.NoContent);
        return (run, "", exp);
    }

    [Fact]
    public async Task without_a_key_marked_values_are_refused_and_a_database_with_sealed_values_refuses_to_start_without_its_key()
    {
        await WriteSecretsAsync(_server);
        await using (var plain = await StartAsync(o => o))
        {
            var exp = (string)(await Ok(Send(plain, "POST", "/api/v1/experiments", """{"name":"e"}"""), HttpStatusCode.Created))["id"]!;
            var run = (string)(await Ok(Send(plain, "POST", "/api/v1/runs", $$"""{"experimentId":"{{exp}}"}"""), HttpStatusCode.Created))["runId"]!;
            var (status, body) = await Send(plain, "POST", $"/api/v1/runs/{run}/batch",
                """{"params":[{"key":"a","value":"1"},{"key":"note","value":"x","sensitive":true}]}""");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("no encryption key", (string)body!["message"]!);
            Assert.Empty((await Ok(Send(plain, "GET", $"/api/v1/runs/{run}")))["params"]!.AsObject()); // the rejected batch changed nothing
        }

        var options = new ServerOptions { Database = _target!, ArtifactRoot = _keys.File("art"), Port = 0 };
        var missing = await Assert.ThrowsAsync<LineageException>(() => LineageServer.StartAsync(options));
        Assert.Equal(ErrorCode.Unavailable, missing.Code);
        Assert.Contains("no encryption key is configured", missing.Message);
        var wrong = await Assert.ThrowsAsync<LineageException>(() =>
            LineageServer.StartAsync(options with { EncryptionKeys = Convert.ToBase64String(Keyring.NewKey()) }));
        Assert.Contains("does not hold", wrong.Message);
    }

    [Fact]
    public async Task key_rotation_reencrypts_every_value_while_the_server_keeps_serving_then_the_old_key_retires()
    {
        var (run, mlflowRun, exp) = await WriteSecretsAsync(_server);
        var oldId = KeySource.FromFile(_keyFile).Current.CurrentId;
        var target = _target!;

        var (code, output) = await Cli("keys", "rotate", "--db", target, "--key-file", _keyFile, "--batch-size", "2", "--wait-seconds", "2.5");
        Assert.True(code == 0, output);
        var newId = KeySource.FromFile(_keyFile).Current.CurrentId;
        Assert.NotEqual(oldId, newId);
        Assert.Contains("values re-encrypted", output);

        var status = await new KeyRotation(_server.Server.Database).StatusAsync();
        Assert.Equal(0, status.Where(u => u.KeyId == oldId).Sum(u => u.Values));
        Assert.Equal(9, status.Where(u => u.KeyId == newId).Sum(u => u.Values));
        Assert.Equal(["artifact metadata", "experiment tags", "run params", "run tags"],
            status.Where(u => u.KeyId == newId).Select(u => u.Field).ToArray());

        // The running server reads values sealed by the key it learned from the file, and seals new ones with it.
        var native = await Ok(Send(_server, "GET", $"/api/v1/runs/{run}"));
        Assert.Equal("param-secret-a7b2", (string)native["params"]!["openai_api_key"]!);
        Assert.Contains("mlflow-tag-secret-7d6c", (await Ok(Send(_server, "GET", $"/api/2.0/mlflow/runs/get?run_id={mlflowRun}"))).ToJsonString());
        Assert.Equal("metadata-secret-1c0d", (string)(await Ok(Send(_server, "GET", "/api/v1/artifacts/features/versions/1")))["metadata"]!["warehouse_password"]!);
        await Ok(Send(_server, "POST", $"/api/v1/experiments/{exp}/tags", """{"key":"new_token","value":"after-rotation"}"""), HttpStatusCode.NoContent);
        var stored = await _server.Server.Database.ReadAsync(s => s.Connection.ExecuteScalarAsync<string>(
            "SELECT value FROM experiment_tags WHERE key = 'new_token'"));
        Assert.Equal(newId, FieldEnvelope.KeyIdOf(stored!));

        // Retire: refused for the current key; the old one goes from the database's list and the file.
        (code, output) = await Cli("keys", "retire", newId, "--db", target, "--key-file", _keyFile);
        Assert.Equal(1, code);
        Assert.Contains("current key", output);
        (code, output) = await Cli("keys", "retire", oldId, "--db", target, "--key-file", _keyFile);
        Assert.True(code == 0, output);
        Assert.Equal([newId], KeySource.FromFile(_keyFile).Current.Ids);
        (code, output) = await Cli("keys", "status", "--db", target, "--key-file", _keyFile, "--json");
        Assert.True(code == 0, output);
        Assert.DoesNotContain(oldId, output);
        Assert.Contains($"\"keyId\":\"{newId}\"", output);

        // A restart with only the new key is accepted: nothing needs the old one any more.
        await _server.DisposeAsync();
        _server = await StartAsync(o => o with { Database = target, KeyFile = _keyFile });
        Assert.Equal("param-secret-a7b2", (string)(await Ok(Send(_server, "GET", $"/api/v1/runs/{run}")))["params"]!["openai_api_key"]!);
    }

    private static async Task<(int Code, string Output)> Cli(params string[] args)
    {
        var (code, stdout, stderr) = await InProcessCli.RunAsync(args);
        return (code, stdout + stderr);
    }
}

public sealed class FieldEncryptionSqliteTests : FieldEncryptionTests
{
    protected override bool Postgres => false;
}

public sealed class FieldEncryptionPostgresTests : FieldEncryptionTests
{
    protected override bool Postgres => true;
}
