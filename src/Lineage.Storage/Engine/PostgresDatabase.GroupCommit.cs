using System.Diagnostics;
using System.Threading.Channels;
using Dapper;
using Npgsql;

namespace Lineage.Storage.Engine;

/// <summary>
/// Group commit on PostgreSQL (issue 15). A write joins a queue; a few writer loops each take the writes already
/// queued and run them one after another in one transaction on one connection, so a burst of small writes (OpenLineage
/// events, tags, params) pays one COMMIT — one WAL flush and one round trip — and one BEGIN between them instead of one
/// each. A lone write does not wait for companions: a loop takes only what is queued, the moment it is free.
/// <para>
/// Each write still behaves as its own transaction. The first of a group runs bare (a failure rolls back a transaction
/// holding nothing else); every later one runs inside a SAVEPOINT, so a write that fails (a Lineage error, a constraint)
/// rolls back alone and gets its own error while the others commit. <see cref="DbSession.OnCommitted"/> callbacks run
/// after the shared COMMIT, only for writes it made durable. A write that lost a race (deadlock, serialization failure,
/// <see cref="RetryTransactionException"/>, or a lock waited for longer than 50 ms: advisory locks and row locks of a group's
/// earlier writes are held to the shared COMMIT, so two groups, here or on another server, can wait for each other) is
/// rolled back to its savepoint and run again in a transaction of its own with the usual retries; so is every write of a group whose transaction broke
/// before COMMIT (nothing of it was committed). A COMMIT that fails otherwise fails the group's writes, as it fails a
/// lone write. Writes that are not durable form groups of their own (<c>synchronous_commit = off</c>).
/// </para>
/// </summary>
public sealed partial class PostgresDatabase
{
    /// <summary>Writer loops (connections committing groups) when the caller does not choose; measured in docs/benchmarks.md (issue 15).</summary>
    public const int DefaultGroupWriters = 4;

    /// <summary>
    /// At most this many writes per group: PostgreSQL keeps the ids of 64 subtransactions per transaction in shared
    /// memory; a transaction with more overflows to pg_subtrans and slows every other session's snapshots while it runs.
    /// </summary>
    internal const int MaxGroup = 64;

    /// <summary>A loop adds no write to a group that has run this long, so one slow write delays only its own group.</summary>
    private static readonly TimeSpan MaxGroupTime = TimeSpan.FromMilliseconds(20);

    /// <summary>How long a write that follows others in a group waits for a lock before it is run alone instead (SET before the first savepoint, so it outlives rollbacks to it).</summary>
    private const string LockWaitSql = "SET LOCAL lock_timeout = '50ms'";

    private readonly Channel<QueuedWrite> _queue = Channel.CreateUnbounded<QueuedWrite>(new() { SingleReader = false });
    private readonly Task[] _writers;
    private int _alone; // writes a group handed to RunAlone that have not finished: closing waits for them

    /// <summary><c>LINEAGE_PG_GROUP_WRITERS</c> (a whole number, 0 = no group commit), else <see cref="DefaultGroupWriters"/>.</summary>
    private static int GroupWritersFromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("LINEAGE_PG_GROUP_WRITERS"), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : DefaultGroupWriters;

    private Task[] StartGroupWriters(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Enumerable.Range(0, count).Select(_ => Task.Run(WriterLoopAsync)).ToArray();
    }

