using System.Net;
using System.Text.Json;
using Lineage.Tests.Support;
using Lineage.Tests.Ui;

namespace Lineage.Tests.Api;

/// <summary>GET /api/v1/experiments/{id}/fields and …/fields/values: what the runs filter box completes.</summary>
public sealed class ExperimentFieldsTests
{
    [Fact]
    public async Task fields_list_the_keys_of_the_experiments_active_runs_and_values_the_commonest_first_never_a_sensitive_one()
    {
        await using var server = await TestServer.StartAsync();
        var api = new ApiWriter(server.Http);
        var experiment = await api.ExperimentAsync("fields");
        var other = await api.ExperimentAsync("elsewhere");
        foreach (var (opt, i) in new[] { "adam", "adam", "sgd", "adamw" }.Select((o, i) => (o, i)))
        {
            var run = await api.RunAsync(experiment, $"r{i}", tags: new() { ["team"] = i % 2 == 0 ? "vision" : "nlp" });
            await api.BatchAsync(run, new
            {
                @params = new[] { new { key = "optimizer", value = opt }, new { key = "db_password", value = "hunter2" }, new { key = "learning rate", value = "0.1" } },
                metrics = new[] { new { key = "val_loss", value = 0.5, step = 0 } },
            });
        }
        var deleted = await api.RunAsync(experiment, "gone");
        await api.BatchAsync(deleted, new { @params = new[] { new { key = "only_in_deleted", value = "x" } } });
        using (var del = await server.Http.DeleteAsync($"/api/v1/runs/{deleted}")) del.EnsureSuccessStatusCode();
        var elsewhere = await api.RunAsync(other, "x");
        await api.BatchAsync(elsewhere, new { @params = new[] { new { key = "other_param", value = "1" } }, metrics = new[] { new { key = "other_metric", value = 1.0, step = 0 } } });

        var fields = JsonDocument.Parse(await server.Http.GetStringAsync($"/api/v1/experiments/{experiment}/fields")).RootElement;
        Assert.Equal(["db_password", "learning rate", "optimizer"], fields.GetProperty("params").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["val_loss"], fields.GetProperty("metrics").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["team"], fields.GetProperty("tags").EnumerateArray().Select(e => e.GetString()));

        async Task<string[]> Values(string query) =>
            JsonDocument.Parse(await server.Http.GetStringAsync($"/api/v1/experiments/{experiment}/fields/values?{query}")).RootElement
                .GetProperty("values").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(["adam", "adamw", "sgd"], await Values("kind=param&key=optimizer"));   // adam twice: first
        Assert.Equal(["adam", "adamw"], await Values("kind=param&key=optimizer&prefix=ad"));
        Assert.Equal(["adam"], await Values("kind=param&key=optimizer&limit=1"));
        Assert.Equal(["nlp", "vision"], await Values("kind=tag&key=team"));
        Assert.Empty(await Values("kind=param&key=db_password"));
        Assert.Empty(await Values("kind=param&key=missing"));

        foreach (var (query, field) in new[] { ("key=optimizer", "kind"), ("kind=metric&key=x", "kind"), ("kind=param", "key"), ("kind=param&key=optimizer&limit=0", "limit") })
        {
            using var bad = await server.Http.GetAsync($"/api/v1/experiments/{experiment}/fields/values?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal(field, JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
        }
        using var missing = await server.Http.GetAsync("/api/v1/experiments/987654/fields");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
