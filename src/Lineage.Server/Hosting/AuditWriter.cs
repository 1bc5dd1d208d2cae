using System.Threading.Channels;
using Lineage.Core.Governance;
using Lineage.Core.Tracking;
using Lineage.Storage.Governance;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lineage.Server.Hosting;

/// <summary>
/// Chains the audit entries of API writes in the background, many per transaction, so auditing adds no second
/// commit to a request (measured: an inline append cost ingestion 15–38%). A write request's entry is durable
/// before the request is answered: its <c>audit_pending</c> row commits with the request's first write
/// (<see cref="PendingAudit"/>). After the answer, <see cref="Answered"/> hands over the final facts (status, created
/// location) and a batch moves the row into the chain (<see cref="AuditLog.ChainAsync"/>). Rows nobody answers — the
/// server died, or the answer was lost — are chained with status 0 once older than <see cref="UnansweredGrace"/>, by
/// whichever server sweeps first, this one at start-up and every <see cref="SweepInterval"/>. Entries with no pending
/// row (reveals, requests that wrote nothing to the database) are queued here only, as before: a crash can lose those.
/// The queue is drained on shutdown. Permission changes do not go through here: they are audited in their own transaction.
/// </summary>
public sealed class AuditWriter(AuditLog log, ILogger<AuditWriter> logger) : BackgroundService
{
    /// <summary>
    /// How old an unanswered pending row must be before any server chains it without its answer. Age is the only
    /// safe test: several servers may share one PostgreSQL database, and a fresh row may belong to a live server
    /// still running that request, whose answer would be lost if the row were chained early. Two minutes is far
    /// beyond a request's usual time from first write to answer, and beyond clock skew between hosts (row times
    /// come from the writing server's clock); a request slower than that is still audited, with status 0.
    /// </summary>
    public static readonly TimeSpan UnansweredGrace = TimeSpan.FromMinutes(2);

    /// <summary>How often an idle writer looks for unanswered rows past the grace (a crashed server's, or a lost answer's).</summary>
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);

    private const int MaxBatch = 1000;

    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new() { SingleReader = true });

    // Counted by hand: a single-reader unbounded channel cannot count its items.
    private long _backlog;

    /// <summary>Records handed over and not yet taken by the writer loop (exported on /metrics).</summary>
    public long Backlog => Interlocked.Read(ref _backlog);

    /// <summary>An entry with no pending row: appended by the next batch (lost if the process dies first).</summary>
    public void Enqueue(AuditRecord record)
    {
        if (_queue.Writer.TryWrite(new Item(0, record, null))) Interlocked.Increment(ref _backlog);
    }

    /// <summary>
    /// The final facts of the request whose pending row is <paramref name="pendingId"/>. After shutdown the call does
    /// nothing and the row is chained unanswered later.
    /// </summary>
    public void Answered(long pendingId, AuditRecord record)
    {
        if (_queue.Writer.TryWrite(new Item(pendingId, record, null))) Interlocked.Increment(ref _backlog);
    }

    /// <summary>Completes once everything handed over before the call is in the log, and one sweep has run.</summary>
    public Task FlushAsync()
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _queue.Writer.TryWrite(new Item(0, null, flushed)) ? flushed.Task : Task.CompletedTask;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete(); // the loop drains what is queued, then ends
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var answered = new Dictionary<long, AuditRecord>();
        var records = new List<AuditRecord>();
        var waiters = new List<TaskCompletionSource>();
        // The first pass runs at once: it chains what a previous process left, once past the grace.
        while (true)
        {
            while (answered.Count + records.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                if (item.Record is null)
                {
                    waiters.Add(item.Flushed!);
                    continue;
                }
                Interlocked.Decrement(ref _backlog);
                if (item.PendingId > 0) answered[item.PendingId] = item.Record;
                else records.Add(item.Record);
            }
            var more = await ChainAsync(answered, records);
            answered.Clear();
            records.Clear();
            foreach (var w in waiters) w.TrySetResult();
            waiters.Clear();
            if (!more && !await WaitAsync()) return;
        }
    }

    /// <summary>Waits for work (at once when some is queued) or the next sweep; false once the queue is completed and empty.</summary>
    private async Task<bool> WaitAsync()
    {
        using var sweep = new CancellationTokenSource(SweepInterval);
        try
        {
            return await _queue.Reader.WaitToReadAsync(sweep.Token);
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    /// <summary>One batch, retried a few times; true when more unanswered rows wait.</summary>
    private async Task<bool> ChainAsync(Dictionary<long, AuditRecord> answered, List<AuditRecord> records)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await log.ChainAsync(answered, records, Clock.NowMs() - (long)UnansweredGrace.TotalMilliseconds)).MoreUnanswered;
            }
            catch (Exception ex) when (attempt < 5)
            {
                logger.LogWarning(ex, "audit chaining failed (attempt {Attempt}); retrying", attempt);
                await Task.Delay(100 * attempt, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // The writes' entries stay in audit_pending and are chained, unanswered, after the grace.
                logger.LogError(ex, "audit chaining failed; {Answered} answers and {Records} entries without a pending row were dropped",
                    answered.Count, records.Count);
                return false;
            }
        }
    }

    /// <summary>A queue item: an answer (<see cref="PendingId"/> &gt; 0), an entry without a pending row, or a flush.</summary>
    private readonly record struct Item(long PendingId, AuditRecord? Record, TaskCompletionSource? Flushed);
}
