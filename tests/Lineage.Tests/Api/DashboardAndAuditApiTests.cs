using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Server.Hosting;
using Lineage.Tests.Support;
using Lineage.Tests.Ui;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Tests.Api;

/// <summary>The aggregates behind the web UI's dashboards and the audit log over HTTP, on SQLite and PostgreSQL.</summary>
public abstract class DashboardAndAuditApiTests : IAsyncLifetime
{
    protected TestServer Server = null!;
    private ApiWriter _api = null!;

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync(Postgres);
        _api = new ApiWriter(Server.Http);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Get(string url)
    {
        using var response = await Server.Http.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private async Task<JsonNode> Ok(string url)
    {
        var (status, body) = await Get(url);
        Assert.True(status == HttpStatusCode.OK, $"GET {url}: {(int)status} {body?.ToJsonString()}");
        return body!;
    }

    private async Task Invalid(string url, string field)
    {
        var (status, body) = await Get(url);
        Assert.True(status == HttpStatusCode.BadRequest, $"GET {url}: expected 400, got {(int)status} {body?.ToJsonString()}");
        Assert.Equal("INVALID_PARAMETER_VALUE", (string?)body!["error_code"]);
        Assert.Equal(field, (string?)body["field"]);
    }

    [Fact]
    public async Task model_metrics_gives_each_versions_run_metrics_oldest_first_and_limits_to_the_newest()
    {
        var experiment = await _api.ExperimentAsync("m");
        await _api.PostAsync("/api/v1/models", new { name = "churn" });
        foreach (var (acc, i) in new[] { 0.7, 0.8, double.NaN }.Select((a, i) => (a, i)))
        {
            var run = await _api.RunAsync(experiment, $"train-{i}");
            await _api.BatchAsync(run, new { metrics = new object[] { new { key = "acc", value = double.IsNaN(acc) ? (object)"NaN" : acc, step = 0 }, new { key = "loss", value = 1.0 - i * 0.1, step = 0 } } });
            await _api.UploadAsync("churn-weights", "model", Encoding.UTF8.GetBytes($"w{i}"), runId: run);
            await _api.PostAsync("/api/v1/models/churn/versions", new { artifact = new { name = "churn-weights", version = (i + 1).ToString() } });
        }
        // A version whose artifact has no producing run has no metrics.
        await _api.UploadAsync("churn-weights", "model", Encoding.UTF8.GetBytes("w-external"));
        await _api.PostAsync("/api/v1/models/churn/versions", new { artifact = new { name = "churn-weights", version = "4" } });

        var all = await Ok("/api/v1/dashboards/model-metrics?model=churn");
        var versions = all["versions"]!.AsArray();
        Assert.Equal([1L, 2L, 3L, 4L], versions.Select(v => (long)v!["version"]!));
        Assert.Equal(0.7, (double)versions[0]!["metrics"]!["acc"]!);
        Assert.Equal(0.9, (double)versions[1]!["metrics"]!["loss"]!, 6);
        Assert.Null(versions[2]!["metrics"]!["acc"]); // NaN has no place on a chart
        Assert.True(versions[2]!["metrics"]!.AsObject().ContainsKey("acc"));
        Assert.Empty(versions[3]!["metrics"]!.AsObject());
        Assert.NotNull(versions[0]!["runId"]);

        var newest = await Ok("/api/v1/dashboards/model-metrics?model=churn&limit=2");
        Assert.Equal([3L, 4L], newest["versions"]!.AsArray().Select(v => (long)v!["version"]!));

        var (status, body) = await Get("/api/v1/dashboards/model-metrics?model=nope");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("'nope'", (string)body!["message"]!);
        await Invalid("/api/v1/dashboards/model-metrics", "model");
        await Invalid("/api/v1/dashboards/model-metrics?model=churn&limit=0", "limit");
    }

    [Fact]
    public async Task usage_counts_the_inputs_of_each_dataset_per_bucket_and_refuses_unbounded_ranges()
    {
        var experiment = await _api.ExperimentAsync("u");
        await _api.UploadAsync("sales", "dataset", Encoding.UTF8.GetBytes("a\n1\n"));
        await _api.UploadAsync("stores", "dataset", Encoding.UTF8.GetBytes("b\n2\n"));
        await _api.UploadAsync("weights", "model", Encoding.UTF8.GetBytes("w"));
        for (var i = 0; i < 3; i++)
        {
            var run = await _api.RunAsync(experiment, $"r{i}");
            await _api.PostAsync($"/api/v1/runs/{run}/inputs", new { artifact = new { name = "sales", version = "1" }, role = "training_data" });
            if (i == 0)
            {
                await _api.PostAsync($"/api/v1/runs/{run}/inputs", new { artifact = new { name = "stores", version = "1" }, role = "lookup" });
                await _api.PostAsync($"/api/v1/runs/{run}/inputs", new { artifact = new { name = "weights", version = "1" }, role = "init" });
            }
        }

        var usage = await Ok("/api/v1/dashboards/usage?type=dataset&bucket=week");
        Assert.Equal(7 * 86_400_000L, (long)usage["bucketMs"]!);
        var counts = usage["counts"]!.AsArray();
        Assert.Equal(3, counts.Where(c => (string)c!["name"]! == "sales").Sum(c => (long)c!["count"]!));
        Assert.Equal(1, counts.Where(c => (string)c!["name"]! == "stores").Sum(c => (long)c!["count"]!));
        Assert.DoesNotContain(counts, c => (string)c!["name"]! == "weights"); // a model, not a dataset
        Assert.All(counts, c => Assert.Equal(0, (long)c!["bucket"]! % (7 * 86_400_000L)));

        // A range that ends before the inputs were recorded counts nothing.
        var before = await Ok("/api/v1/dashboards/usage?type=dataset&bucket=day&from=0&to=86400000");
        Assert.Empty(before["counts"]!.AsArray());
        Assert.Empty((await Ok("/api/v1/dashboards/usage?type=feature_set"))["counts"]!.AsArray());

        await Invalid("/api/v1/dashboards/usage?bucket=minute", "bucket");
        await Invalid("/api/v1/dashboards/usage?bucket=hour&from=0", "bucket"); // ~500,000 hourly buckets since 1970
        await Invalid("/api/v1/dashboards/usage?from=2000&to=1000", "to");
        await Invalid("/api/v1/dashboards/usage?from=yesterday", "from");
        var (status, _) = await Get("/api/v1/dashboards/usage?project=nope");
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task audit_lists_writes_newest_first_filtered_by_actor_target_and_time_and_pages_without_overlap()
    {
        var started = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var user in new[] { "alice", "bob", "alice", "alice" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/experiments")
            {
                Content = new StringContent($$"""{"name":"e-{{Guid.NewGuid():N}}"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Lineage-User", user);
            (await Server.Http.SendAsync(request)).EnsureSuccessStatusCode();
        }
        await Server.Server.App.Services.GetRequiredService<AuditWriter>().FlushAsync();

        var all = (await Ok("/api/v1/audit"))["entries"]!.AsArray();
        Assert.Equal(4, all.Count);
        var seqs = all.Select(e => (long)e!["seq"]!).ToList();
        Assert.Equal(seqs.OrderDescending(), seqs);
        Assert.All(all, e => Assert.Equal("POST /api/v1/experiments/", (string)e!["action"]!));

        var alice = (await Ok("/api/v1/audit?actor=unverified:alice"))["entries"]!.AsArray();
        Assert.Equal(3, alice.Count);
        Assert.Empty((await Ok("/api/v1/audit?target=/api/v1/runs"))["entries"]!.AsArray());
        Assert.Equal(4, (await Ok("/api/v1/audit?target=experiments"))["entries"]!.AsArray().Count);
        Assert.Equal(4, (await Ok($"/api/v1/audit?from={started - 1000}"))["entries"]!.AsArray().Count);
        Assert.Empty((await Ok($"/api/v1/audit?to={started - 1000}"))["entries"]!.AsArray());

        // Pages of one, newest first, each continuing below the last.
        var paged = new List<long>();
        string? token = null;
        do
        {
            var page = await Ok("/api/v1/audit?limit=1" + (token is null ? "" : "&pageToken=" + token));
            paged.AddRange(page["entries"]!.AsArray().Select(e => (long)e!["seq"]!));
            token = (string?)page["nextPageToken"];
        } while (token is not null);
        Assert.Equal(seqs, paged);

        var verify = await Ok("/api/v1/audit/verify");
        Assert.True((bool)verify["intact"]!);
        Assert.Equal(4, (long)verify["entries"]!);
        Assert.Equal(seqs[0], (long)verify["headSeq"]!);
        Assert.Equal(0, (long)verify["pending"]!); // every answered write was chained by the flush

        await Invalid("/api/v1/audit?pageToken=abc", "pageToken");
        await Invalid("/api/v1/audit?from=5&to=5", "to");
        await Invalid("/api/v1/audit?limit=100000", "limit");
    }
}

public sealed class DashboardAndAuditApiSqliteTests : DashboardAndAuditApiTests
{
    protected override bool Postgres => false;
}

public sealed class DashboardAndAuditApiPostgresTests : DashboardAndAuditApiTests
{
    protected override bool Postgres => true;
}
