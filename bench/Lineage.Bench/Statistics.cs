namespace Lineage.Bench;

public static class Statistics
{
    /// <summary>Median: these machines are noisy, so benchmarks quote it rather than the mean.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
