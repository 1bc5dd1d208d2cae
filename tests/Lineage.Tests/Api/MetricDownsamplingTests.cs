using System.Net;
using System.Text;
using System.Text.Json;
using Lineage.Core.Tracking;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>GET …/metrics/history?maxPoints=, POST /api/v1/runs/metrics/history (many runs) and the min/max buckets behind them.</summary>
public sealed class MetricDownsamplingTests
{
    private static SeriesPoint P(long step, double value) => new(value, step, 1000 + step);

    [Fact]
    public void a_series_that_fits_comes_back_unchanged_in_logged_order()
    {
        var points = new[] { P(5, 1), P(1, 2), P(3, 3) };
        Assert.Equal(points, MetricDownsampling.Reduce(points, 10));
    }

    [Fact]
    public void each_bucket_keeps_its_lowest_and_highest_point_in_step_order()
    {
        var points = Enumerable.Range(0, 10_000).Select(i => P(i, Math.Sin(i / 100.0))).ToList();
        points[4321] = P(4321, 50);    // a spike
        points[8765] = P(8765, -50);   // a dip
        var result = MetricDownsampling.Reduce(points, 200);
        Assert.InRange(result.Count, 100, 200);
        Assert.Contains(P(4321, 50), result);
        Assert.Contains(P(8765, -50), result);
        Assert.Equal(result.OrderBy(p => p.Step).Select(p => p.Step), result.Select(p => p.Step));
        Assert.Equal(points.Max(p => p.Value), result.Max(p => p.Value));
        Assert.Equal(points.Min(p => p.Value), result.Min(p => p.Value));
    }

    [Fact]
    public void nan_is_kept_only_where_a_bucket_has_nothing_else()
    {
        var points = Enumerable.Range(0, 100).Select(i => P(i, i < 50 ? double.NaN : i)).ToList();
        points[10] = P(10, 7);
        var result = MetricDownsampling.Reduce(points, 8);   // two buckets: steps 0-49 and 50-99
        Assert.Equal([7.0, 50.0, 99.0], result.Select(p => p.Value));
        var allNaN = Enumerable.Range(0, 100).Select(i => P(i, double.NaN)).ToList();
        Assert.Equal(2, MetricDownsampling.Reduce(allNaN, 8).Count);
    }

    [Fact]
    public void each_bucket_keeps_its_first_last_lowest_and_highest_point()
    {
        // Ten buckets of 100 steps: in each, the value rises from the bucket's start, peaks at +60, dips at +30 and ends
        // at +99 — four different points, which must all be kept and nothing else.
        var points = Enumerable.Range(0, 1_000).Select(i => P(i, (i % 100) switch { 30 => -1, 60 => 10, var x => x / 100.0 })).ToList();
        var result = MetricDownsampling.Reduce(points, 40);
        var expected = Enumerable.Range(0, 10).SelectMany(b => new[] { b * 100, b * 100 + 30, b * 100 + 60, b * 100 + 99 }).Select(i => points[i]);
        Assert.Equal(expected, result);
    }

    [Fact]
    public void a_bucket_whose_first_or_last_point_is_also_its_extreme_keeps_it_once()
    {
        var rising = Enumerable.Range(0, 1_000).Select(i => P(i, i)).ToList();
        var result = MetricDownsampling.Reduce(rising, 40);   // each bucket: first = lowest, last = highest
        Assert.Equal(20, result.Count);
        Assert.Equal(rising[0], result[0]);
        Assert.Equal(rising[^1], result[^1]);
        // Fewer than 4 points asked: one bucket, its lowest and highest value.
        Assert.Equal([rising[0], rising[^1]], MetricDownsampling.Reduce(rising, 3));
    }

    [Fact]
    public void the_first_and_last_point_of_a_bucket_follow_the_step_not_the_logging_order()
    {
        // Logged backwards: the bucket's first point is its lowest step, whatever was logged first.
        var points = Enumerable.Range(0, 100).Select(i => P(99 - i, (99 - i) % 7)).ToList();
        var result = MetricDownsampling.Reduce(points, 4);
        Assert.Equal(0, result[0].Step);
        Assert.Equal(99, result[^1].Step);
        Assert.Equal(result.OrderBy(p => p.Step).Select(p => p.Step), result.Select(p => p.Step));
    }

