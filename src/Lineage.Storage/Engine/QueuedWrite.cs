using System.Threading.Channels;

namespace Lineage.Storage.Engine;

/// <summary>
/// A write waiting in a writer queue: SQLite's single writer and PostgreSQL's group-commit writers take these and run
/// several in one transaction. Thread-safe (immutable but for its completion).
/// </summary>
internal sealed class QueuedWrite(Func<DbSession, Task<object?>> body, OperationContext operation, bool durable, CancellationToken cancellation)
{
    public Func<DbSession, Task<object?>> Body { get; } = body;

    // The writer loops run outside the caller's async flow, so the caller's context travels with the write.
    public OperationContext Operation { get; } = operation;

    public bool Durable { get; } = durable;

    /// <summary>Checked before the write starts; once started, a write finishes and commits or rolls back with its group.</summary>
    public CancellationToken Cancellation { get; } = cancellation;

    // Continuations run off the writer loop so callers never stall the next group.
    public TaskCompletionSource<object?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Queues <paramref name="body"/> for a writer loop and waits for its result; refused once the queue is closed.</summary>
    public static async Task<T> RunAsync<T>(ChannelWriter<QueuedWrite> queue, DatabaseMetrics metrics, string database,
        OperationContext operation, Func<DbSession, Task<T>> body, bool durable, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var item = new QueuedWrite(async s => await body(s), operation, durable, ct);
        metrics.Enqueued(); // before a writer can take it, so the queue gauge never dips below zero
        if (!queue.TryWrite(item))
        {
            metrics.Dequeued(1);
            metrics.WriteEnded(0, 1, committed: false);
            throw new ObjectDisposedException(database, "the database is closed");
        }
        return (T)(await item.Completion.Task)!;
    }
}
