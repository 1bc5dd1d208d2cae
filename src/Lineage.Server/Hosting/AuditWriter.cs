using System.Threading.Channels;
using Lineage.Core.Governance;
using Lineage.Storage.Governance;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lineage.Server.Hosting;

/// <summary>
/// Appends the audit entries of API writes in the background, many per transaction, so auditing does
/// not add a second commit to every request's latency (measured: an inline append cost ingestion ~15–35%).
/// The queue is drained on shutdown; a crash loses at most the entries of the last few milliseconds
/// (docs/governance.md). Permission changes do not go through here: they are audited in their own transaction.
/// </summary>
public sealed class AuditWriter(AuditLog log, ILogger<AuditWriter> logger) : BackgroundService
{
    private const int MaxBatch = 1000;
    private readonly Channel<(AuditRecord? Record, TaskCompletionSource? Flushed)> _queue =
        Channel.CreateUnbounded<(AuditRecord?, TaskCompletionSource?)>(new() { SingleReader = true });

    public void Enqueue(AuditRecord record) => _queue.Writer.TryWrite((record, null));

    /// <summary>Completes once everything enqueued before the call is in the log.</summary>
    public Task FlushAsync()
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _queue.Writer.TryWrite((null, flushed)) ? flushed.Task : Task.CompletedTask;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete(); // the loop drains what is queued, then ends
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditRecord>(MaxBatch);
        var waiters = new List<TaskCompletionSource>();
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                if (item.Record is not null) batch.Add(item.Record);
                if (item.Flushed is not null) waiters.Add(item.Flushed);
            }
            for (var attempt = 1; batch.Count > 0; attempt++)
            {
                try
                {
                    await log.AppendManyAsync(batch);
                    break;
                }
                catch (Exception ex) when (attempt < 5)
                {
                    logger.LogWarning(ex, "audit append failed (attempt {Attempt}); retrying", attempt);
                    await Task.Delay(100 * attempt, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    logger.LogError(ex, "audit append failed; {Count} audit entries were not written", batch.Count);
                    break;
                }
            }
            batch.Clear();
            foreach (var w in waiters) w.TrySetResult();
            waiters.Clear();
        }
    }
}
