using Dapper;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Governance;

/// <summary>
/// The audit entry the current write request owes: the outbox half of the audit log (docs/governance.md,
/// "Audit log"). The server makes one per write request the request's <see cref="OperationContext.BeforeCommit"/>
/// hook: once a write operation's body has succeeded it inserts the request's row into <c>audit_pending</c> in the same
/// transaction, so the entry commits or rolls back with the request's first write. <see cref="Id"/> is set only when
/// that transaction commits; until then every write transaction of the request (and every re-run of one, after a
/// SQLite group rollback or a PostgreSQL retry) inserts again, and later transactions insert nothing.
/// <see cref="AuditLog.ChainAsync"/> moves the row into the chain. Thread-safe.
/// </summary>
/// <param name="summary">A JSON object: what is known of the request before it runs (route, query, size).</param>
public sealed class PendingAudit(string actor, string? address, string action, string target, string summary) : ICommitHook
{
    // Unique in audit_pending: two transactions of one request running at once still leave one row.
    private readonly string _request = Guid.NewGuid().ToString("N");
    private long _id;

    public string Actor { get; } = actor;
    public string? Address { get; } = address;
    public string Action { get; } = action;
    public string Target { get; } = target;
    public string Summary { get; } = summary;

    /// <summary>The request's committed <c>audit_pending</c> row, or null while no write of the request has committed.</summary>
    public long? Id => Interlocked.Read(ref _id) is > 0 and var id ? id : (long?)null;

    public async Task BeforeCommitAsync(DbSession s)
    {
        if (Id is not null) return;
        // No row back: a concurrent transaction of this request holds it, and sets Id when it commits.
        var inserted = await s.Connection.QueryFirstOrDefaultAsync<long?>("""
            INSERT INTO audit_pending (request, time, actor, address, action, target, summary)
            VALUES (@request, @time, @Actor, @Address, @Action, @Target, @Summary)
            ON CONFLICT (request) DO NOTHING RETURNING id
            """, new { request = _request, time = Clock.NowMs(), Actor, Address, Action, Target, Summary }, s.Transaction);
        if (inserted is { } id) s.OnCommitted(() => Interlocked.CompareExchange(ref _id, id, 0));
    }
}
