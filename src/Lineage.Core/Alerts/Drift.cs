using Lineage.Core.Errors;
using Lineage.Core.Registry;

namespace Lineage.Core.Alerts;

/// <summary>
/// Drift between two column profiles (issue 14, part 5), computed from what a dataset version's profile stores — no
/// rows needed. <b>PSI</b> (population stability index) compares bin proportions: the current histogram is re-binned onto
/// the baseline's edges (mass spread evenly inside a bin, the outer bins open-ended), or categorical frequencies are
/// compared category by category; empty bins count as 0.0001 so the log stays finite. <b>KS</b> (Kolmogorov–Smirnov
/// distance) is the largest gap between the two cumulative distributions, each drawn piecewise linearly through the
/// profile's quantiles (or histogram edges). Thread-safe (stateless).
/// </summary>
public static class Drift
{
    private const double Floor = 1e-4;
    public const int MaxBins = 1000;

    /// <summary>The statistic for one column, or null when the two profiles lack what the method needs.</summary>
    public static double? Statistic(string method, ColumnProfile baseline, ColumnProfile current) => method switch
    {
        "psi" when baseline.Histogram is { } b && current.Histogram is { } c => Psi(b, c),
        "psi" when baseline.Frequencies is { } b && current.Frequencies is { } c => Psi(b, c),
        "ks" when Cdf.Of(baseline) is { } b && Cdf.Of(current) is { } c => Ks(b, c),
        _ => null,
    };

    public static double Psi(ColumnHistogram baseline, ColumnHistogram current)
    {
        var edges = baseline.Edges;
        var bins = edges.Count - 1;
        var cur = Cdf.Of(current);
        var baseTotal = baseline.Counts.Sum();
        var psi = 0.0;
        for (var i = 0; i < bins; i++)
        {
            var e = baseline.Counts[i] / baseTotal;
            // The outer bins take everything beyond the baseline's range.
            var hi = i == bins - 1 ? 1.0 : cur.At(edges[i + 1]);
            var lo = i == 0 ? 0.0 : cur.At(edges[i]);
            psi += Term(hi - lo, e);
        }
        return psi;
    }

    public static double Psi(IReadOnlyDictionary<string, double> baseline, IReadOnlyDictionary<string, double> current)
    {
        var bt = baseline.Values.Sum();
        var ct = current.Values.Sum();
        var psi = 0.0;
        foreach (var key in baseline.Keys.Union(current.Keys))
            psi += Term(current.GetValueOrDefault(key) / ct, baseline.GetValueOrDefault(key) / bt);
        return psi;
    }

    private static double Term(double actual, double expected)
    {
        actual = Math.Max(actual, Floor);
        expected = Math.Max(expected, Floor);
        return (actual - expected) * Math.Log(actual / expected);
    }

    public static double Ks(Cdf baseline, Cdf current)
    {
        var d = 0.0;
        foreach (var x in baseline.Knots.Concat(current.Knots))
        {
            d = Math.Max(d, Math.Abs(baseline.At(x) - current.At(x)));
            d = Math.Max(d, Math.Abs(baseline.Before(x) - current.Before(x)));
        }
        return d;
    }

