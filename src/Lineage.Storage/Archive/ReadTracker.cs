using System.Collections.Concurrent;
using Dapper;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Archive;

/// <summary>
/// Remembers which blobs were read, for archival's "not read for N days" (issue 13). A read only adds the digest to an
/// in-memory set; <see cref="FlushAsync"/> (the server's background flush, every minute and at shutdown) writes the whole
/// set in one statement, so serving content never waits for a database write. A digest read a thousand times between two
/// flushes costs one row update. Losing the set in a crash loses at most one interval of read times: archival thresholds
/// are days. Thread-safe.
/// </summary>
public sealed class ReadTracker(Database db)
{
    private const int DigestsPerStatement = 5000;

    private ConcurrentDictionary<string, byte> _read = new(StringComparer.Ordinal);

    public void Record(string digest) => _read.TryAdd(digest, 0);

    /// <summary>Writes the digests read since the last flush with the current time; returns how many. On failure they are kept for the next flush.</summary>
    public async Task<int> FlushAsync(CancellationToken ct = default)
    {
        var taken = Interlocked.Exchange(ref _read, new ConcurrentDictionary<string, byte>(StringComparer.Ordinal));
        if (taken.IsEmpty) return 0;
        var digests = taken.Keys.ToList();
        try
        {
            var now = Clock.NowMs();
            await db.WriteAsync(async s =>
            {
                // SQLite needs the WHERE to parse an upsert whose rows come from a SELECT.
                var source = s.Dialect == SqlDialect.Postgres ? "unnest(@digests) AS d(value)" : "json_each(@digests) WHERE true";
                foreach (var chunk in digests.Chunk(DigestsPerStatement))
                    await s.Connection.ExecuteAsync($"""
                        INSERT INTO blob_reads (digest, last_read_at) SELECT value, @now FROM {source}
                        ON CONFLICT (digest) DO UPDATE SET last_read_at = excluded.last_read_at
                        """, new { digests = s.Dialect.Set(chunk), now }, s.Transaction);
                return 0;
            }, ct: ct);
            return digests.Count;
        }
        catch
        {
            foreach (var d in digests) _read.TryAdd(d, 0);
            throw;
        }
    }
}
