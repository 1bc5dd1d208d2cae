using Lineage.Core.Alerts;
using Lineage.Core.Errors;
using Lineage.Core.Registry;

namespace Lineage.Tests.Events;

/// <summary>The drift statistics of data_drift alert rules, computed from column profiles (issue 14, part 5).</summary>
public sealed class DriftTests
{
    private static ColumnProfile Hist(double[] edges, double[] counts) => new(null, null, null, null, null, new ColumnHistogram(edges, counts));

    private static ColumnProfile Quantiles(double[] p, double[] v) => new(null, null, null, null, null, Quantiles: new ColumnQuantiles(p, v));

    [Fact]
    public void psi_of_a_histogram_against_itself_or_a_scaled_copy_is_zero()
    {
        var a = Hist([0, 10, 20, 30], [100, 300, 600]);
        Assert.Equal(0, Drift.Statistic("psi", a, a)!.Value, 12);
        Assert.Equal(0, Drift.Statistic("psi", a, Hist([0, 10, 20, 30], [10, 30, 60]))!.Value, 12);
    }

    [Fact]
    public void psi_matches_the_textbook_sum_over_equal_bins()
    {
        double[] e = [0.2, 0.3, 0.5], q = [0.1, 0.3, 0.6];
        var expected = e.Zip(q, (x, y) => (y - x) * Math.Log(y / x)).Sum();
        var psi = Drift.Statistic("psi", Hist([0, 1, 2, 3], [20, 30, 50]), Hist([0, 1, 2, 3], [10, 30, 60]))!.Value;
        Assert.Equal(expected, psi, 9);
    }

    [Fact]
    public void psi_rebins_a_histogram_with_other_edges_and_puts_mass_outside_the_range_into_the_outer_bins()
    {
        // The same uniform distribution on [0, 40) in 4 bins and in 2 bins: no drift.
        var fine = Hist([0, 10, 20, 30, 40], [25, 25, 25, 25]);
        Assert.Equal(0, Drift.Statistic("psi", fine, Hist([0, 20, 40], [50, 50]))!.Value, 9);
        // Everything beyond the baseline's last edge lands in its last bin: a large drift.
        Assert.True(Drift.Statistic("psi", fine, Hist([100, 200], [10]))!.Value > 2);
    }

    [Fact]
    public void psi_on_categorical_frequencies_counts_new_and_missing_categories()
    {
        var before = new ColumnProfile(null, null, null, null, null, Frequencies: new Dictionary<string, double> { ["free"] = 70, ["pro"] = 30 });
        var same = new ColumnProfile(null, null, null, null, null, Frequencies: new Dictionary<string, double> { ["pro"] = 3, ["free"] = 7 });
        var shifted = new ColumnProfile(null, null, null, null, null, Frequencies: new Dictionary<string, double> { ["free"] = 30, ["team"] = 70 });
        Assert.Equal(0, Drift.Statistic("psi", before, same)!.Value, 12);
        Assert.True(Drift.Statistic("psi", before, shifted)!.Value > 1);
    }

    [Fact]
    public void ks_is_the_largest_gap_between_the_cdfs_drawn_through_the_quantiles()
    {
        var a = Quantiles([0, 0.5, 1], [0, 10, 20]);
        Assert.Equal(0, Drift.Statistic("ks", a, a)!.Value, 12);
        // Shifted by 10: at x = 10, F_a = 0.5 and F_b = 0.
        Assert.Equal(0.5, Drift.Statistic("ks", a, Quantiles([0, 0.5, 1], [10, 20, 30]))!.Value, 12);
        // Disjoint ranges: 1.
        Assert.Equal(1, Drift.Statistic("ks", a, Quantiles([0, 1], [100, 200]))!.Value, 12);
        // A histogram stands in for missing quantiles: uniform [0, 20] either way.
        Assert.Equal(0, Drift.Statistic("ks", a, Hist([0, 20], [7]))!.Value, 12);
    }

    [Fact]
    public void a_statistic_needs_the_same_kind_of_profile_on_both_sides()
    {
        Assert.Null(Drift.Statistic("psi", Hist([0, 1], [1]), Quantiles([0, 1], [0, 1])));
        Assert.Null(Drift.Statistic("ks", new ColumnProfile(1, 0, 1, 0.5, 2), Quantiles([0, 1], [0, 1])));
    }

    [Theory]
    [InlineData(new double[] { 0, 10, 5 }, new double[] { 1, 1 }, "profile.age.histogram.edges")]
    [InlineData(new double[] { 0, 10 }, new double[] { 1, 1 }, "profile.age.histogram")]
    [InlineData(new double[] { 0, 10 }, new double[] { -1 }, "profile.age.histogram.counts")]
    [InlineData(new double[] { 0, 10 }, new double[] { 0 }, "profile.age.histogram.counts")]
    public void a_malformed_histogram_is_refused_naming_its_field(double[] edges, double[] counts, string field)
    {
        var e = Assert.Throws<LineageException>(() => Drift.CheckProfile("age", Hist(edges, counts)));
        Assert.Equal(ErrorCode.InvalidParameterValue, e.Code);
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void malformed_quantiles_are_refused()
    {
        Assert.Equal("profile.x.quantiles.probabilities",
            Assert.Throws<LineageException>(() => Drift.CheckProfile("x", Quantiles([0.5, 0.2], [1, 2]))).Field);
        Assert.Equal("profile.x.quantiles.values",
            Assert.Throws<LineageException>(() => Drift.CheckProfile("x", Quantiles([0.2, 0.5], [3, 2]))).Field);
        Drift.CheckProfile("x", Quantiles([0, 0.5, 1], [1, 1, 2])); // repeated values are fine
    }
}
