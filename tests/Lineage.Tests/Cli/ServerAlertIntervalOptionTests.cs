using Lineage.Tests.Support;

namespace Lineage.Tests.Cli;

/// <summary><c>lineage server --alert-interval</c>: documented in --help, and a value out of bounds is refused before anything starts.</summary>
public sealed class ServerAlertIntervalOptionTests
{
    [Fact]
    public async Task help_explains_the_alert_interval()
    {
        var (code, output, _) = await InProcessCli.RunAsync("server", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--alert-interval", output);
        Assert.Contains("time-based alert rules", output);
        Assert.Contains("1–3600", output);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("0.5")]
    [InlineData("3601")]
    [InlineData("NaN")]
    public async Task an_interval_out_of_bounds_is_refused_with_the_bounds(string value)
    {
        using var dir = new TempDir();
        var (code, _, error) = await InProcessCli.RunAsync("server", "--db", dir.File("l.db"), "--artifacts", dir.File("a"), "--port", "0", "--alert-interval", value);
        Assert.Equal(2, code);
        Assert.Contains("--alert-interval must be between 1 and 3600 seconds", error);
        Assert.False(File.Exists(dir.File("l.db")), "the server started although its option was refused");
    }

    [Fact]
    public async Task a_value_that_is_not_a_number_is_refused()
    {
        var (code, _, error) = await InProcessCli.RunAsync("server", "--alert-interval", "soon");
        Assert.NotEqual(0, code);
        Assert.Contains("soon", error);
    }
}
