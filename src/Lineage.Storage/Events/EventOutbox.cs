using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Events;

/// <summary>
/// Where an event's project comes from: its id when the operation has it, else one indexed lookup inside the
/// event's INSERT (by project name, or by the experiment a run belongs to), so no operation pays an extra round trip.
/// </summary>
public readonly record struct EventProject(string Sql, object Key)
{
    public static implicit operator EventProject(long projectId) => new("@project", projectId);

    public static EventProject Named(string name) => new("(SELECT id FROM projects WHERE name = @project)", name);

    public static EventProject OfExperiment(long experimentId) => new("(SELECT project_id FROM experiments WHERE id = @project)", experimentId);
}

/// <summary>
/// The transactional outbox (issue 14, part 1): a store operation calls <see cref="AppendAsync"/> once, inside its own
/// transaction, so the event commits or rolls back with the change. One INSERT, no read: the outbox adds one statement to
/// a commit that happens anyway. Ordering: SQLite's single writer takes <c>MAX(seq) + 1</c> at insert (commit order is
/// insert order); on PostgreSQL several servers insert concurrently, so rows are inserted without a seq and numbered after
/// commit by <see cref="EventStore.SequenceAsync"/> under an advisory lock. Thread-safe (static, no state).
/// </summary>
public static class EventOutbox
{
    private static readonly JsonSerializerOptions PayloadJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static readonly string SqliteInsert = Insert("(SELECT COALESCE(MAX(seq), 0) + 1 FROM events)");
    private static readonly string PostgresInsert = Insert("NULL");

    private static string Insert(string seq) =>
        $"INSERT INTO events (seq, time, type, project_id, actor, entity, payload) VALUES ({seq}, @time, @type, {{0}}, @actor, @entity, @payload)";

    /// <summary>
    /// Appends one event to the current transaction of <paramref name="s"/>. <paramref name="payload"/> is serialized as
    /// camelCase JSON (null members left out). Wakes this process's event feed once the transaction commits.
    /// </summary>
    public static Task AppendAsync(DbSession s, string type, EventProject project, string entity, object payload)
    {
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture,
            s.Dialect == SqlDialect.Postgres ? PostgresInsert : SqliteInsert, project.Sql);
        s.OnCommitted(EventSignal.Committed.Notify);
        return s.Connection.ExecuteAsync(sql, new
        {
            time = Clock.NowMs(),
            type,
            project = project.Key,
            actor = s.Actor,
            entity,
            payload = JsonSerializer.Serialize(payload, PayloadJson),
        }, s.Transaction);
    }
}

/// <summary>
/// A process-wide "something happened" signal: waiters get a task that completes at the next <see cref="Notify"/>.
/// Only a wake-up hint — readers always query the store, and poll on a timer too (other servers' commits send none).
/// Thread-safe.
/// </summary>
public sealed class EventSignal
{
    /// <summary>An event-bearing transaction committed in this process.</summary>
    public static EventSignal Committed { get; } = new();

    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Next => Volatile.Read(ref _next).Task;

    public void Notify() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
