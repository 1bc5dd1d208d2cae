using Lineage.Storage.Archive;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lineage.Server.Hosting;

/// <summary>
/// Writes the digests served since the last tick to <c>blob_reads</c> in one statement each minute, and once more at
/// shutdown (issue 13: archival's last-read times without a write per read).
/// </summary>
public sealed class ReadTrackerFlushService(ReadTracker reads, ILogger<ReadTrackerFlushService> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await FlushAsync(CancellationToken.None);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the final flush follows.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        try
        {
            await reads.FlushAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "recording content read times failed; they are kept for the next flush");
        }
    }
}
