using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;

namespace Lineage.Cli.Import;

/// <summary>One point of an MLflow metric history; <see cref="RunId"/> is set in bulk answers.</summary>
public readonly record struct HistoryPoint(string? RunId, double Value, long Step, long Timestamp)
{
    /// <summary>
    /// Appends the points of an MLflow history answer to <paramref name="into"/> and returns its <c>next_page_token</c>.
    /// Protobuf JSON sends int64 as numbers or strings and doubles as numbers or "NaN"/"Infinity"/"-Infinity": all are
    /// read; an absent field is protobuf's default, 0. Unknown fields are skipped.
    /// </summary>
    public static string? ReadAnswer(ReadOnlySpan<byte> json, List<HistoryPoint> into)
    {
        if (json.IsEmpty) return null; // an empty answer (as SendAsync reads it): no points
        var reader = new Utf8JsonReader(json);
        string? token = null;
        reader.Read();
        Expect(ref reader, JsonTokenType.StartObject);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("metrics"u8))
            {
                reader.Read();
                Expect(ref reader, JsonTokenType.StartArray);
                string? lastRun = null;
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    into.Add(ReadPoint(ref reader, ref lastRun));
                Expect(ref reader, JsonTokenType.EndArray);
            }
            else if (reader.ValueTextEquals("next_page_token"u8))
            {
                reader.Read();
                token = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        Expect(ref reader, JsonTokenType.EndObject);
        return token;
    }

    private static HistoryPoint ReadPoint(ref Utf8JsonReader reader, ref string? lastRun)
    {
        double value = 0;
        long step = 0, timestamp = 0;
        string? run = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("value"u8)) { reader.Read(); value = ReadDouble(ref reader); }
            else if (reader.ValueTextEquals("step"u8)) { reader.Read(); step = ReadLong(ref reader); }
            else if (reader.ValueTextEquals("timestamp"u8)) { reader.Read(); timestamp = ReadLong(ref reader); }
            else if (reader.ValueTextEquals("run_id"u8))
            {
                reader.Read();
                // Points come run by run: one string per run, not per point.
                run = lastRun is not null && reader.ValueTextEquals(lastRun) ? lastRun : lastRun = reader.GetString();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        Expect(ref reader, JsonTokenType.EndObject);
        return new HistoryPoint(run, value, step, timestamp);
    }

    private static double ReadDouble(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number => reader.GetDouble(),
        JsonTokenType.String => reader.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var s => double.Parse(s!, NumberStyles.Float, CultureInfo.InvariantCulture),
        },
        _ => throw new FormatException($"a metric value is {reader.TokenType}, not a number"),
    };

    private static long ReadLong(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number) return reader.GetInt64();
        if (reader.TokenType == JsonTokenType.String && Utf8Parser.TryParse(reader.ValueSpan, out long value, out var used) && used == reader.ValueSpan.Length
            && !reader.ValueIsEscaped)
            return value;
        if (reader.TokenType == JsonTokenType.Null) return 0;
        throw new FormatException($"an int64 field is {reader.TokenType} '{(reader.TokenType == JsonTokenType.String ? reader.GetString() : "")}', not an integer");
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (reader.TokenType != type) throw new FormatException($"expected {type}, found {reader.TokenType}");
    }
}