    [Fact]
    public async Task history_with_max_points_returns_the_envelope_and_the_total()
    {
        await using var server = await TestServer.StartAsync();
        var run = await server.Client.CreateRunAsync(new Lineage.Core.Contracts.V1.CreateRunRequest("0", "long"));
        for (var b = 0; b < 3; b++)
        {
            var metrics = string.Join(",", Enumerable.Range(b * 10_000, 10_000).Select(s => $"{{\"key\":\"loss\",\"value\":{(s == 12_345 ? 9.5 : s % 7)},\"step\":{s}}}"));
            using var posted = await server.Http.PostAsync($"/api/v1/runs/{run.RunId}/batch", new StringContent($"{{\"metrics\":[{metrics}]}}", Encoding.UTF8, "application/json"));
            posted.EnsureSuccessStatusCode();
        }
        var body = JsonDocument.Parse(await server.Http.GetStringAsync($"/api/v1/runs/{run.RunId}/metrics/history?key=loss&maxPoints=500")).RootElement;
        Assert.Equal(30_000, body.GetProperty("totalPoints").GetInt64());
        var points = body.GetProperty("points").EnumerateArray().ToList();
        Assert.InRange(points.Count, 2, 500);
        Assert.Contains(points, p => p.GetProperty("step").GetInt64() == 12_345 && p.GetProperty("value").GetDouble() == 9.5);
        Assert.False(body.TryGetProperty("nextPageToken", out _));

        var small = JsonDocument.Parse(await server.Http.GetStringAsync($"/api/v1/runs/{run.RunId}/metrics/history?key=nothing&maxPoints=500")).RootElement;
        Assert.Equal(0, small.GetProperty("totalPoints").GetInt64());

        using var bad = await server.Http.GetAsync($"/api/v1/runs/{run.RunId}/metrics/history?key=loss&maxPoints=1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("maxPoints", await bad.Content.ReadAsStringAsync());
        using var missing = await server.Http.GetAsync("/api/v1/runs/0123456789abcdef0123456789abcdef/metrics/history?key=loss&maxPoints=500");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostHistories(TestServer server, string json)
    {
        using var res = await server.Http.PostAsync("/api/v1/runs/metrics/history", new StringContent(json, Encoding.UTF8, "application/json"));
        return (res.StatusCode, JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task many_runs_histories_come_back_downsampled_in_the_order_asked_from_one_request()
    {
        await using var server = await TestServer.StartAsync();
        var runs = new List<string>();
        for (var r = 0; r < 3; r++)
        {
            var run = await server.Client.CreateRunAsync(new Lineage.Core.Contracts.V1.CreateRunRequest("0", $"r{r}"));
            runs.Add(run.RunId);
            if (r == 2) continue;   // the third run has no loss
            var metrics = string.Join(",", Enumerable.Range(0, 3_000).Select(s => $"{{\"key\":\"loss\",\"value\":{(s == 1_234 ? 100 + r : r + 1.0 / (s + 1))},\"step\":{s}}}"));
            using var posted = await server.Http.PostAsync($"/api/v1/runs/{run.RunId}/batch", new StringContent($"{{\"metrics\":[{metrics}]}}", Encoding.UTF8, "application/json"));
            posted.EnsureSuccessStatusCode();
        }

        var asked = new[] { runs[1], runs[2], runs[0], runs[1] };   // a repeated id comes back once
        var (status, body) = await PostHistories(server, $$"""{"key":"loss","runIds":{{JsonSerializer.Serialize(asked)}},"maxPoints":100}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("loss", body.GetProperty("key").GetString());
        var series = body.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal([runs[1], runs[2], runs[0]], series.Select(s => s.GetProperty("runId").GetString()));
        foreach (var (s, r) in new[] { (series[0], 1), (series[2], 0) })
        {
            Assert.Equal(3_000, s.GetProperty("totalPoints").GetInt64());
            var points = s.GetProperty("points").EnumerateArray().ToList();
            Assert.InRange(points.Count, 2, 100);
            // The spike survives the buckets; points are in step order.
            Assert.Contains(points, p => p.GetProperty("step").GetInt64() == 1_234 && p.GetProperty("value").GetDouble() == 100 + r);
            Assert.Equal(points.Select(p => p.GetProperty("step").GetInt64()).Order(), points.Select(p => p.GetProperty("step").GetInt64()));
        }
        Assert.Equal(0, series[1].GetProperty("totalPoints").GetInt64());
        Assert.Empty(series[1].GetProperty("points").EnumerateArray());

        // The compact form: three arrays index for index, the same points as the default form.
        var (columnsStatus, columns) = await PostHistories(server, $$"""{"key":"loss","runIds":["{{runs[0]}}","{{runs[2]}}"],"maxPoints":100,"format":"columns"}""");
        Assert.Equal(HttpStatusCode.OK, columnsStatus);
        var (_, pointsForm) = await PostHistories(server, $$"""{"key":"loss","runIds":["{{runs[0]}}","{{runs[2]}}"],"maxPoints":100,"format":"points"}""");
        var compact = columns.GetProperty("series")[0];
        var expanded = pointsForm.GetProperty("series")[0].GetProperty("points").EnumerateArray().ToList();
        Assert.False(compact.TryGetProperty("points", out _));
        Assert.Equal(3_000, compact.GetProperty("totalPoints").GetInt64());
        Assert.Equal(expanded.Select(p => p.GetProperty("step").GetInt64()), compact.GetProperty("steps").EnumerateArray().Select(v => v.GetInt64()));
        Assert.Equal(expanded.Select(p => p.GetProperty("value").GetDouble()), compact.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(expanded.Select(p => p.GetProperty("timestamp").GetInt64()), compact.GetProperty("timestamps").EnumerateArray().Select(v => v.GetInt64()));
        Assert.Equal(0, columns.GetProperty("series")[1].GetProperty("steps").GetArrayLength());
        // Without timestamps (a chart over steps): the same steps and values, no timestamps column.
        var (_, stepsOnly) = await PostHistories(server, $$"""{"key":"loss","runIds":["{{runs[0]}}"],"maxPoints":100,"format":"columns","timestamps":false}""");
        var lean = stepsOnly.GetProperty("series")[0];
        Assert.False(lean.TryGetProperty("timestamps", out _));
        Assert.Equal(compact.GetProperty("steps").ToString(), lean.GetProperty("steps").ToString());
        Assert.Equal(compact.GetProperty("values").ToString(), lean.GetProperty("values").ToString());
        Assert.Equal(3_000, lean.GetProperty("totalPoints").GetInt64());

        // Without maxPoints: up to 1,000 a run (3,000 points come back as at most 1,000).
        var (_, whole) = await PostHistories(server, $$"""{"key":"loss","runIds":["{{runs[0]}}"]}""");
        Assert.InRange(whole.GetProperty("series")[0].GetProperty("points").GetArrayLength(), 500, 1_000);

        // Bad requests name their field; an unknown run is 404.
        var tooMany = JsonSerializer.Serialize(Enumerable.Range(0, 1_001).Select(i => i.ToString("x32")));
        var elevenRuns = JsonSerializer.Serialize(Enumerable.Range(0, 11).Select(i => i.ToString("x32")));
        foreach (var (json, code, field) in new[]
                 {
                     ($$"""{"runIds":["{{runs[0]}}"]}""", HttpStatusCode.BadRequest, "key"),
                     ("""{"key":"loss","runIds":[]}""", HttpStatusCode.BadRequest, "runIds"),
                     ("""{"key":"loss"}""", HttpStatusCode.BadRequest, "runIds"),
                     ($$"""{"key":"loss","runIds":{{tooMany}}}""", HttpStatusCode.BadRequest, "runIds"),
                     ($$"""{"key":"loss","runIds":["{{runs[0]}}","nope"]}""", HttpStatusCode.BadRequest, "runIds[1]"),
                     ($$"""{"key":"loss","runIds":["{{runs[0]}}"],"maxPoints":1}""", HttpStatusCode.BadRequest, "maxPoints"),
                     ($$"""{"key":"loss","runIds":{{elevenRuns}},"maxPoints":100000}""", HttpStatusCode.BadRequest, "maxPoints"),   // 1,100,000 points
                     ($$"""{"key":"loss","runIds":["{{runs[0]}}"],"maxPoints":0}""", HttpStatusCode.BadRequest, "maxPoints"),
                     ($$"""{"key":"loss","runIds":["{{runs[0]}}"],"maxPoints":-5}""", HttpStatusCode.BadRequest, "maxPoints"),
                     ($$"""{"key":"loss","runIds":["{{runs[0]}}"],"format":"csv"}""", HttpStatusCode.BadRequest, "format"),
                     ($$"""{"key":"loss","runIds":["{{runs[0]}}"],"timestamps":false}""", HttpStatusCode.BadRequest, "timestamps"),
                     ($$"""{"key":"loss","runIds":["{{runs[0]}}"],"format":"columns","timestamps":"no"}""", HttpStatusCode.BadRequest, "timestamps"),
                     ($$"""{"key":"loss","runIds":["{{runs[0]}}","0123456789abcdef0123456789abcdef"]}""", HttpStatusCode.NotFound, null),
                 })
        {
            var (s, b) = await PostHistories(server, json);
            Assert.True(s == code, $"{json[..Math.Min(json.Length, 200)]}: {(int)s} {b.ToString()[..Math.Min(b.ToString().Length, 300)]}");
            if (field is not null)
            {
                Assert.Equal(field, b.GetProperty("field").GetString());
                Assert.Equal("INVALID_PARAMETER_VALUE", b.GetProperty("error_code").GetString());
            }
            else Assert.Contains("0123456789abcdef0123456789abcdef", b.GetProperty("message").GetString());
        }
    }
}