    private async Task StopGroupWritersAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers);
        while (Volatile.Read(ref _alone) > 0) await Task.Delay(10);
    }

    protected override Task<T> ExecuteWriteAsync<T>(OperationContext operation, Func<DbSession, Task<T>> body, bool durable, CancellationToken ct) =>
        _writers.Length == 0
            ? WriteAloneAsync(operation, body, durable, ct)
            : QueuedWrite.RunAsync(_queue.Writer, Metrics, nameof(PostgresDatabase), operation, body, durable, ct);

    private async Task WriterLoopAsync()
    {
        QueuedWrite? carried = null;
        while (carried is not null || await _queue.Reader.WaitToReadAsync())
        {
            var first = carried;
            carried = null;
            if (first is null && !_queue.Reader.TryRead(out first)) continue; // another loop took it
            Metrics.Dequeued(1);
            carried = await RunGroupAsync(first);
        }
    }

    /// <summary>
    /// Runs <paramref name="first"/> and whatever joins the queue meanwhile (up to <see cref="MaxGroup"/> and
    /// <see cref="MaxGroupTime"/>, same durability) in one transaction. Returns a write taken off the queue that
    /// could not join (another loop raced for the one peeked at, and it differs in durability): the next group's first.
    /// </summary>
    private async Task<QueuedWrite?> RunGroupAsync(QueuedWrite first)
    {
        var started = Stopwatch.GetTimestamp();
        var durable = first.Durable;
        var taken = 1;
        var live = new List<(QueuedWrite Item, DbSession Session, object? Result)>(8);
        QueuedWrite? running = first, carried = null; // the write whose fate the group's failure decides (none between writes)
        var committing = false;
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync();
            var transaction = await BeginAsync(connection, durable);
            var savepoint = false;
            for (var item = first; item is not null; item = Next())
            {
                running = item;
                if (item.Cancellation.IsCancellationRequested)
                {
                    item.Completion.TrySetCanceled(item.Cancellation);
                    running = null;
                    continue;
                }
                // Only a write that follows live ones needs a savepoint: the first has nothing to spare from its rollback.
                // From then on the group holds its earlier writes' locks, so a write that waits for a lock may wait for a group
                // that waits for us: past LockWait it is rolled back and run alone instead (no 1 s deadlock detection).
                if (live.Count > 0)
                {
                    await connection.ExecuteAsync(savepoint ? "RELEASE SAVEPOINT w; SAVEPOINT w" : LockWaitSql + "; SAVEPOINT w", transaction: transaction);
                    savepoint = true;
                }
                var session = Session(connection, transaction, item.Operation);
                try
                {
                    live.Add((item, session, await item.Body(session)));
                }
                catch (Exception ex) when (live.Count > 0)
                {
                    await connection.ExecuteAsync("ROLLBACK TO SAVEPOINT w", transaction: transaction);
                    Settle(item, ex);
                }
                catch (Exception ex)
                {
                    await transaction.RollbackAsync();
                    await transaction.DisposeAsync();
                    transaction = await BeginAsync(connection, durable);
                    savepoint = false;
                    Settle(item, ex);
                }
                running = null;
            }
            if (live.Count > 0)
            {
                // A write that may lose its commit (audit chaining) must not take durable companions with it.
                if (durable && live.Exists(l => l.Session.LazyCommitSet))
                    await connection.ExecuteAsync("SET LOCAL synchronous_commit = on", transaction: transaction);
                committing = true;
                await transaction.CommitAsync();
            }
            await transaction.DisposeAsync();
        }
        catch (Exception ex)
        {
            Metrics.WriteEnded(0, taken, committed: false);
            var rerun = !committing || Dialect.IsRetryable(ex);
            // Before COMMIT nothing of the group is durable: each write is run again on its own. A COMMIT that failed
            // otherwise may or may not have happened: the writes fail as a lone write's would.
            foreach (var item in live.Select(l => l.Item).Append(running).OfType<QueuedWrite>())
                if (rerun) RunAlone(item);
                else item.Completion.TrySetException(Dialect.Translate(ex));
            return carried;
        }
        Metrics.WriteEnded(0, taken - live.Count, committed: false);
        Metrics.WriteEnded(Stopwatch.GetElapsedTime(started).TotalSeconds, live.Count, committed: live.Count > 0);
        foreach (var (item, session, result) in live)
        {
            try
            {
                session.Committed();
                item.Completion.TrySetResult(result);
            }
            catch (Exception ex)
            {
                item.Completion.TrySetException(Dialect.Translate(ex));
            }
        }
        return carried;

        QueuedWrite? Next()
        {
            if (taken >= MaxGroup || Stopwatch.GetElapsedTime(started) >= MaxGroupTime) return null;
            if (!_queue.Reader.TryPeek(out var peeked) || peeked.Durable != durable || !_queue.Reader.TryRead(out var next)) return null;
            Metrics.Dequeued(1);
            if (next.Durable == durable)
            {
                taken++;
                return next;
            }
            carried = next;
            return null;
        }
    }

    private static async Task<NpgsqlTransaction> BeginAsync(NpgsqlConnection connection, bool durable)
    {
        // Npgsql sends BEGIN with the transaction's first statement: no round trip of its own.
        var transaction = await connection.BeginTransactionAsync();
        // Not durable: the commit does not wait for the WAL flush (a server crash loses nothing; an OS crash may lose it).
        if (!durable) await connection.ExecuteAsync("SET LOCAL synchronous_commit = off", transaction: transaction);
        return transaction;
    }

    /// <summary>A write that failed in its group: a lost race is run again alone, any other failure is its answer.</summary>
    private void Settle(QueuedWrite item, Exception ex)
    {
        if (Dialect.IsRetryable(ex) || ex is PostgresException { SqlState: "55P03" }) RunAlone(item); // 55P03: waited past LockWaitSql
        else item.Completion.TrySetException(Dialect.Translate(ex));
    }

    /// <summary>Runs a write on its own connection, in its own transaction, with the retries of a lone write.</summary>
    private void RunAlone(QueuedWrite item)
    {
        Interlocked.Increment(ref _alone);
        _ = Task.Run(async () =>
        {
            try
            {
                item.Completion.TrySetResult(await WriteAloneAsync(item.Operation, item.Body, item.Durable, item.Cancellation));
            }
            catch (OperationCanceledException) when (item.Cancellation.IsCancellationRequested)
            {
                item.Completion.TrySetCanceled(item.Cancellation);
            }
            catch (Exception ex)
            {
                item.Completion.TrySetException(ex);
            }
            finally
            {
                Interlocked.Decrement(ref _alone);
            }
        });
    }
}
