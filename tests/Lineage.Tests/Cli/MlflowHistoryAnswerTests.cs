using System.Text;
using Lineage.Cli.Import;

namespace Lineage.Tests.Cli;

/// <summary>
/// The importer reads MLflow history answers straight from their bytes (<see cref="HistoryPoint.ReadAnswer"/>). MLflow's
/// Python server sends int64 as numbers; protobuf JSON (MLflow 3, gateways) sends them as strings and leaves out fields
/// at their default. Both shapes must give the same points.
/// </summary>
public sealed class MlflowHistoryAnswerTests
{
    private static (List<HistoryPoint> Points, string? Token) Read(string json)
    {
        var points = new List<HistoryPoint>();
        var token = HistoryPoint.ReadAnswer(Encoding.UTF8.GetBytes(json), points);
        return (points, token);
    }

    [Fact]
    public void numbers_strings_special_values_and_omitted_defaults_are_read_alike()
    {
        var (points, token) = Read("""
            {"metrics": [
              {"key": "loss", "value": 0.5, "timestamp": 1700000000000, "step": 3, "run_id": "r1"},
              {"key": "loss", "value": "NaN", "timestamp": "1700000000001", "step": "4", "run_id": "r1"},
              {"key": "loss", "value": "-Infinity", "timestamp": 5, "run_id": "r2", "extra": {"nested": [1, 2]}},
              {"key": "loss", "timestamp": "6", "step": "-2", "run_id": "r2"}
            ], "next_page_token": "abc", "unknown": null}
            """);
        Assert.Equal("abc", token);
        Assert.Equal(4, points.Count);
        Assert.Equal(new HistoryPoint("r1", 0.5, 3, 1_700_000_000_000), points[0]);
        Assert.True(double.IsNaN(points[1].Value));
        Assert.Equal((4L, 1_700_000_000_001L), (points[1].Step, points[1].Timestamp));
        Assert.Equal(new HistoryPoint("r2", double.NegativeInfinity, 0, 5), points[2]);
        Assert.Equal(new HistoryPoint("r2", 0, -2, 6), points[3]);
        Assert.Same(points[0].RunId, points[1].RunId); // one string per run, not per point
    }

    [Fact]
    public void an_empty_answer_has_no_points_and_no_next_page()
    {
        Assert.Equal((0, null), (Read("{}").Points.Count, Read("{}").Token));
        Assert.Empty(Read("").Points);
        Assert.Empty(Read("""{"metrics": []}""").Points);
    }

    [Theory]
    [InlineData("""{"metrics": [{"value": "lots"}]}""")]
    [InlineData("""{"metrics": [{"value": 1, "step": "1.5"}]}""")]
    [InlineData("""{"metrics": [{"value": true}]}""")]
    [InlineData("""{"metrics": {"value": 1}}""")]
    [InlineData("""[1, 2]""")]
    [InlineData("""{"metrics": [1, {"value": 1}]}""")]
    [InlineData("""{"metrics": [{"value": 1""")]
    public void an_answer_that_is_not_a_history_is_refused(string json)
    {
        var ex = Record.Exception(() => Read(json));
        Assert.True(ex is FormatException or System.Text.Json.JsonException, $"{ex?.GetType().Name}: {ex?.Message}");
    }
}
