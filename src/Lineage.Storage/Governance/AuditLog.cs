using Dapper;
using Lineage.Core.Governance;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Governance;

/// <summary>Filters for reading the audit log; all optional. <see cref="NewestFirst"/> pages backwards with <see cref="BeforeSeq"/>.</summary>
public sealed record AuditQuery(string? Actor = null, string? Target = null, long? From = null, long? To = null, long? AfterSeq = null, int Limit = 100,
    long? BeforeSeq = null, bool NewestFirst = false);

/// <summary>
/// The append-only, hash-chained audit log. Appends are serialized (SQLite's single writer; a
/// PostgreSQL advisory transaction lock), so the chain never forks, even with several servers on
/// one database, and sequence numbers have no gaps. Thread-safe.
/// </summary>
public sealed class AuditLog(Database db)
{
    private const long ChainLockId = 0x4c696e6541756469;

    public Task<AuditEntry> AppendAsync(AuditRecord record) => db.WriteAsync(s => AppendAsync(s, record));

    /// <summary>Appends several entries, in order, in one transaction (what the server's background writer sends).</summary>
    public Task<int> AppendManyAsync(IReadOnlyList<AuditRecord> records) =>
        db.WriteAsync(async s =>
        {
            foreach (var r in records) await AppendAsync(s, r);
            return records.Count;
        });

    /// <summary>Appends inside the caller's transaction, so a permission change and its entry commit together.</summary>
    public static async Task<AuditEntry> AppendAsync(DbSession s, AuditRecord r)
    {
        if (s.Dialect == SqlDialect.Postgres)
            await s.Connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@id)", new { id = ChainLockId }, s.Transaction);
        var head = await s.Connection.QueryFirstOrDefaultAsync<(long Seq, string Hash)?>(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", transaction: s.Transaction);
        var seq = (head?.Seq ?? 0) + 1;
        var prev = head?.Hash ?? AuditChain.Genesis;
        var time = Clock.NowMs();
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

    public Task<IReadOnlyList<AuditEntry>> ListAsync(AuditQuery q) =>
        db.ReadAsync<IReadOnlyList<AuditEntry>>(async s => (await s.Connection.QueryAsync<Row>($"""
            SELECT seq, time, actor, address, action, target, status, summary, prev_hash AS PrevHash, hash FROM audit_log
            WHERE (@Actor IS NULL OR actor = @Actor) AND (@Target IS NULL OR target LIKE @TargetLike ESCAPE '\')
              AND (@From IS NULL OR time >= @From) AND (@To IS NULL OR time < @To) AND (@AfterSeq IS NULL OR seq > @AfterSeq)
              AND (@BeforeSeq IS NULL OR seq < @BeforeSeq)
            ORDER BY seq {(q.NewestFirst ? "DESC" : "ASC")} LIMIT @Limit
            """, new { q.Actor, q.Target, TargetLike = q.Target is null ? null : "%" + Escape(q.Target) + "%", q.From, q.To, q.AfterSeq, q.BeforeSeq, q.Limit },
            s.Transaction)).Select(r => r.ToEntry()).ToList());

    /// <summary>Walks the whole chain in sequence order and names the first entry that does not hold.</summary>
    public Task<AuditVerification> VerifyAsync(IProgress<long>? progress = null) =>
        db.ReadAsync(async s =>
        {
            long count = 0;
            long? prevSeq = null;
            var prevHash = AuditChain.Genesis;
            while (true)
            {
                var page = (await s.Connection.QueryAsync<Row>("""
                    SELECT seq, time, actor, address, action, target, status, summary, prev_hash AS PrevHash, hash FROM audit_log
                    WHERE seq > @after ORDER BY seq LIMIT 5000
                    """, new { after = prevSeq ?? 0 }, s.Transaction)).Select(r => r.ToEntry()).ToList();
                if (page.Count == 0) return new AuditVerification(count, prevSeq, prevSeq is null ? null : prevHash, null);
                foreach (var e in page)
                {
                    // The first entry must be seq 1: deleting the oldest entries is a break too.
                    if (AuditChain.Check(e, prevSeq ?? 0, prevHash) is { } broken)
                        return new AuditVerification(count, prevSeq, prevSeq is null ? null : prevHash, broken);
                    (prevSeq, prevHash) = (e.Seq, e.Hash);
                    count++;
                }
                progress?.Report(count);
            }
        });

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];

    private static string Escape(string text) => text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    private sealed class Row
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
