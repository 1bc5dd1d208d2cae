namespace Lineage.Core.Tracking;

/// <summary>
/// Reduces a long metric series to at most <c>maxPoints</c> points for charts (issue 8: a 1,000,000-step
/// history must render in under a second). The step range is cut into <c>maxPoints / 4</c> equal buckets;
/// each bucket keeps its first and last point (lowest and highest step) and its lowest and highest value, in
/// step order (issue 15): spikes and dips survive, the drawn envelope is the full series', and a line drawn
/// through the kept points enters and leaves every bucket where the full series does. Below 4 points a single
/// bucket keeps its lowest and highest value. NaN points are kept only when a bucket has nothing else. A series
/// that already fits is returned unchanged, in logged order. Pure; thread-safe.
/// </summary>
public static class MetricDownsampling
{
    public const int MinPoints = 2;
    public const int MaxPoints = 100_000;

    public static IReadOnlyList<SeriesPoint> Reduce(IReadOnlyList<SeriesPoint> points, int maxPoints)
    {
        if (maxPoints < MinPoints) throw new ArgumentOutOfRangeException(nameof(maxPoints));
        if (points.Count <= maxPoints) return points;

        long lo = long.MaxValue, hi = long.MinValue;
        foreach (var p in points)
        {
            if (p.Step < lo) lo = p.Step;
            if (p.Step > hi) hi = p.Step;
        }
        var edges = maxPoints >= 4;
        var buckets = edges ? maxPoints / 4 : 1;
        // Width as a double so step ranges near long.MaxValue cannot overflow.
        var width = ((double)hi - lo + 1) / buckets;
        var first = new int[buckets];
        var last = new int[buckets];
        var min = new int[buckets];
        var max = new int[buckets];
        var nan = new int[buckets];
        Array.Fill(first, -1);
        Array.Fill(nan, -1);
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            var b = Math.Min(buckets - 1, (int)((p.Step - (double)lo) / width));
            if (double.IsNaN(p.Value))
            {
                if (nan[b] < 0) nan[b] = i;
                continue;
            }
            if (first[b] < 0)
            {
                first[b] = last[b] = min[b] = max[b] = i;
                continue;
            }
            if (p.Step < points[first[b]].Step) first[b] = i;
            if (p.Step >= points[last[b]].Step) last[b] = i;
            if (p.Value < points[min[b]].Value) min[b] = i;
            if (p.Value > points[max[b]].Value) max[b] = i;
        }

        var result = new List<SeriesPoint>(maxPoints);
        var kept = new List<int>(4);
        for (var b = 0; b < buckets; b++)
        {
            if (first[b] < 0)
            {
                if (nan[b] >= 0) result.Add(points[nan[b]]);
                continue;
            }
            kept.Clear();
            if (edges) kept.Add(first[b]);
            kept.Add(min[b]);
            kept.Add(max[b]);
            if (edges) kept.Add(last[b]);
            kept.Sort((x, y) => points[x].Step != points[y].Step ? points[x].Step.CompareTo(points[y].Step) : x.CompareTo(y));
            for (var k = 0; k < kept.Count; k++)
                if (k == 0 || kept[k] != kept[k - 1]) result.Add(points[kept[k]]);
        }
        return result;
    }
}
