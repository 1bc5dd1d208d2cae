using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Governance;
using Lineage.Server.Hosting;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;
using Npgsql;

namespace Lineage.Tests.Operations;

/// <summary>/metrics, request ids, JSON logs and /ready for operators (issue 17, section 4).</summary>
public abstract class ObservabilityTests
{
    protected abstract bool Postgres { get; }

    private static async Task<PrometheusText> ScrapeAsync(HttpClient http, AuthenticationHeaderValue? auth = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.Authorization = auth;
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task metrics_scrape_parses_and_counts_requests_by_route_template_status_store_and_blob_bytes()
    {
        await using var server = await TestServer.StartAsync(Postgres);
        var experiment = await server.Client.CreateExperimentAsync("metrics");
        var run = await server.Client.CreateRunAsync(new CreateRunRequest(experiment.Id));
        await server.Client.LogBatchAsync(run.RunId, new BatchRequest(Enumerable.Range(0, 5).Select(i => new LogMetricRequest("loss", i, i)).ToList()));
        var missing = new string('0', 32);
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync($"api/v1/runs/{missing}")).StatusCode);
        var content = server.DataDir + "/blob.bin";
        await File.WriteAllBytesAsync(content, RandomNumberGenerator.GetBytes(1234));
        await server.Client.RegisterArtifactAsync("metrics-data", content, "dataset");

        var text = await (await server.Http.GetAsync("metrics")).Content.ReadAsStringAsync();
        var metrics = await ScrapeAsync(server.Http);

        // Requests by method, route template and status; a counter and a histogram with the same labels.
        Assert.Equal("counter", metrics.Types["lineage_http_requests_total"]);
        Assert.Equal("histogram", metrics.Types["lineage_http_request_duration_seconds"]);
        var notFound = metrics.Named("lineage_http_requests_total")
            .Single(s => s.Labels["method"] == "GET" && s.Labels["route"] == "/api/v1/runs/{runId}" && s.Labels["status"] == "404");
        Assert.Equal(3, notFound.Value);
        var latency = metrics.Named("lineage_http_request_duration_seconds_count")
            .Single(s => s.Labels["route"] == "/api/v1/runs/{runId}" && s.Labels["status"] == "404");
        Assert.Equal(3, latency.Value);
        Assert.Contains(metrics.Named("lineage_http_requests_total"), s => s.Labels["route"] == "/api/v1/runs/{runId}/batch" && s.Labels["status"] == "200");
        // Templates, never raw paths: ids do not become label values.
        Assert.DoesNotContain(missing, text);
        Assert.DoesNotContain(run.RunId, text);

