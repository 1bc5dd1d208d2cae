using System.Text.Json.Nodes;
using Dapper;
using Lineage.Core.Governance;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Governance;

/// <summary>Filters for reading the audit log; all optional. <see cref="NewestFirst"/> pages backwards with <see cref="BeforeSeq"/>.</summary>
public sealed record AuditQuery(string? Actor = null, string? Target = null, long? From = null, long? To = null, long? AfterSeq = null, int Limit = 100,
    long? BeforeSeq = null, bool NewestFirst = false);

/// <summary>What one <see cref="AuditLog.ChainAsync"/> batch moved out of <c>audit_pending</c>.</summary>
/// <param name="MoreUnanswered">True when the batch took as many unanswered rows as it may: run another.</param>
public sealed record AuditChaining(int Answered, int Unanswered, bool MoreUnanswered);

/// <summary>
/// The append-only, hash-chained audit log. Appends are serialized (SQLite's single writer; a
/// PostgreSQL advisory transaction lock), so the chain never forks, even with several servers on
/// one database, and sequence numbers have no gaps. The entries of API writes arrive through the
/// outbox table <c>audit_pending</c> (<see cref="PendingAudit"/>, <see cref="ChainAsync"/>). Thread-safe.
/// </summary>
public sealed class AuditLog(Database db)
{
    private const long ChainLockId = 0x4c696e6541756469;

    /// <summary>Status of an entry whose request was never answered, or not before it was chained: no HTTP status.</summary>
    public const int UnansweredStatus = 0;

    /// <summary>Bounds one batch's transaction when many rows wait (a long outage of every server's writer).</summary>
    private const int MaxUnansweredPerBatch = 1000;

    public Task<AuditEntry> AppendAsync(AuditRecord record) => db.WriteAsync(s => AppendAsync(s, record));

    /// <summary>Appends inside the caller's transaction, so a permission change and its entry commit together.</summary>
    public static async Task<AuditEntry> AppendAsync(DbSession s, AuditRecord r)
    {
        await LockChainAsync(s);
        return await InsertAsync(s, await HeadAsync(s), Clock.NowMs(), r);
    }

    /// <summary>
    /// One batch of the server's background writer, in one transaction under the chain lock. Moves from
    /// <c>audit_pending</c> into the chain, in pending-id order, the rows of the <paramref name="answered"/> requests
    /// (with their final status and summary) and the rows written before <paramref name="unansweredBefore"/> that nobody
    /// answered (status <see cref="UnansweredStatus"/>, the summary says so); then appends <paramref name="records"/>
    /// (entries with no pending row: reveals, requests that wrote nothing to the database). The rows are taken with
    /// DELETE … RETURNING after the lock, so servers chaining at once never chain a row twice; an answered id that is
    /// gone was already chained, unanswered, by a server that found it past the cut-off.
    /// </summary>
    public Task<AuditChaining> ChainAsync(IReadOnlyDictionary<long, AuditRecord> answered, IReadOnlyList<AuditRecord> records, long unansweredBefore) =>
        db.WriteAsync(async s =>
        {
            await LockChainAsync(s, durableCommit: false);
            var rows = (await s.Connection.QueryAsync<PendingRow>($"""
                DELETE FROM audit_pending
                WHERE {s.Dialect.InSet("id", "answered")}
                   OR id IN (SELECT id FROM audit_pending WHERE time < @unansweredBefore ORDER BY id LIMIT @limit)
                RETURNING id, time, actor, address, action, target, summary
                """, new { answered = s.Dialect.Set(answered.Keys), unansweredBefore, limit = MaxUnansweredPerBatch }, s.Transaction))
                .OrderBy(r => r.Id).ToList();
            var head = await HeadAsync(s);
            var unanswered = 0;
            foreach (var row in rows)
            {
                if (!answered.TryGetValue(row.Id, out var final))
                {
                    final = row.Unanswered();
                    unanswered++;
                }
                var entry = await InsertAsync(s, head, row.Time, final);
                head = (entry.Seq, entry.Hash);
            }
            foreach (var r in records)
            {
                var entry = await InsertAsync(s, head, Clock.NowMs(), r);
                head = (entry.Seq, entry.Hash);
            }
            return new AuditChaining(rows.Count - unanswered, unanswered, rows.Count(r => r.Time < unansweredBefore) >= MaxUnansweredPerBatch);
        });

