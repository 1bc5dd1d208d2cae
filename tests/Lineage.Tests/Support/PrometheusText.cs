using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Lineage.Tests.Support;

/// <summary>
/// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests that scrape <c>/metrics</c>:
/// every line must be a comment, <c># HELP</c>, <c># TYPE</c> or a sample; names, label names and escapes must be legal; a
/// family's TYPE comes before its samples and only once; histograms must have cumulative buckets ending in
/// <c>le="+Inf"</c> equal to <c>_count</c>. Anything else throws <see cref="FormatException"/> naming the line.
/// </summary>
public sealed partial class PrometheusText
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public IReadOnlyList<Sample> Samples { get; }

    /// <summary>Family name → counter, gauge, histogram, summary or untyped.</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    private PrometheusText(List<Sample> samples, Dictionary<string, string> types)
    {
        Samples = samples;
        Types = types;
    }

    public IEnumerable<Sample> Named(string name) => Samples.Where(s => s.Name == name);

    public static PrometheusText Parse(string text)
    {
        var samples = new List<Sample>();
        var types = new Dictionary<string, string>();
        var seenSamples = new HashSet<string>();
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            if (line.StartsWith('#'))
            {
                var parts = line.Split(' ', 4);
                if (parts.Length >= 3 && parts[1] == "TYPE")
                {
                    var name = parts[2];
                    var type = parts.Length == 4 ? parts[3] : throw Bad(lineNumber, line, "TYPE without a type");
                    if (!MetricName().IsMatch(name)) throw Bad(lineNumber, line, "bad metric name");
                    if (type is not ("counter" or "gauge" or "histogram" or "summary" or "untyped")) throw Bad(lineNumber, line, "unknown type");
                    if (!types.TryAdd(name, type)) throw Bad(lineNumber, line, "second TYPE for one family");
                    if (seenSamples.Contains(name)) throw Bad(lineNumber, line, "TYPE after the family's samples");
                }
                else if (parts.Length >= 3 && parts[1] == "HELP" && !MetricName().IsMatch(parts[2]))
                {
                    throw Bad(lineNumber, line, "bad metric name in HELP");
                }
                continue;
            }
            Sample sample;
            try
            {
                sample = ParseSample(line, lineNumber);
            }
            catch (IndexOutOfRangeException)
            {
                throw Bad(lineNumber, line, "the line ends inside a label set");
            }
            seenSamples.Add(FamilyOf(sample.Name, types));
            samples.Add(sample);
        }
        if (!text.EndsWith('\n')) throw new FormatException("the exposition must end with a line feed");
        var parsed = new PrometheusText(samples, types);
        parsed.CheckHistograms();
        return parsed;
    }

    private static string FamilyOf(string name, Dictionary<string, string> types)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count", "_total" })
            if (name.EndsWith(suffix, StringComparison.Ordinal) && types.ContainsKey(name[..^suffix.Length])) return name[..^suffix.Length];
        return name;
    }

    private static Sample ParseSample(string line, int lineNumber)
    {
        var i = 0;
        while (i < line.Length && line[i] is not ('{' or ' ')) i++;
        var name = line[..i];
        if (!MetricName().IsMatch(name)) throw Bad(lineNumber, line, "bad metric name");
        var labels = new Dictionary<string, string>();
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (line[i] == '}')
                {
                    i++;
                    break;
                }
                var eq = line.IndexOf('=', i);
                if (eq < 0) throw Bad(lineNumber, line, "label without =");
                var label = line[i..eq];
                if (!LabelName().IsMatch(label)) throw Bad(lineNumber, line, $"bad label name '{label}'");
                if (line[eq + 1] != '"') throw Bad(lineNumber, line, "label value not quoted");
                var value = new StringBuilder();
                var j = eq + 2;
                for (; line[j] != '"'; j++)
                {
                    if (line[j] != '\\')
                    {
                        value.Append(line[j]);
                        continue;
                    }
                    j++;
                    value.Append(line[j] switch
                    {
                        '\\' => '\\',
                        '"' => '"',
                        'n' => '\n',
                        _ => throw Bad(lineNumber, line, "bad escape in a label value"),
                    });
                }
                if (!labels.TryAdd(label, value.ToString())) throw Bad(lineNumber, line, "label repeated");
                i = j + 1;
                if (line[i] == ',') i++;
            }
        }
        if (i >= line.Length || line[i] != ' ') throw Bad(lineNumber, line, "no value");
        var rest = line[(i + 1)..].Split(' ');
        if (rest.Length is < 1 or > 2) throw Bad(lineNumber, line, "value and at most a timestamp expected");
        var number = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var v when double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => throw Bad(lineNumber, line, $"'{rest[0]}' is not a number"),
        };
        if (rest.Length == 2 && !long.TryParse(rest[1], out _)) throw Bad(lineNumber, line, "bad timestamp");
        return new Sample(name, labels, number);
    }

    private void CheckHistograms()
    {
        foreach (var family in Types.Where(t => t.Value == "histogram").Select(t => t.Key))
        {
            var series = Named(family + "_bucket").GroupBy(s => Key(s.Labels.Where(l => l.Key != "le")));
            foreach (var one in series)
            {
                var buckets = one.Select(s => (Le: s.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(s.Labels["le"], CultureInfo.InvariantCulture), s.Value))
                    .ToList();
                if (buckets.Zip(buckets.Skip(1)).Any(p => p.First.Le >= p.Second.Le || p.First.Value > p.Second.Value))
                    throw new FormatException($"{family}{{{one.Key}}}: buckets not in increasing order or not cumulative");
                if (!double.IsPositiveInfinity(buckets[^1].Le)) throw new FormatException($"{family}{{{one.Key}}}: no +Inf bucket");
                var count = Named(family + "_count").SingleOrDefault(s => Key(s.Labels) == one.Key)
                            ?? throw new FormatException($"{family}{{{one.Key}}}: no _count");
                if (count.Value != buckets[^1].Value) throw new FormatException($"{family}{{{one.Key}}}: +Inf bucket {buckets[^1].Value} != _count {count.Value}");
                if (!Named(family + "_sum").Any(s => Key(s.Labels) == one.Key)) throw new FormatException($"{family}{{{one.Key}}}: no _sum");
            }
        }
    }

    private static string Key(IEnumerable<KeyValuePair<string, string>> labels) =>
        string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    private static FormatException Bad(int number, string line, string why) => new($"line {number}: {why}: {line}");

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();
}
