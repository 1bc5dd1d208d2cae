using System.Net;
using System.Text;
using System.Text.Json;
using Lineage.Core.Tracking;
using Lineage.Tests.Support;

namespace Lineage.Tests.Api;

/// <summary>GET …/metrics/history?maxPoints= and the min/max buckets behind it.</summary>
public sealed class MetricDownsamplingTests
{
    private static SeriesPoint P(long step, double value) => new(value, step, 1000 + step);

    [Fact]
    public void a_series_that_fits_comes_back_unchanged_in_logged_order()
    {
        var points = new[] { P(5, 1), P(1, 2), P(3, 3) };
        Assert.Equal(points, MetricDownsampling.MinMax(points, 10));
    }

    [Fact]
    public void each_bucket_keeps_its_lowest_and_highest_point_in_step_order()
    {
        var points = Enumerable.Range(0, 10_000).Select(i => P(i, Math.Sin(i / 100.0))).ToList();
        points[4321] = P(4321, 50);    // a spike
        points[8765] = P(8765, -50);   // a dip
        var result = MetricDownsampling.MinMax(points, 200);
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
        var result = MetricDownsampling.MinMax(points, 4);   // two buckets: steps 0-49 and 50-99
        Assert.Equal([7.0, 50.0, 99.0], result.Select(p => p.Value));
        var allNaN = Enumerable.Range(0, 100).Select(i => P(i, double.NaN)).ToList();
        Assert.Equal(2, MetricDownsampling.MinMax(allNaN, 4).Count);
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
}
