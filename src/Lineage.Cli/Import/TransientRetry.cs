using Lineage.Client;

namespace Lineage.Cli.Import;

/// <summary>
/// How every importer and the bundle exporter call a server: a transient answer (429, 503, a lost connection) is tried
/// again with exponential backoff, at most <see cref="MaxAttempts"/> times. Writes carry the same idempotency key on every
/// attempt, so one stored whose answer was lost is answered from the store.
/// </summary>
internal static class TransientRetry
{
    public const int MaxAttempts = 6;

    public static async Task<T> Retry<T>(Func<Task<T>> call, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (LineageApiException ex) when (ex.IsTransient && attempt < MaxAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10_000, 200 * (1 << attempt))), ct);
            }
        }
    }

    public static Task Retry(Func<Task> call, CancellationToken ct) => Retry(async () => { await call(); return true; }, ct);
}