        // The store: writer queue, active connections, commit latency, ingestion by kind. The queue reads 0 once the
        // server is idle: a background write (the audit writer's, the read tracker's) may be queued at any one scrape.
        for (var i = 0; i < 50 && metrics.Named("lineage_db_writer_queue").Single().Value != 0; i++)
        {
            await Task.Delay(100);
            metrics = await ScrapeAsync(server.Http);
        }
        Assert.Equal(0, metrics.Named("lineage_db_writer_queue").Single().Value);
        Assert.Equal(Postgres ? "postgres" : "sqlite", metrics.Named("lineage_db_writer_queue").Single().Labels["dialect"]);
        Assert.Equal("gauge", metrics.Types["lineage_db_reads_active"]);
        Assert.Equal("histogram", metrics.Types["lineage_db_commit_duration_seconds"]);
        Assert.True(metrics.Named("lineage_db_commit_duration_seconds_count").Single().Value >= 3);
        Assert.Equal("counter", metrics.Types["lineage_ingested_total"]);
        Assert.Equal(5, metrics.Named("lineage_ingested_total").Single(s => s.Labels["kind"] == "metric_points").Value);
        Assert.Equal(1, metrics.Named("lineage_ingested_total").Single(s => s.Labels["kind"] == "artifact_versions").Value);
        // Blob store bytes: the one upload.
        Assert.Equal(1234, metrics.Named("lineage_blob_store_bytes").Single().Value);
        Assert.Equal(1, metrics.Named("lineage_blob_store_blobs").Single().Value);
        // The runtime's own instruments: resident memory and the managed heap per generation (the soak bench reads them).
        Assert.Equal("gauge", metrics.Types["dotnet_process_memory_working_set_bytes"]);
        Assert.True(metrics.Named("dotnet_process_memory_working_set_bytes").Single().Value > 0);
        Assert.Contains(metrics.Named("dotnet_gc_last_collection_heap_size_bytes"), s => s.Labels["gc_heap_generation"] == "gen2");
        Assert.True(metrics.Named("dotnet_gc_last_collection_memory_committed_size_bytes").Single().Value > 0);
        Assert.Equal(Postgres, !metrics.Types.ContainsKey("lineage_sqlite_memory_bytes"));
        if (!Postgres) Assert.True(metrics.Named("lineage_sqlite_memory_bytes").Single().Value > 0);
        if (Postgres)
        {
            Assert.Contains(metrics.Samples, s => s.Name.StartsWith("db_client_connection", StringComparison.Ordinal));
            // The pool is named "lineage", not by its connection string: no host, user or database name on /metrics.
            Assert.DoesNotContain(server.Server.Database.Description.Split('/')[^1], text);
        }
    }

    [Fact]
    public async Task every_answer_carries_its_own_request_id()
    {
        await using var server = await TestServer.StartAsync(Postgres);
        var ids = new List<string>();
        foreach (var (method, path) in new[] { ("GET", "health"), ("GET", "api/v1/experiments"), ("GET", $"api/v1/runs/{new string('0', 32)}"),
                     ("POST", "api/v1/experiments"), ("DELETE", "health"), ("GET", "api/v1/nothing-here"), ("GET", "metrics") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method == "POST") request.Content = new StringContent("{\"name\":", System.Text.Encoding.UTF8, "application/json"); // malformed: 400
            using var response = await server.Http.SendAsync(request);
            Assert.True(response.Headers.TryGetValues(RequestTelemetry.Header, out var values), $"{method} {path} ({response.StatusCode}) has no request id");
            ids.Add(values.Single());
        }
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.False(string.IsNullOrWhiteSpace(id)));
    }

    [Fact]
    public async Task ready_tells_anonymous_callers_only_ready_and_server_admins_the_store()
    {
        await using var server = await TestServer.StartAsync(Postgres, o => o with { CredentialCache = TimeSpan.Zero });
        var gov = new GovernanceStore(server.Server.Database);
        await gov.CreatePrincipalAsync("root", PrincipalKind.User, null, true, "test");
        await gov.CreatePrincipalAsync("reader", PrincipalKind.User, null, false, "test");
        await gov.GrantAsync("reader", "default", Role.Reader, "test");
        var root = new AuthenticationHeaderValue("Bearer", (await gov.IssueTokenAsync("root", null, TimeSpan.FromHours(1), "test")).Secret);
        var reader = new AuthenticationHeaderValue("Bearer", (await gov.IssueTokenAsync("reader", null, TimeSpan.FromHours(1), "test")).Secret);

        async Task<(HttpStatusCode, JsonObject)> Ready(AuthenticationHeaderValue? auth)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "ready");
            request.Headers.Authorization = auth;
            using var response = await server.Http.SendAsync(request);
            return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
        }

        var (status, anonymous) = await Ready(null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{\"status\":\"ready\"}", anonymous.ToJsonString());
        var (_, asReader) = await Ready(reader);
        Assert.Equal("{\"status\":\"ready\"}", asReader.ToJsonString());
        var (_, bogus) = await Ready(new AuthenticationHeaderValue("Bearer", "lin_not_a_token"));
        Assert.Equal("{\"status\":\"ready\"}", bogus.ToJsonString());
        var (_, asAdmin) = await Ready(root);
        Assert.Equal(server.Server.Database.Description, (string?)asAdmin["database"]);
        Assert.Equal("ok", (string?)asAdmin["checks"]!["database"]);
        Assert.NotNull((string?)asAdmin["version"]);

        // /metrics needs a role somewhere once authentication is on.
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("metrics")).StatusCode);
        await ScrapeAsync(server.Http, reader);
    }

    [Fact]
    public async Task ready_fails_while_the_blob_store_is_gone_and_recovers_when_it_is_back()
    {
        await using var server = await TestServer.StartAsync(Postgres);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("ready")).StatusCode);
        var artifacts = Path.Combine(server.DataDir, "artifacts");
        var aside = artifacts + "-aside";
        Directory.Move(artifacts, aside);
        try
        {
            using var down = await server.Http.GetAsync("ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.Equal("{\"status\":\"unavailable\"}", await down.Content.ReadAsStringAsync());
        }
        finally
        {
            Directory.Move(aside, artifacts);
        }
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("ready")).StatusCode);
    }

    [Fact]
    public async Task json_logs_are_one_object_per_line_and_carry_the_request_id_of_the_answer()
    {
        using var dir = new TempDir();
        var database = Postgres ? PostgresTarget.CreateDatabase() : dir.File("lineage.db");
        await using var server = await ServerProcess.StartAsync(database, dir.File("artifacts"), "--log-format", "json", "--log-requests");
        using var http = new HttpClient { BaseAddress = server.Address };
        using var response = await http.GetAsync("api/v1/experiments");
        var requestId = response.Headers.GetValues(RequestTelemetry.Header).Single();
        await server.StopAsync();

        var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(lines);
        var entries = lines.Select(line =>
        {
            try
            {
                return JsonNode.Parse(line)!.AsObject();
            }
            catch (JsonException ex)
            {
                throw new Xunit.Sdk.XunitException($"not a JSON line: {line} ({ex.Message})");
            }
        }).ToList();
        Assert.All(entries, e =>
        {
            Assert.NotNull((string?)e["Timestamp"]);
            Assert.NotNull((string?)e["LogLevel"]);
            Assert.NotNull((string?)e["Category"]);
        });
        Assert.Contains(entries, e => ((string?)e["Message"])?.Contains("listening on") == true);
        // Both request log lines of that request name its id; every request-scoped line names one.
        var ofRequest = entries.Where(e => RequestIdOf(e) == requestId).ToList();
        Assert.True(ofRequest.Count >= 2, $"{ofRequest.Count} lines with request id {requestId}:\n{server.Output}");
        Assert.All(entries.Where(e => (string?)e["Category"] == "Microsoft.AspNetCore.Hosting.Diagnostics"), e => Assert.NotNull(RequestIdOf(e)));
    }

    [Fact]
    public async Task text_log_lines_of_a_request_name_its_request_id()
    {
        using var dir = new TempDir();
        var database = Postgres ? PostgresTarget.CreateDatabase() : dir.File("lineage.db");
        await using var server = await ServerProcess.StartAsync(database, dir.File("artifacts"), "--log-requests");
        using var http = new HttpClient { BaseAddress = server.Address };
        using var response = await http.GetAsync($"api/v1/runs/{new string('0', 32)}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var requestId = response.Headers.GetValues(RequestTelemetry.Header).Single();
        await server.StopAsync();

        var requestLines = server.Output.Split('\n').Where(l => l.Contains("Request starting") || l.Contains("Request finished")).ToList();
        Assert.NotEmpty(requestLines);
        Assert.All(requestLines, l => Assert.Matches(@"RequestId:\S+", l));
        Assert.Equal(2, requestLines.Count(l => l.Contains($"RequestId:{requestId}", StringComparison.Ordinal)));
    }

    private static string? RequestIdOf(JsonObject entry) =>
        entry["Scopes"]?.AsArray().Select(s => s is JsonObject o ? (string?)o["RequestId"] : null).FirstOrDefault(id => id is not null);

    [Fact]
    public void the_exposition_reader_rejects_what_the_format_does_not_allow()
    {
        PrometheusText.Parse("# TYPE a counter\na_total 1\n");
        Assert.Throws<FormatException>(() => PrometheusText.Parse("a 1"));                           // no final line feed
        Assert.Throws<FormatException>(() => PrometheusText.Parse("a{b=\"c} 1\n"));                  // unterminated value
        Assert.Throws<FormatException>(() => PrometheusText.Parse("a-b 1\n"));                        // bad name
        Assert.Throws<FormatException>(() => PrometheusText.Parse("a one\n"));                        // not a number
        Assert.Throws<FormatException>(() => PrometheusText.Parse("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"));
        Assert.Throws<FormatException>(() => PrometheusText.Parse("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n"));
    }
}

