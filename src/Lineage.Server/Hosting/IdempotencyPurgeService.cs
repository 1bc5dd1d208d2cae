using Lineage.Storage.Engine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lineage.Server.Hosting;

/// <summary>Idempotency keys are kept for a day, enough for any client's retries; older ones are purged hourly.</summary>
public sealed class IdempotencyPurgeService(Database db, ILogger<IdempotencyPurgeService> log) : BackgroundService
{
    public static readonly TimeSpan KeyLifetime = TimeSpan.FromHours(24);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1));
        do
        {
            try
            {
                var purged = await db.PurgeIdempotencyKeysAsync(KeyLifetime, stoppingToken);
                if (purged > 0) log.LogInformation("purged {Count} expired idempotency keys", purged);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "purging idempotency keys failed; will retry");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
