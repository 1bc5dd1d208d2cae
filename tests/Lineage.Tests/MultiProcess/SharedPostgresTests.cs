using System.Net;
using System.Text;
using Lineage.Client;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Tests.Support;

namespace Lineage.Tests.MultiProcess;

/// <summary>
/// Stateless servers on one PostgreSQL database: how Lineage scales past one machine.
/// Two real server processes are written to at once and must agree on every rule.
/// </summary>
public sealed class SharedPostgresTests
{
    [Fact]
    public async Task two_servers_on_one_postgres_database_written_concurrently_stay_consistent()
    {
        using var dir = new TempDir();
        var database = PostgresTarget.CreateDatabase();
        await using var a = await ServerProcess.StartAsync(database, dir.File("artifacts"));
        await using var b = await ServerProcess.StartAsync(database, dir.File("artifacts"));
        using var ca = new LineageClient(a.Address);
        using var cb = new LineageClient(b.Address);
        LineageClient[] clients = [ca, cb];

        // 1. The same experiment names created through both servers: exactly one wins each.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            try
            {
                await clients[i % 2].CreateExperimentAsync($"race-{i / 2}");
                return "created";
            }
            catch (LineageApiException ex) when (ex.Code == ErrorCode.ResourceAlreadyExists)
            {
                return "exists";
            }
        }));
        Assert.Equal(10, outcomes.Count(o => o == "created"));
        Assert.Equal(10, (await ca.ListExperimentsAsync(nameContains: "race-", limit: 100)).Experiments.Count);

        // 2. One run's series written through both servers at once: every point kept once.
        var runId = (await ca.CreateRunAsync(new CreateRunRequest("0", "shared"))).RunId;
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => clients[i % 2].LogBatchAsync(runId, new BatchRequest(
            Enumerable.Range(0, 250).Select(j => new LogMetricRequest("loss", i, i * 250L + j, 1)).ToList(),
            [new KeyValueDto("seed", "42")]))));
        var history = await cb.GetFullMetricHistoryAsync(runId, "loss");
        Assert.Equal(40 * 250, history.Count);
        Assert.Equal(40 * 250, history.Select(p => p.Step).Distinct().Count());
        var latest = (await ca.GetRunAsync(runId)).Metrics.Single(m => m.Key == "loss");
        Assert.Equal(40 * 250 - 1, latest.Step);

        // 3. Conflicting write-once params through different servers: one value wins, everywhere.
        var paramResults = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            try
            {
                await clients[i % 2].LogParamAsync(runId, "lr", $"0.{i}");
                return true;
            }
            catch (LineageApiException ex) when (ex.Code == ErrorCode.InvalidParameterValue)
            {
                return false;
            }
        }));
        Assert.Equal(1, paramResults.Count(ok => ok));
        Assert.Equal((await ca.GetRunAsync(runId)).Params["lr"], (await cb.GetRunAsync(runId)).Params["lr"]);

        // 4. One idempotency key sent to both servers at once: applied exactly once.
        var body = """{"metrics":[{"key":"once","value":1,"step":0,"timestamp":1}]}""";
        using var http = new HttpClient();
        var answers = await Task.WhenAll(new[] { a.Address, b.Address, a.Address, b.Address }.Select(async address =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(address, $"api/v1/runs/{runId}/batch"))
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", "shared-key-1");
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }));
        Assert.All(answers, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Single(await ca.GetFullMetricHistoryAsync(runId, "once"));

        // 5. Artifact versions of one name registered through both servers at once: 1..N, no gap, no duplicate.
        var file = dir.File("shared.txt");
        await File.WriteAllTextAsync(file, "same content");
        var versions = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
            (await clients[i % 2].RegisterArtifactAsync("shared-features", file, "feature_set")).Version));
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), versions.Order());
    }
}
