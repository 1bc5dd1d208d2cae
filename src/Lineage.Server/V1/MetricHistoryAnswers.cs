using System.Text.Json;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.V1;

/// <summary>
/// Metric histories written straight from the decoded points to the response with <see cref="Utf8JsonWriter"/> (issue 15):
/// a page of 100,000 points or 1,000 runs' curves made as many wire objects before. The shapes are those of
/// <c>MetricHistoryResponse</c> and <c>MetricHistoriesResponse</c> (camelCase, NaN/±Infinity as strings), plus the
/// compact <see cref="Columns"/> form of the many-run answer.
/// </summary>
internal static class MetricHistoryAnswers
{
    /// <summary>Many-run answers as <c>points: [{value, step, timestamp}, …]</c> per run (the default).</summary>
    public const string Points = "points";

    /// <summary>
    /// Many-run answers as three arrays per run, <c>steps</c>, <c>values</c> and <c>timestamps</c>, index for index: about
    /// half the bytes of <see cref="Points"/> and no object per point for the browser to build.
    /// </summary>
    public const string Columns = "columns";


    private static readonly JsonEncodedText KeyName = JsonEncodedText.Encode("key");
    private static readonly JsonEncodedText PointsName = JsonEncodedText.Encode("points");
    private static readonly JsonEncodedText ValueName = JsonEncodedText.Encode("value");
    private static readonly JsonEncodedText StepName = JsonEncodedText.Encode("step");
    private static readonly JsonEncodedText TimestampName = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText NextPageTokenName = JsonEncodedText.Encode("nextPageToken");
    private static readonly JsonEncodedText TotalPointsName = JsonEncodedText.Encode("totalPoints");
    private static readonly JsonEncodedText SeriesName = JsonEncodedText.Encode("series");
    private static readonly JsonEncodedText RunIdName = JsonEncodedText.Encode("runId");
    private static readonly JsonEncodedText StepsName = JsonEncodedText.Encode("steps");
    private static readonly JsonEncodedText ValuesName = JsonEncodedText.Encode("values");
    private static readonly JsonEncodedText TimestampsName = JsonEncodedText.Encode("timestamps");

    /// <summary>One run's history: <c>{"key", "points": […], "nextPageToken"?, "totalPoints"?}</c>.</summary>
    public static IResult History(string key, IReadOnlyList<SeriesPoint> points, string? nextPageToken, long? totalPoints) =>
        new JsonAnswer(async (json, ct) =>
        {
            json.WriteStartObject();
            json.WriteString(KeyName, key);
            json.WritePropertyName(PointsName);
            await WritePointsAsync(json, points, ct);
            if (nextPageToken is not null) json.WriteString(NextPageTokenName, nextPageToken);
            if (totalPoints is { } total) json.WriteNumber(TotalPointsName, total);
            json.WriteEndObject();
        });

    /// <summary>
    /// Many runs' histories: <c>{"key", "series": [{"runId", …, "totalPoints"}, …]}</c>, as points or as columns (with
    /// or without the <c>timestamps</c> column).
    /// </summary>
    public static IResult Histories(string key, IReadOnlyList<RunSeries> series, bool columns, bool timestamps = true) =>
        new JsonAnswer(async (json, ct) =>
        {
            json.WriteStartObject();
            json.WriteString(KeyName, key);
            json.WriteStartArray(SeriesName);
            foreach (var s in series)
            {
                json.WriteStartObject();
                json.WriteString(RunIdName, s.RunId);
                if (columns)
                {
                    json.WriteStartArray(StepsName);
                    foreach (var p in s.Points) json.WriteNumberValue(p.Step);
                    json.WriteEndArray();
                    json.WriteStartArray(ValuesName);
                    foreach (var p in s.Points) JsonAnswer.WriteDoubleValue(json, p.Value);
                    json.WriteEndArray();
                    if (timestamps)
                    {
                        json.WriteStartArray(TimestampsName);
                        foreach (var p in s.Points) json.WriteNumberValue(p.Timestamp);
                        json.WriteEndArray();
                    }
                    if (json.BytesPending > JsonAnswer.FlushAt) await json.FlushAsync(ct);
                }
                else
                {
                    json.WritePropertyName(PointsName);
                    await WritePointsAsync(json, s.Points, ct);
                }
                json.WriteNumber(TotalPointsName, s.TotalPoints);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });

    private static async Task WritePointsAsync(Utf8JsonWriter json, IReadOnlyList<SeriesPoint> points, CancellationToken ct)
    {
        json.WriteStartArray();
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            json.WriteStartObject();
            json.WritePropertyName(ValueName);
            JsonAnswer.WriteDoubleValue(json, p.Value);
            json.WriteNumber(StepName, p.Step);
            json.WriteNumber(TimestampName, p.Timestamp);
            json.WriteEndObject();
            if (json.BytesPending > JsonAnswer.FlushAt) await json.FlushAsync(ct);
        }
        json.WriteEndArray();
    }
}
