using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Prometheus;

namespace Lineage.Server.Hosting;

/// <summary>
/// Copies .NET <see cref="System.Diagnostics.Metrics"/> instruments into a prometheus-net registry, keeping their kind:
/// a counter stays a counter (<c>_total</c>), a histogram a histogram, gauges and up-down counters become gauges. The
/// Prometheus name is the instrument's name with dots as underscores plus the unit (<c>s</c> → <c>_seconds</c>,
/// <c>By</c> → <c>_bytes</c>); tags become labels, created on an instrument's first measurement.
/// Decision: a small listener of our own rather than prometheus-net's <c>MeterAdapter</c>, which exports counters as
/// gauges and prefixes every name with the meter's name. Observable instruments are read at each scrape.
/// Thread-safe (measurements arrive on any thread).
/// </summary>
internal sealed class MeterBridge : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly IMetricFactory _factory;
    private readonly Func<Instrument, double[]> _buckets;
    private readonly ConcurrentDictionary<Instrument, Exported> _exported = new();

    public MeterBridge(CollectorRegistry registry, Func<Instrument, bool> wanted, Func<Instrument, double[]> buckets)
    {
        _factory = Metrics.WithCustomRegistry(registry);
        _buckets = buckets;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (wanted(instrument)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.MeasurementsCompleted = (instrument, _) => _exported.TryRemove(instrument, out Exported? _);
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
        registry.AddBeforeCollectCallback(() => _listener.RecordObservableInstruments());
    }

    /// <summary>Never throws: a measurement is taken inside the caller's operation (a commit), which must not fail for metrics.</summary>
    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        try
        {
            RecordOrThrow(instrument, value, tags);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // A name taken by a metric of another kind or label set: this instrument is left out of /metrics.
        }
    }

    private void RecordOrThrow(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = new (string Name, string Value)[tags.Length];
        for (var i = 0; i < tags.Length; i++) labels[i] = (PrometheusName(tags[i].Key), tags[i].Value?.ToString() ?? "");
        Array.Sort(labels, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var exported = _exported.GetOrAdd(instrument, i => Export(i, labels.Select(l => l.Name).ToArray()));
        if (exported.LabelNames.Length != labels.Length || !exported.LabelNames.SequenceEqual(labels.Select(l => l.Name))) return; // tag set differs from the first: not exported
        var values = labels.Select(l => l.Value).ToArray();
        switch (exported.Metric)
        {
            case Counter counter when instrument.IsObservable:
                (values.Length == 0 ? (ICounter)counter : counter.WithLabels(values)).IncTo(value);
                break;
            case Counter counter:
                (values.Length == 0 ? (ICounter)counter : counter.WithLabels(values)).Inc(value);
                break;
            case Gauge gauge when instrument.IsObservable:
                (values.Length == 0 ? (IGauge)gauge : gauge.WithLabels(values)).Set(value);
                break;
            case Gauge gauge:
                (values.Length == 0 ? (IGauge)gauge : gauge.WithLabels(values)).Inc(value); // an up-down counter's measurement is a change
                break;
            case Histogram histogram:
                (values.Length == 0 ? (IHistogram)histogram : histogram.WithLabels(values)).Observe(value);
                break;
        }
    }

    private Exported Export(Instrument instrument, string[] labelNames)
    {
        var name = PrometheusName(instrument.Name) + instrument.Unit switch
        {
            "s" => "_seconds",
            "ms" => "_milliseconds",
            "By" => "_bytes",
            _ => "",
        };
        var help = string.IsNullOrWhiteSpace(instrument.Description) ? instrument.Name : instrument.Description;
        var generic = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : null;
        Collector metric = generic == typeof(Counter<>) || generic == typeof(ObservableCounter<>)
            ? _factory.CreateCounter(name + "_total", help, labelNames)
            : generic == typeof(Histogram<>)
                ? _factory.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = labelNames, Buckets = _buckets(instrument) })
                : _factory.CreateGauge(name, help, labelNames);
        return new Exported(metric, labelNames);
    }

    /// <summary><c>db.client.connection.count</c> → <c>db_client_connection_count</c>: anything but letters, digits and underscores becomes an underscore.</summary>
    internal static string PrometheusName(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name) sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? char.ToLowerInvariant(c) : '_');
        if (sb.Length == 0 || char.IsAsciiDigit(sb[0])) sb.Insert(0, '_');
        return sb.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private sealed record Exported(Collector Metric, string[] LabelNames);
}