public sealed class ObservabilitySqliteTests : ObservabilityTests
{
    protected override bool Postgres => false;
}

public sealed class ObservabilityPostgresTests : ObservabilityTests
{
    protected override bool Postgres => true;

    [Fact]
    public async Task ready_fails_while_the_database_refuses_connections_and_recovers_after()
    {
        var database = PostgresTarget.CreateDatabase();
        var name = new NpgsqlConnectionStringBuilder(database).Database!;
        await using var server = await TestServer.StartAsync(true, o => o with { Database = database });
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("ready")).StatusCode);
        await using var admin = new NpgsqlConnection(PostgresTarget.AdminConnectionString);
        await admin.OpenAsync();
        async Task Sql(string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, admin);
            await cmd.ExecuteNonQueryAsync();
        }
        // name is a generated identifier (PostgresTarget), not user text.
        await Sql($"ALTER DATABASE {name} ALLOW_CONNECTIONS false");
        try
        {
            await Sql($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
            var down = await PollAsync(server.Http, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("{\"status\":\"unavailable\"}", down);
        }
        finally
        {
            await Sql($"ALTER DATABASE {name} ALLOW_CONNECTIONS true");
        }
        await PollAsync(server.Http, HttpStatusCode.OK);
    }

    /// <summary>/ready until it answers <paramref name="expected"/> (the pool may hand out a connection killed a moment ago once).</summary>
    private static async Task<string> PollAsync(HttpClient http, HttpStatusCode expected)
    {
        var last = HttpStatusCode.OK;
        for (var i = 0; i < 40; i++)
        {
            using var response = await http.GetAsync("ready");
            last = response.StatusCode;
            if (last == expected) return await response.Content.ReadAsStringAsync();
            await Task.Delay(250);
        }
        throw new Xunit.Sdk.XunitException($"/ready stayed {last}, expected {expected}");
    }
}
