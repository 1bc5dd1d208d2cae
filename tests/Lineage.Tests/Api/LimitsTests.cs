using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Server;
using Lineage.Server.Hosting;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Tests.Api;

/// <summary>Issue 7, item 6: body limits per route class, per-principal rate limits, strict JSON, trusted proxies, TLS.</summary>
public abstract class LimitsTests
{
    protected abstract bool Postgres { get; }

    private static async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> Send(HttpClient http, HttpMethod method, string path,
        HttpContent? content = null, string? token = null, (string, string)? header = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        // As curl does for large bodies: the server can refuse before the body is sent.
        if (content is not null) request.Headers.ExpectContinue = true;
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (header is { } h) request.Headers.Add(h.Item1, h.Item2);
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text) : null, response);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A body of unknown length: HttpClient sends it chunked, without Content-Length.</summary>
    private sealed class ChunkedJson(string json) : HttpContent
    {
        private readonly byte[] _bytes = Encoding.UTF8.GetBytes(json);

        public ChunkedJson() : this("") { }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static string Batch(int metrics) =>
        "{\"metrics\":[" + string.Join(",", Enumerable.Range(0, metrics).Select(i => $$"""{"key":"loss","value":{{i}},"step":{{i}},"timestamp":1700000000000}""")) + "]}";

    [Fact]
    public async Task a_json_body_over_its_route_limit_is_413_with_or_without_content_length_and_nothing_is_written()
    {
        await using var server = await TestServer.StartAsync(Postgres, o => o with { MaxJsonBodyBytes = 1000, MaxBatchBodyBytes = 100_000 });
        var big = $$"""{"name":"too-big","description":"{{new string('x', 2000)}}"}""";
        foreach (var content in new HttpContent[] { Json(big), new ChunkedJson(big) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } } })
        {
            var (status, body, _) = await Send(server.Http, HttpMethod.Post, "/api/v1/experiments/", content);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
            Assert.Equal("PAYLOAD_TOO_LARGE", (string?)body?["error_code"]);
        }
        var (_, list, _) = await Send(server.Http, HttpMethod.Get, "/api/v1/experiments/");
        Assert.DoesNotContain("too-big", list!.ToJsonString());

        // The batch route has its own, larger limit: the same size passes there.
        var run = await server.Client.CreateRunAsync(new Lineage.Core.Contracts.V1.CreateRunRequest(ExperimentId: "0"));
        var batch = Batch(40);
        Assert.True(Encoding.UTF8.GetByteCount(batch) > 1000);
        Assert.Equal(HttpStatusCode.OK, (await Send(server.Http, HttpMethod.Post, $"/api/v1/runs/{run.RunId}/batch", Json(batch))).Status);
        var tooMany = Batch(2000);
        var (batchStatus, _, _) = await Send(server.Http, HttpMethod.Post, $"/api/v1/runs/{run.RunId}/batch",
            new ChunkedJson(tooMany) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, batchStatus);
        var history = await server.Client.GetFullMetricHistoryAsync(run.RunId, "loss");
        Assert.Equal(40, history.Count);
    }

    [Fact]
    public async Task a_client_that_sends_an_oversized_body_without_waiting_still_reads_the_413()
    {
        // Found by the fuzz suite: the 413 went out while the client was still sending, the server reset the
        // connection, and the client saw a broken upload instead of the answer. The server now drains such a body.
        await using var server = await TestServer.StartAsync(Postgres, o => o with { MaxJsonBodyBytes = 1000 });
        var body = Encoding.UTF8.GetBytes("{\"name\":\"" + new string('x', 5_000_000) + "\"}");
        for (var i = 0; i < 10; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/experiments/") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Contains("PAYLOAD_TOO_LARGE", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task an_mlflow_log_batch_over_the_batch_limit_is_413_and_logs_nothing()
    {
        await using var server = await TestServer.StartAsync(Postgres, o => o with { MaxBatchBodyBytes = 2000 });
        var run = await server.Client.CreateRunAsync(new Lineage.Core.Contracts.V1.CreateRunRequest(ExperimentId: "0"));
        var body = $$"""{"run_id":"{{run.RunId}}",{{Batch(100)[1..]}}""";
        var (status, error, _) = await Send(server.Http, HttpMethod.Post, "/api/2.0/mlflow/runs/log-batch", Json(body));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("PAYLOAD_TOO_LARGE", (string?)error?["error_code"]);
        Assert.Empty(await server.Client.GetFullMetricHistoryAsync(run.RunId, "loss"));
    }

    [Fact]
    public async Task the_laptop_user_on_loopback_without_authentication_is_not_rate_limited()
    {
        await using var server = await TestServer.StartAsync(Postgres, o => o with { RateLimitPerSecond = 1, RateLimitBurst = 5 });
        for (var i = 0; i < 30; i++)
            Assert.Equal(HttpStatusCode.OK, (await Send(server.Http, HttpMethod.Get, "/api/v1/experiments/")).Status);
    }

    [Fact]
    public async Task a_flooding_principal_gets_429_with_retry_after_while_another_principal_and_health_are_unaffected()
    {
        await using var server = await TestServer.StartAsync(Postgres, o => o with { RateLimitPerSecond = 1, RateLimitBurst = 5, CredentialCache = TimeSpan.FromMinutes(1) });
        var gov = new GovernanceStore(server.Server.Database);
        var tokens = new Dictionary<string, string>();
        foreach (var name in new[] { "flood", "calm" })
        {
            await gov.CreatePrincipalAsync(name, PrincipalKind.User, null, false, "test");
            await gov.GrantAsync(name, "default", Role.Writer, "test");
            tokens[name] = (await gov.IssueTokenAsync(name, null, TimeSpan.FromHours(1), "test")).Secret;
        }

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        JsonNode? limitedBody = null;
        for (var i = 0; i < 30; i++)
        {
            var (status, body, response) = await Send(server.Http, HttpMethod.Get, "/api/v1/experiments/", token: tokens["flood"]);
            statuses.Add(status);
            if (status == HttpStatusCode.TooManyRequests) (limited, limitedBody) = (response, body);
        }
        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.True(statuses.Count(s => s == HttpStatusCode.TooManyRequests) >= 20, string.Join(",", statuses));
        Assert.Equal("RATE_LIMITED", (string?)limitedBody?["error_code"]);
        Assert.True(limited!.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));

        // The MLflow surface answers with MLflow's code for the same condition.
        var (mlStatus, mlBody, _) = await Send(server.Http, HttpMethod.Get, "/api/2.0/mlflow/experiments/get?experiment_id=0", token: tokens["flood"]);
        Assert.Equal(HttpStatusCode.TooManyRequests, mlStatus);
        Assert.Equal("REQUEST_LIMIT_EXCEEDED", (string?)mlBody?["error_code"]);

        // Another principal has its own bucket; probes are never limited.
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.OK, (await Send(server.Http, HttpMethod.Get, "/api/v1/experiments/", token: tokens["calm"])).Status);
        for (var i = 0; i < 10; i++)
            Assert.Equal(HttpStatusCode.OK, (await Send(server.Http, HttpMethod.Get, "/health")).Status);

        // A rejected write writes nothing.
        var (writeStatus, _, _) = await Send(server.Http, HttpMethod.Post, "/api/v1/experiments/", Json("""{"name":"flooded"}"""), tokens["flood"]);
        Assert.Equal(HttpStatusCode.TooManyRequests, writeStatus);
        var (_, list, _) = await Send(server.Http, HttpMethod.Get, "/api/v1/experiments/", token: tokens["calm"]);
        Assert.DoesNotContain("flooded", list!.ToJsonString());
    }

    [Fact]
    public async Task duplicate_keys_are_400_naming_the_key_on_every_surface_and_nothing_is_written()
    {
        await using var server = await TestServer.StartAsync(Postgres);
        var cases = new (string Path, string Body, string Key)[]
        {
            ("/api/v1/experiments/", """{"name":"dup-a","name":"dup-b"}""", "name"),
            ("/api/v1/executions/", """{"type":"train","name":"dup-x","properties":{"k":1,"k":2}}""", "k"),
            ("/api/v1/manifests/verify", """{"format":1,"format":2}""", "format"),
            ("/api/2.0/mlflow/experiments/create", """{"name":"dup-c","name":"dup-d"}""", "name"),
            ("/api/v1/lineage", """{"eventType":"START","eventType":"COMPLETE"}""", "eventType"),
        };
        foreach (var (path, json, key) in cases)
        {
            var (status, body, _) = await Send(server.Http, HttpMethod.Post, path, Json(json));
            Assert.True(status == HttpStatusCode.BadRequest, $"{path}: {(int)status} {body}");
            Assert.Equal("INVALID_PARAMETER_VALUE", (string?)body?["error_code"]);
            Assert.Contains($"'{key}'", (string?)body?["message"] + " '" + (string?)body?["field"] + "'");
        }
        var (_, list, _) = await Send(server.Http, HttpMethod.Get, "/api/v1/experiments/");
        Assert.DoesNotContain("dup-", list!.ToJsonString());
    }

    [Fact]
    public async Task wrong_types_are_400_naming_the_field_never_500()
    {
        await using var server = await TestServer.StartAsync(Postgres);
        var cases = new (string Path, string Body, string Field)[]
        {
            ("/api/v1/experiments/", """{"name":42}""", "name"),
            ("/api/v1/experiments/", """{"name":"x","tags":["a"]}""", "tags"),
            ("/api/2.0/mlflow/experiments/create", """{"name":{"a":1}}""", "name"),
            ("/api/2.0/mlflow/runs/create", """{"experiment_id":"0","start_time":"soon"}""", "start_time"),
        };
        foreach (var (path, json, field) in cases)
        {
            var (status, body, _) = await Send(server.Http, HttpMethod.Post, path, Json(json));
            Assert.True(status == HttpStatusCode.BadRequest, $"{path} {json}: {(int)status} {body}");
            Assert.Contains(field, (string?)body?["message"] + (string?)body?["field"]);
        }
    }

    [Fact]
    public async Task the_audit_log_records_the_forwarded_client_only_behind_a_trusted_proxy()
    {
        foreach (var (trusted, expected) in new[] { (new[] { "127.0.0.0/8" }, "203.0.113.7"), (Array.Empty<string>(), "127.0.0.1") })
        {
            await using var server = await TestServer.StartAsync(Postgres, o => o with { TrustedProxies = trusted });
            Assert.Equal(HttpStatusCode.Created, (await Send(server.Http, HttpMethod.Post, "/api/v1/experiments/", Json("""{"name":"via-proxy"}"""),
                header: ("X-Forwarded-For", "203.0.113.7"))).Status);
            await server.Server.App.Services.GetRequiredService<AuditWriter>().FlushAsync();
            var entry = Assert.Single(await new AuditLog(server.Server.Database).ListAsync(new AuditQuery(Limit: 10)), e => e.Action == "POST /api/v1/experiments/");
            Assert.Equal(expected, entry.Address);
        }
    }

    [Fact]
    public async Task with_a_certificate_the_server_speaks_https()
    {
        using var dir = new TempDir();
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(dir.File("tls.crt"), certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(dir.File("tls.key"), key.ExportPkcs8PrivateKeyPem());

        await using var server = await TestServer.StartAsync(Postgres, o => o with { TlsCertificatePath = dir.File("tls.crt"), TlsKeyPath = dir.File("tls.key") });
        Assert.Equal("https", server.Address.Scheme);
        using var handler = new HttpClientHandler
        {
            // Trust exactly this self-signed certificate.
            ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint,
        };
        using var https = new HttpClient(handler) { BaseAddress = server.Address };
        Assert.Equal(HttpStatusCode.OK, (await https.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await https.PostAsync("/api/v1/experiments/", Json("""{"name":"over-tls"}"""))).StatusCode);

        // Plain HTTP to the TLS port is not served.
        using var plain = new HttpClient { BaseAddress = new UriBuilder(server.Address) { Scheme = "http" }.Uri };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync("/health"));
    }

    [Fact]
    public async Task an_unreadable_certificate_refuses_to_start_with_a_clear_error()
    {
        using var dir = new TempDir();
        await File.WriteAllTextAsync(dir.File("bad.crt"), "not a certificate");
        var error = await Assert.ThrowsAsync<LineageException>(() => TestServer.StartAsync(Postgres, o => o with { TlsCertificatePath = dir.File("bad.crt"), TlsKeyPath = dir.File("bad.crt") }));
        Assert.Contains("cannot load the TLS certificate", error.Message);
    }
}

public sealed class LimitsSqliteTests : LimitsTests
{
    protected override bool Postgres => false;
}

public sealed class LimitsPostgresTests : LimitsTests
{
    protected override bool Postgres => true;
}