    /// <summary>Checks the drift parts of a column profile (histogram, quantiles, frequencies); INVALID_PARAMETER_VALUE names the field.</summary>
    public static void CheckProfile(string column, ColumnProfile p)
    {
        var at = $"profile.{column}";
        if (p.Histogram is { } h)
        {
            if (h.Edges is null || h.Counts is null || h.Edges.Count < 2 || h.Edges.Count > MaxBins + 1 || h.Counts.Count != h.Edges.Count - 1)
                throw LineageException.Invalid($"{at}.histogram", $"'{at}.histogram' needs 2 to {MaxBins + 1} 'edges' and one count per bin ('counts' has edges - 1 entries)");
            for (var i = 0; i < h.Edges.Count; i++)
                if (!double.IsFinite(h.Edges[i]) || (i > 0 && h.Edges[i] <= h.Edges[i - 1]))
                    throw LineageException.Invalid($"{at}.histogram.edges", $"'{at}.histogram.edges' must be finite and strictly increasing");
            CheckCounts(h.Counts, $"{at}.histogram.counts");
        }
        if (p.Quantiles is { } q)
        {
            if (q.Probabilities is null || q.Values is null || q.Probabilities.Count < 2 || q.Probabilities.Count > MaxBins || q.Values.Count != q.Probabilities.Count)
                throw LineageException.Invalid($"{at}.quantiles", $"'{at}.quantiles' needs 2 to {MaxBins} 'probabilities' and as many 'values'");
            for (var i = 0; i < q.Probabilities.Count; i++)
            {
                if (q.Probabilities[i] is < 0 or > 1 || double.IsNaN(q.Probabilities[i]) || (i > 0 && q.Probabilities[i] <= q.Probabilities[i - 1]))
                    throw LineageException.Invalid($"{at}.quantiles.probabilities", $"'{at}.quantiles.probabilities' must be strictly increasing, between 0 and 1");
                if (!double.IsFinite(q.Values[i]) || (i > 0 && q.Values[i] < q.Values[i - 1]))
                    throw LineageException.Invalid($"{at}.quantiles.values", $"'{at}.quantiles.values' must be finite and never decrease");
            }
        }
        if (p.Frequencies is { } f)
        {
            if (f.Count == 0 || f.Count > MaxBins)
                throw LineageException.Invalid($"{at}.frequencies", $"'{at}.frequencies' maps 1 to {MaxBins} categories to their counts");
            CheckCounts(f.Values.ToList(), $"{at}.frequencies");
        }
    }

    private static void CheckCounts(IReadOnlyList<double> counts, string field)
    {
        if (counts.Any(c => !double.IsFinite(c) || c < 0) || counts.Sum() <= 0)
            throw LineageException.Invalid(field, $"'{field}' must be counts (0 or more) with a positive total");
    }
}

/// <summary>
/// A cumulative distribution drawn piecewise linearly through knots, with a jump where a knot's value from the left
/// differs from its value (repeated quantile values, a first quantile above 0). 0 below the first knot, 1 above the last.
/// </summary>
public sealed class Cdf
{
    private readonly double[] _x;
    private readonly double[] _left;
    private readonly double[] _right;

    private Cdf(double[] x, double[] left, double[] right)
    {
        _x = x;
        _left = left;
        _right = right;
    }

    public IReadOnlyList<double> Knots => _x;

    /// <summary>From quantiles when the profile has them, else from the histogram; null with neither.</summary>
    public static Cdf? Of(ColumnProfile p) => p.Quantiles is { } q ? Of(q) : p.Histogram is { } h ? Of(h) : null;

    public static Cdf Of(ColumnHistogram h)
    {
        var total = h.Counts.Sum();
        var cum = new double[h.Edges.Count];
        for (var i = 1; i < cum.Length; i++) cum[i] = cum[i - 1] + h.Counts[i - 1] / total;
        cum[^1] = 1;
        return new Cdf(h.Edges.ToArray(), cum, cum);
    }

    public static Cdf Of(ColumnQuantiles q)
    {
        var x = new List<double>();
        var left = new List<double>();
        var right = new List<double>();
        for (var i = 0; i < q.Values.Count; i++)
        {
            if (x.Count > 0 && x[^1] == q.Values[i])
            {
                right[^1] = q.Probabilities[i];
                continue;
            }
            x.Add(q.Values[i]);
            left.Add(x.Count == 1 ? 0 : q.Probabilities[i]);
            right.Add(q.Probabilities[i]);
        }
        right[^1] = 1;
        return new Cdf(x.ToArray(), left.ToArray(), right.ToArray());
    }

    /// <summary>P(X ≤ x).</summary>
    public double At(double x) => Value(x, fromLeft: false);

    /// <summary>P(X &lt; x): the limit from the left.</summary>
    public double Before(double x) => Value(x, fromLeft: true);

    private double Value(double x, bool fromLeft)
    {
        if (x < _x[0]) return 0;
        if (x > _x[^1]) return 1;
        var i = Array.BinarySearch(_x, x);
        if (i >= 0) return fromLeft ? _left[i] : _right[i];
        var hi = ~i;
        var lo = hi - 1;
        return _right[lo] + (_left[hi] - _right[lo]) * (x - _x[lo]) / (_x[hi] - _x[lo]);
    }
}