    /// <param name="durableCommit">
    /// False for chaining from the outbox: on PostgreSQL that transaction then commits without waiting for its WAL
    /// flush. If a crash loses it, the pending rows it deleted are back and are chained again after the grace (as
    /// unanswered), so nothing is lost; meanwhile each log-batch or OpenLineage event no longer pays a second
    /// synchronous commit for its audit entry. A later durable commit (any write) makes it durable too.
    /// </param>
    private static Task LockChainAsync(DbSession s, bool durableCommit = true) => s.Dialect.TransactionLockAsync(s, ChainLockId, durableCommit);

    private static async Task<(long Seq, string Hash)> HeadAsync(DbSession s) =>
        await s.Connection.QueryFirstOrDefaultAsync<(long Seq, string Hash)?>(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", transaction: s.Transaction) ?? (0, AuditChain.Genesis);

    /// <summary>Appends after <paramref name="head"/> (read under the chain lock); the entry returned is the new head.</summary>
    private static async Task<AuditEntry> InsertAsync(DbSession s, (long Seq, string Hash) head, long time, AuditRecord r)
    {
        var seq = head.Seq + 1;
        var prev = head.Hash;
        var actor = Clip(r.Actor, 250);
        var action = Clip(r.Action, 500);
        var target = Clip(r.Target, 2000);
        var summary = Clip(r.Summary, 8000);
        var hash = AuditChain.Hash(seq, time, actor, r.Address, action, target, r.Status, summary, prev);
        await s.Connection.ExecuteAsync("""
            INSERT INTO audit_log (seq, time, actor, address, action, target, status, summary, prev_hash, hash)
            VALUES (@seq, @time, @actor, @Address, @action, @target, @Status, @summary, @prev, @hash)
            """, new { seq, time, actor, r.Address, action, target, r.Status, summary, prev, hash }, s.Transaction);
        return new AuditEntry(seq, time, actor, r.Address, action, target, r.Status, summary, prev, hash);
    }

    /// <summary>Chained entries only: rows still in <c>audit_pending</c> have no sequence number yet (<see cref="VerifyAsync"/> counts them).</summary>
    public Task<IReadOnlyList<AuditEntry>> ListAsync(AuditQuery q) =>
        db.ReadAsync<IReadOnlyList<AuditEntry>>(async s => (await s.Connection.QueryAsync<Row>($"""
            SELECT seq, time, actor, address, action, target, status, summary, prev_hash AS PrevHash, hash FROM audit_log
            WHERE (@Actor IS NULL OR actor = @Actor) AND (@Target IS NULL OR target LIKE @TargetLike ESCAPE '\')
              AND (@From IS NULL OR time >= @From) AND (@To IS NULL OR time < @To) AND (@AfterSeq IS NULL OR seq > @AfterSeq)
              AND (@BeforeSeq IS NULL OR seq < @BeforeSeq)
            ORDER BY seq {(q.NewestFirst ? "DESC" : "ASC")} LIMIT @Limit
            """, new { q.Actor, q.Target, TargetLike = q.Target is null ? null : "%" + Escape(q.Target) + "%", q.From, q.To, q.AfterSeq, q.BeforeSeq, q.Limit },
            s.Transaction)).Select(r => r.ToEntry()).ToList());

    /// <summary>
    /// Walks the whole chain in sequence order and names the first entry that does not hold; also counts the
    /// entries still in <c>audit_pending</c>, which the chain does not cover yet.
    /// </summary>
    public Task<AuditVerification> VerifyAsync(IProgress<long>? progress = null) =>
        db.ReadAsync(async s =>
        {
            long count = 0;
            long? prevSeq = null;
            var prevHash = AuditChain.Genesis;
            AuditBreak? broken = null;
            // Entries redacted by user erasures (UserErasure): the latest erasure's hash of each is its current content's,
            // and each erasure entry commits to the digest of its rows, checked when the walk reaches it.
            var redactions = (await s.Connection.QueryAsync<(long Seq, long ErasureSeq, string Hash)>(
                "SELECT seq, erasure_seq, redacted_hash FROM audit_redactions", transaction: s.Transaction)).ToList();
            var redacted = redactions.GroupBy(r => r.Seq).ToDictionary(g => g.Key, g => g.MaxBy(r => r.ErasureSeq).Hash);
            var erasures = redactions.GroupBy(r => r.ErasureSeq)
                .ToDictionary(g => g.Key, g => (Digest: UserErasure.RedactionsDigest(g.Select(r => (r.Seq, r.Hash))), First: g.Min(r => r.Seq)));
            var vouched = new HashSet<long>();
            while (broken is null)
            {
                var page = (await s.Connection.QueryAsync<Row>("""
                    SELECT seq, time, actor, address, action, target, status, summary, prev_hash AS PrevHash, hash FROM audit_log
                    WHERE seq > @after ORDER BY seq LIMIT 5000
                    """, new { after = prevSeq ?? 0 }, s.Transaction)).Select(r => r.ToEntry()).ToList();
                if (page.Count == 0) break;
                foreach (var e in page)
                {
                    // The first entry must be seq 1: deleting the oldest entries is a break too.
                    if ((broken = AuditChain.Check(e, prevSeq ?? 0, prevHash, redacted.GetValueOrDefault(e.Seq))) is not null) break;
                    if (e.Action == UserErasure.Action)
                    {
                        var recorded = JsonNode.Parse(e.Summary)?["redactionsDigest"]?.GetValue<string>();
                        var actual = erasures.TryGetValue(e.Seq, out var rows) ? rows.Digest : UserErasure.RedactionsDigest([]);
                        if (recorded != actual)
                        {
                            broken = new AuditBreak(e.Seq, "the redactions this user erasure recorded were altered (audit_redactions)");
                            break;
                        }
                        vouched.Add(e.Seq);
                    }
                    (prevSeq, prevHash) = (e.Seq, e.Hash);
                    count++;
                }
                progress?.Report(count);
            }
            // A redaction no chained erasure entry vouches for is an edit disguised as one.
            if (broken is null && erasures.Where(x => !vouched.Contains(x.Key)).OrderBy(x => x.Value.First).FirstOrDefault() is { Key: not 0 } fake)
                broken = new AuditBreak(fake.Value.First, $"it is marked as redacted by entry {fake.Key}, which is not a user erasure in the chain");
            // Counted after the walk: a row chained meanwhile was counted in the walk, not here as well.
            var pending = await s.Connection.QuerySingleAsync<(long Count, long? Oldest)>(
                "SELECT COUNT(*), MIN(time) FROM audit_pending", transaction: s.Transaction);
            return new AuditVerification(count, prevSeq, prevSeq is null ? null : prevHash, broken, pending.Count, pending.Oldest);
        });

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];

