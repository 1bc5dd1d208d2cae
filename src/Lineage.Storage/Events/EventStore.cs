using System.Globalization;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Events;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Events;

/// <summary>
/// Reading the event log, and numbering it on PostgreSQL. Reads are project-scoped like every entity read
/// (<see cref="DbSession.Visible"/>): a caller sees only events of projects it may read. Thread-safe.
/// </summary>
public sealed class EventStore(Database db)
{
    /// <summary>Advisory lock key of the sequencer (PostgreSQL): one numbering transaction at a time across servers.</summary>
    public const long SequencerLockId = 0x4c_4e_45_56_53_45_51; // "LNEVSEQ"

    public const int MaxPage = 1000;

    public Database Database => db;

    /// <summary>Events after <see cref="EventQuery.After"/> in seq order. 404 for an unknown or hidden project; 400 for a bad type filter.</summary>
    public Task<IReadOnlyList<DomainEvent>> ListAsync(EventQuery q)
    {
        CheckTypes(q.Types);
        if (q.Limit < 1 || q.Limit > MaxPage) throw LineageException.Invalid("limit", $"'limit' must be between 1 and {MaxPage}, got {q.Limit}");
        if (q.After < 0) throw LineageException.Invalid("after", $"'after' must be an event id (0 or more), got {q.After}");
        return db.ReadAsync(s => ListAsync(s, q));
    }

    /// <summary>The highest numbered event's seq (0 for none), unscoped: a position, not content.</summary>
    public Task<long> HeadAsync() => db.ReadAsync(HeadAsync);

    internal static async Task<long> HeadAsync(DbSession s) =>
        await s.Connection.ExecuteScalarAsync<long?>("SELECT MAX(seq) FROM events", transaction: s.Transaction) ?? 0;

    /// <summary>
    /// The names of the projects the caller may read, or null for every project: what a stream filters shared events by
    /// (<see cref="ProjectScope"/> is fixed for a request, so the set holds for the stream's life). Project names never change.
    /// </summary>
    public Task<IReadOnlySet<string>?> ReadableProjectsAsync() =>
        db.ReadAsync<IReadOnlySet<string>?>(async s => s.Scope is null ? null
            : (await s.Connection.QueryAsync<string>($"SELECT name FROM projects WHERE 1 = 1{s.Visible("id")}", transaction: s.Transaction))
                .ToHashSet(StringComparer.Ordinal));

    public static void CheckTypes(IReadOnlyList<string> types)
    {
        foreach (var t in types)
            if (!EventTypes.IsValidPattern(t))
                throw LineageException.Invalid("type", $"unknown event type '{Validate.Shorten(t)}'; use one of {string.Join(", ", EventTypes.All)}, 'entity.*' or '*'");
    }

    internal static async Task<IReadOnlyList<DomainEvent>> ListAsync(DbSession s, EventQuery q)
    {
        long? projectId = q.Project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, q.Project)).Id;
        // Exact types go to SQL (the type index); prefixes and '*' are filtered here, reading on until the page is full.
        var exact = q.Types.Count > 0 && q.Types.All(t => !t.EndsWith('*')) ? q.Types : null;
        var result = new List<DomainEvent>();
        var after = q.After;
        while (true)
        {
            var rows = (await s.Connection.QueryAsync<EventRow>($"""
                SELECT e.seq, e.type, p.name AS project, e.time, e.actor, e.entity, e.payload
                FROM events e JOIN projects p ON p.id = e.project_id
                WHERE e.seq > @after{(projectId is null ? "" : " AND e.project_id = @projectId")}{(exact is null ? "" : " AND " + s.Dialect.InList("e.type", "types"))}{s.Visible("e.project_id")}
                ORDER BY e.seq LIMIT @limit
                """, new { after, projectId, types = exact?.ToArray(), limit = q.Limit }, s.Transaction)).ToList();
            foreach (var r in rows)
                if (q.Types.Count == 0 || q.Types.Any(t => EventTypes.Matches(t, r.Type)))
                {
                    result.Add(r.ToModel());
                    if (result.Count == q.Limit) return result;
                }
            if (rows.Count < q.Limit || exact is not null) return result;
            after = rows[^1].Seq;
        }
    }

    /// <summary>
    /// PostgreSQL: numbers committed events that have no seq yet, in insertion order, after the highest seq, at most
    /// 5,000 a call; returns how many. Under a transaction-level advisory lock, taken before the statement's snapshot,
    /// so the statement sees every row committed before the lock and numbers them after every seq already given: a row
    /// that commits later is numbered later. Readers read only numbered rows, so a reader that has seen seq n never
    /// misses a row that gets a smaller seq (none can). SQLite numbers at insert and has nothing to do here.
    /// The numbering commits without waiting for the disk (<c>durable: false</c>): every durable commit after it (a webhook's
    /// fan-out, an alert) flushes it first, so nothing kept depends on a number that could be lost; only an OS crash within
    /// a fraction of a second can undo it, and the events are then numbered again (their rows were durable all along).
    /// </summary>
    public async Task<int> SequenceAsync(CancellationToken ct = default)
    {
        if (db.Dialect != SqlDialect.Postgres) return 0;
        var numbered = await db.WriteAsync(async s =>
        {
            // Two statements in one round trip: in READ COMMITTED each takes its own snapshot, so the UPDATE's is taken after the lock.
            await using var both = await s.Connection.QueryMultipleAsync("""
                SELECT pg_advisory_xact_lock(@id);
                WITH waiting AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM (SELECT id FROM events WHERE seq IS NULL ORDER BY id LIMIT 5000) w),
                     head AS (SELECT COALESCE(MAX(seq), 0) AS seq FROM events),
                     numbered AS (UPDATE events e SET seq = head.seq + waiting.n FROM waiting, head WHERE e.id = waiting.id RETURNING 1)
                SELECT COUNT(*) FROM numbered
                """, new { id = SequencerLockId }, s.Transaction);
            await both.ReadAsync();
            return (int)await both.ReadSingleAsync<long>();
        }, ct: ct, durable: false);
        return numbered;
    }

    private sealed class EventRow
    {
        public long Seq { get; set; }
        public string Type { get; set; } = "";
        public string Project { get; set; } = "";
        public long Time { get; set; }
        public string? Actor { get; set; }
        public string Entity { get; set; } = "";
        public string Payload { get; set; } = "{}";

        public DomainEvent ToModel() => new(Seq, Type, Project, Time, Actor, Entity, Payload);
    }
}
