namespace Lineage.Examples.HousePrice;

/// <summary>
/// A small random-forest regressor: bootstrap samples, a random subset of features per split, variance-reduction
/// splits on sorted values. Deterministic for a seed. Enough to make the example's metadata real, not a library.
/// </summary>
public sealed class RandomForest(int trees, int maxDepth, int sampleSize, int seed)
{
    private readonly List<Node> _trees = [];

    public int Trees => trees;
    public int MaxDepth => maxDepth;

    public void Fit(double[][] x, double[] y)
    {
        var random = new Random(seed);
        for (var t = 0; t < trees; t++)
        {
            var sample = new int[Math.Min(sampleSize, x.Length)];
            for (var i = 0; i < sample.Length; i++) sample[i] = random.Next(x.Length);
            _trees.Add(Grow(x, y, sample, 0, random));
        }
    }

    public double Predict(double[] row) => _trees.Average(t => t.Predict(row));

    private Node Grow(double[][] x, double[] y, int[] rows, int depth, Random random)
    {
        var mean = rows.Average(r => y[r]);
        if (depth >= maxDepth || rows.Length < 10) return new Node(mean);
        var features = x[0].Length;
        var tried = Enumerable.Range(0, features).OrderBy(_ => random.Next()).Take(Math.Max(1, (features + 1) / 2)).ToList();
        var (bestFeature, bestThreshold, bestScore) = (-1, 0.0, double.MaxValue);
        foreach (var f in tried)
        {
            var sorted = rows.OrderBy(r => x[r][f]).ToArray();
            double leftSum = 0, leftSq = 0, totalSum = sorted.Sum(r => y[r]), totalSq = sorted.Sum(r => y[r] * y[r]);
            for (var i = 0; i < sorted.Length - 1; i++)
            {
                var v = y[sorted[i]];
                leftSum += v;
                leftSq += v * v;
                if (x[sorted[i]][f] == x[sorted[i + 1]][f]) continue;
                int nl = i + 1, nr = sorted.Length - nl;
                var score = (leftSq - leftSum * leftSum / nl) + (totalSq - leftSq - (totalSum - leftSum) * (totalSum - leftSum) / nr);
                if (score < bestScore) (bestFeature, bestThreshold, bestScore) = (f, (x[sorted[i]][f] + x[sorted[i + 1]][f]) / 2, score);
            }
        }
        if (bestFeature < 0) return new Node(mean);
        var left = rows.Where(r => x[r][bestFeature] <= bestThreshold).ToArray();
        var right = rows.Where(r => x[r][bestFeature] > bestThreshold).ToArray();
        return new Node(mean, bestFeature, bestThreshold, Grow(x, y, left, depth + 1, random), Grow(x, y, right, depth + 1, random));
    }

    /// <summary>The trees as nested arrays [feature, threshold, left, right] or a leaf value: the model file.</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(_trees.Select(t => t.ToJson()).ToList());

    private sealed record Node(double Value, int Feature = -1, double Threshold = 0, Node? Left = null, Node? Right = null)
    {
        public double Predict(double[] row) => Feature < 0 ? Value : row[Feature] <= Threshold ? Left!.Predict(row) : Right!.Predict(row);

        public object ToJson() => Feature < 0 ? Value : new object[] { Feature, Threshold, Left!.ToJson(), Right!.ToJson() };
    }
}
