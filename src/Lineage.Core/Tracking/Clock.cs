namespace Lineage.Core.Tracking;

/// <summary>Times are Unix milliseconds throughout, as in MLflow.</summary>
public static class Clock
{
    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
