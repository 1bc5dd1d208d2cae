using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Lineage.Server;
using Lineage.Server.Hosting;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Tests.Api;

/// <summary>
/// The audit entries of API writes survive the server dying between answering and chaining, are one per request,
/// and rejected requests have none; on SQLite and PostgreSQL.
/// </summary>
public abstract class AuditOutboxApiTests
{
    protected abstract bool Postgres { get; }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> Post(RunningServer server, string path, string json, string user = "ana")
    {
        using var http = new HttpClient { BaseAddress = server.Address };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Lineage-User", user);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    private static async Task<JsonNode> Verify(RunningServer server)
    {
        using var http = new HttpClient { BaseAddress = server.Address };
        return JsonNode.Parse(await http.GetStringAsync("/api/v1/audit/verify"))!;
    }

    private static Task Flush(RunningServer server) => server.App.Services.GetRequiredService<AuditWriter>().FlushAsync();

    private ServerOptions Options(TempDir dir) => new()
    {
        Database = Postgres ? PostgresTarget.CreateDatabase() : dir.File("outbox.db"),
        ArtifactRoot = dir.File("artifacts"),
        Port = 0,
    };

    [Fact]
    public async Task writes_answered_by_a_server_that_stopped_before_chaining_their_entries_are_chained_after_a_restart()
    {
        using var dir = new TempDir();
        var options = Options(dir);
        await using (var first = await LineageServer.StartAsync(options))
        {
            // As if the process were killed right after answering: its background writer never runs again.
            await first.App.Services.GetRequiredService<AuditWriter>().StopAsync(CancellationToken.None);
            Assert.Equal(HttpStatusCode.Created, (await Post(first, "/api/v1/experiments/", """{"name":"lost-1"}""")).Status);
            Assert.Equal(HttpStatusCode.Created, (await Post(first, "/api/v1/experiments/", """{"name":"lost-2"}""")).Status);
            Assert.Equal(HttpStatusCode.Conflict, (await Post(first, "/api/v1/experiments/", """{"name":"lost-1"}""")).Status);
            var before = await Verify(first);
            Assert.Equal((0L, 2L), ((long)before["entries"]!, (long)before["pending"]!));
        }

        await using var second = await LineageServer.StartAsync(options);
        Assert.Equal(HttpStatusCode.Created, (await Post(second, "/api/v1/experiments/", """{"name":"kept"}""", user: "bob")).Status);
        await Flush(second);
        // Rows this young may be another live server's, still answering: they wait out the grace.
        var log = new AuditLog(second.Database);
        var entries = await log.ListAsync(new AuditQuery());
        Assert.Equal([("unverified:bob", 201)], entries.Select(e => (e.Actor, e.Status)));
        Assert.Equal(2L, (long)(await Verify(second))["pending"]!);

        // The grace passes.
        await second.Database.WriteAsync(s => s.Connection.ExecuteAsync("UPDATE audit_pending SET time = time - @grace",
            new { grace = (long)AuditWriter.UnansweredGrace.TotalMilliseconds + 1 }, s.Transaction));
        await Flush(second);
        var recovered = (await log.ListAsync(new AuditQuery())).Skip(1).ToList();
        Assert.Equal(2, recovered.Count);
        Assert.All(recovered, e =>
        {
            Assert.Equal(("unverified:ana", "POST /api/v1/experiments/", "/api/v1/experiments/", AuditLog.UnansweredStatus),
                (e.Actor, e.Action, e.Target, e.Status));
            Assert.Contains("unknown", e.Summary);
        });
        var after = await Verify(second);
        Assert.True((bool)after["intact"]!);
        Assert.Equal((3L, 0L), ((long)after["entries"]!, (long)after["pending"]!));
    }

    [Fact]
    public async Task a_request_that_ran_several_write_transactions_has_exactly_one_entry()
    {
        using var dir = new TempDir();
        await using var server = await LineageServer.StartAsync(Options(dir));
        var created = await Post(server, "/api/2.0/mlflow/runs/create", """{"experiment_id":"0"}""");
        var runId = (string)created.Body!["run"]!["info"]!["run_id"]!;
        await Flush(server);
        var log = new AuditLog(server.Database);
        var before = (await log.ListAsync(new AuditQuery())).Count;

        // A batch that renames the run: the batch, then the rename, in two transactions.
        Assert.Equal(HttpStatusCode.OK, (await Post(server, "/api/2.0/mlflow/runs/log-batch",
            $$"""{"run_id":"{{runId}}","params":[{"key":"lr","value":"0.1"}],"tags":[{"key":"mlflow.runName","value":"renamed"}]}""")).Status);
        await Flush(server);

        var entry = Assert.Single((await log.ListAsync(new AuditQuery())).Skip(before));
        Assert.Equal(("POST /api/2.0/mlflow/runs/log-batch", 200), (entry.Action, entry.Status));
        Assert.Equal("renamed", (await server.Database.ReadAsync(s => s.Connection.ExecuteScalarAsync<string>(
            "SELECT name FROM runs WHERE uuid = @runId", new { runId }, s.Transaction)))); // both transactions ran
        Assert.Equal(0L, (long)(await Verify(server))["pending"]!);
    }

    [Fact]
    public async Task rejected_write_requests_leave_no_entry_and_no_pending_row()
    {
        using var dir = new TempDir();
        await using var server = await LineageServer.StartAsync(Options(dir));
        Assert.Equal(HttpStatusCode.Created, (await Post(server, "/api/v1/experiments/", """{"name":"only"}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(server, "/api/v1/experiments/", """{"name":""}""")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await Post(server, "/api/v1/experiments/", """{"name":"only"}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Post(server, "/api/v1/runs/", """{"experimentId":"999999"}""")).Status);
        await Flush(server);

        var entry = Assert.Single(await new AuditLog(server.Database).ListAsync(new AuditQuery()));
        Assert.Equal((201, "POST /api/v1/experiments/"), (entry.Status, entry.Action));
        Assert.DoesNotContain("unknown", entry.Summary);
        Assert.Equal(0L, (long)(await Verify(server))["pending"]!);
    }
}

public sealed class AuditOutboxApiSqliteTests : AuditOutboxApiTests
{
    protected override bool Postgres => false;
}

public sealed class AuditOutboxApiPostgresTests : AuditOutboxApiTests
{
    protected override bool Postgres => true;
}