    private static string Escape(string text) => text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    private sealed class PendingRow
    {
        public long Id { get; set; }
        public long Time { get; set; }
        public string Actor { get; set; } = "";
        public string? Address { get; set; }
        public string Action { get; set; } = "";
        public string Target { get; set; } = "";
        public string Summary { get; set; } = "";

        /// <summary>The entry of a request nobody answered: what was known before it ran, and a note that the rest is unknown.</summary>
        public AuditRecord Unanswered()
        {
            var summary = JsonNode.Parse(Summary)!.AsObject();
            summary["status"] = "unknown: not answered before its entry was chained (the server stopped, or the request ran long)";
            return new AuditRecord(Actor, Address, Action, Target, UnansweredStatus, summary.ToJsonString());
        }
    }

    /// <summary>An audit_log row as stored (also read by <see cref="UserErasure"/>, which rewrites entries).</summary>
    internal sealed class Row
    {
        public long Seq { get; set; }
        public long Time { get; set; }
        public string Actor { get; set; } = "";
        public string? Address { get; set; }
        public string Action { get; set; } = "";
        public string Target { get; set; } = "";
        public long Status { get; set; }
        public string Summary { get; set; } = "";
        public string PrevHash { get; set; } = "";
        public string Hash { get; set; } = "";

        public AuditEntry ToEntry() => new(Seq, Time, Actor, Address, Action, Target, (int)Status, Summary, PrevHash, Hash);
    }
}
