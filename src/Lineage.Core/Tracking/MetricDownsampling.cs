namespace Lineage.Core.Tracking;

/// <summary>
/// Reduces a long metric series to at most <c>maxPoints</c> points for charts (issue 8: a 1,000,000-step
/// history must render in under a second). The step range is cut into <c>maxPoints / 2</c> equal buckets;
/// each bucket keeps its lowest and its highest value (in step order), so spikes and dips survive and the
/// drawn envelope is the same as the full series'. NaN points are kept only when a bucket has nothing
/// else. A series that already fits is returned unchanged, in logged order. Pure; thread-safe.
/// </summary>
public static class MetricDownsampling
{
    public const int MinPoints = 2;
    public const int MaxPoints = 100_000;

    public static IReadOnlyList<SeriesPoint> MinMax(IReadOnlyList<SeriesPoint> points, int maxPoints)
    {
        if (maxPoints < MinPoints) throw new ArgumentOutOfRangeException(nameof(maxPoints));
        if (points.Count <= maxPoints) return points;

        long lo = long.MaxValue, hi = long.MinValue;
        foreach (var p in points)
        {
            if (p.Step < lo) lo = p.Step;
            if (p.Step > hi) hi = p.Step;
        }
        var buckets = maxPoints / 2;
        // Width as a double so step ranges near long.MaxValue cannot overflow.
        var width = ((double)hi - lo + 1) / buckets;
        var min = new int[buckets];
        var max = new int[buckets];
        Array.Fill(min, -1);
        Array.Fill(max, -1);
        for (var i = 0; i < points.Count; i++)
        {
            var b = Math.Min(buckets - 1, (int)((points[i].Step - (double)lo) / width));
            var v = points[i].Value;
            if (min[b] < 0) { min[b] = i; max[b] = i; continue; }
            if (double.IsNaN(v)) continue;
            if (double.IsNaN(points[min[b]].Value) || v < points[min[b]].Value) min[b] = i;
            if (double.IsNaN(points[max[b]].Value) || v > points[max[b]].Value) max[b] = i;
        }

        var result = new List<SeriesPoint>(maxPoints);
        for (var b = 0; b < buckets; b++)
        {
            if (min[b] < 0) continue;
            var (first, second) = points[min[b]].Step <= points[max[b]].Step ? (min[b], max[b]) : (max[b], min[b]);
            result.Add(points[first]);
            if (second != first) result.Add(points[second]);
        }
        return result;
    }
}
