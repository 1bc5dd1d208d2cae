using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;
using Npgsql;

namespace Lineage.Tests.Events;

/// <summary>
/// Issue 14, part 3: two server processes on one PostgreSQL; the one delivering a webhook's queue is killed with SIGKILL while a
/// delivery is in flight. The other takes the queue over when the lease expires: every committed event arrives, in event order,
/// and at most the one delivery in flight at the kill arrives twice (receivers dedupe on <c>webhook-id</c>).
/// </summary>
public sealed class WebhookCrashTests
{
    private const int Events = 30;

    [Fact]
    public async Task killing_the_delivering_server_mid_delivery_loses_nothing_and_duplicates_at_most_the_one_in_flight()
    {
        using var dir = new TempDir();
        var db = PostgresTarget.CreateDatabase();
        var artifacts = dir.File("artifacts");
        // A slow receiver: a delivery is in flight most of the time.
        await using var receiver = new WebhookReceiver { Answer = async _ => { await Task.Delay(150); return 200; } };
        // A timeout far above the receiver's 150 ms: a delivery that times out under a loaded machine is retried, and that
        // retry (at-least-once, as designed) would count here as a second duplicate.
        string[] args = ["--webhook-allow-private", "--webhook-timeout-seconds", "10"];
        await using var a = await ServerProcess.StartAsync(db, artifacts, args);
        await using var b = await ServerProcess.StartAsync(db, artifacts, args);
        using var http = new HttpClient { BaseAddress = a.Address };

        async Task<JsonNode> Post(string path, string json)
        {
            using var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
            return JsonNode.Parse(text)!;
        }

        var hook = (long)(await Post("/api/v1/webhooks/", $$"""{"name":"crash","url":"{{receiver.Url}}","eventTypes":["experiment.created"]}"""))["id"]!;
        for (var i = 0; i < Events; i++) await Post("/api/v1/experiments/", $$"""{"name":"e{{i}}"}""");

        // Some deliveries done, one in flight: the lease holder is the server sending this webhook's queue.
        await WebhookReceiver.Until(() => receiver.Requests.Count >= 5, seconds: 60, what: "five deliveries");
        await using (var connection = new NpgsqlConnection(db))
        {
            await connection.OpenAsync();
            await using var query = new NpgsqlCommand("SELECT leased_by FROM webhooks WHERE id = @id", connection);
            query.Parameters.AddWithValue("id", hook);
            var holder = (string?)await query.ExecuteScalarAsync() ?? throw new Xunit.Sdk.XunitException("no server holds the webhook's lease while it delivers");
            var victim = holder.StartsWith($"{a.Pid}-", StringComparison.Ordinal) ? a
                : holder.StartsWith($"{b.Pid}-", StringComparison.Ordinal) ? b
                : throw new Xunit.Sdk.XunitException($"the lease holder '{holder}' is neither server ({a.Pid}, {b.Pid})");
            victim.KillHard();
        }
        var atKill = receiver.Requests.Count;
        Assert.True(atKill < Events, $"all {Events} deliveries were sent before the kill; the test proves nothing");

        // The survivor takes over when the lease (30 s) expires.
        await WebhookReceiver.Until(() => receiver.Accepted.Select(r => r.Headers["webhook-id"]).Distinct().Count() == Events, seconds: 120,
            what: $"all {Events} events delivered after the kill");
        await Task.Delay(1000); // anything still to come would be a duplicate
        var ids = receiver.Accepted.Select(r => long.Parse(r.Headers["webhook-id"]["evt_".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var firsts = ids.Distinct().ToList();
        Assert.Equal(firsts.Order().ToList(), firsts); // event order, first arrivals
        Assert.True(ids.Count - firsts.Count <= 1, $"{ids.Count - firsts.Count} duplicates: more than the one delivery in flight was sent again ({string.Join(",", ids)})");
    }
}
