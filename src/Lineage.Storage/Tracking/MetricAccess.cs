using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Dapper;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Tracking;

/// <summary>
/// Data access for metric series: interned keys, chunked history, the latest-value table.
/// Runs statements in the caller's transaction; never commits.
/// </summary>
internal sealed class MetricAccess
{
    // Key name -> id. Ids never change once committed, so the cache is shared by every
    // operation and process-local; entries are added only after their row is committed.
    private readonly ConcurrentDictionary<string, long> _keyIds = new(StringComparer.Ordinal);

    public async Task<long> KeyIdAsync(DbSession s, string name)
    {
        if (_keyIds.TryGetValue(name, out var id)) return id;
        id = await s.Connection.ExecuteScalarAsync<long?>(
                 "INSERT INTO metric_keys (name) VALUES (@name) ON CONFLICT (name) DO NOTHING RETURNING id", new { name }, s.Transaction)
             ?? await s.Connection.ExecuteScalarAsync<long>("SELECT id FROM metric_keys WHERE name = @name", new { name }, s.Transaction);
        s.OnCommitted(() => _keyIds.TryAdd(name, id));
        return id;
    }

    public Task<long?> FindKeyIdAsync(DbSession s, string name) =>
        _keyIds.TryGetValue(name, out var id)
            ? Task.FromResult<long?>(id)
            : s.Connection.ExecuteScalarAsync<long?>("SELECT id FROM metric_keys WHERE name = @name", new { name }, s.Transaction);

    /// <summary>Appends points (grouped by key, in logged order) and moves each key's latest value.</summary>
    public async Task LogAsync(DbSession s, long runId, IReadOnlyList<MetricPoint> points)
    {
        if (points.Count == 0) return;
        var groups = new Dictionary<string, List<SeriesPoint>>(StringComparer.Ordinal);
        foreach (var p in points)
        {
            ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(groups, p.Key, out _);
            (list ??= []).Add(new SeriesPoint(p.Value, p.Step, p.Timestamp));
        }
        foreach (var (key, series) in groups)
        {
            var keyId = await KeyIdAsync(s, key);
            await AppendAsync(s, runId, keyId, CollectionsMarshal.AsSpan(series).ToArray());
            await UpdateLatestAsync(s, runId, keyId, series);
        }
    }

    private static async Task AppendAsync(DbSession s, long runId, long keyId, SeriesPoint[] series)
    {
        var tail = await s.Connection.QueryFirstOrDefaultAsync<ChunkTailRow>(
            $"SELECT id, seq, point_count, last_step, last_ts, data FROM metric_chunks WHERE run_id = @runId AND key_id = @keyId ORDER BY seq DESC LIMIT 1{s.Dialect.ForUpdate}",
            new { runId, keyId }, s.Transaction);
        var next = 0;
        if (tail is not null && tail.PointCount < MetricChunkCodec.Capacity)
        {
            // Top up the last chunk first so one-point-at-a-time logging stays compact.
            var take = (int)Math.Min(MetricChunkCodec.Capacity - tail.PointCount, series.Length);
            var more = MetricChunkCodec.Encode(series.AsSpan(0, take), tail.LastStep, tail.LastTs);
            await s.Connection.ExecuteAsync(
                "UPDATE metric_chunks SET data = @data, point_count = @count, last_step = @lastStep, last_ts = @lastTs WHERE id = @id",
                new { id = tail.Id, data = Concat(tail.Data, more), count = tail.PointCount + take, lastStep = series[take - 1].Step, lastTs = series[take - 1].Timestamp },
                s.Transaction);
            next = take;
        }
        var seq = tail is null ? 0 : tail.Seq + 1;
        while (next < series.Length)
        {
            var take = Math.Min(MetricChunkCodec.Capacity, series.Length - next);
            var last = series[next + take - 1];
            var inserted = await s.Connection.ExecuteAsync("""
                INSERT INTO metric_chunks (run_id, key_id, seq, point_count, last_step, last_ts, data)
                VALUES (@runId, @keyId, @seq, @count, @lastStep, @lastTs, @data)
                ON CONFLICT (run_id, key_id, seq) DO NOTHING
                """, new { runId, keyId, seq, count = take, lastStep = last.Step, lastTs = last.Timestamp,
                    data = MetricChunkCodec.Encode(series.AsSpan(next, take), 0, 0) }, s.Transaction);
            if (inserted == 0)
                throw new RetryTransactionException($"metric chunk {seq} of run {runId} key {keyId} was written concurrently");
            next += take;
            seq++;
        }
    }

    /// <summary>Latest = highest step, then latest timestamp (ties: the later-logged point), as in MLflow.</summary>
    private static Task UpdateLatestAsync(DbSession s, long runId, long keyId, List<SeriesPoint> series)
    {
        var best = series[0];
        foreach (var p in series)
            if (p.Step > best.Step || (p.Step == best.Step && p.Timestamp >= best.Timestamp)) best = p;
        return s.Connection.ExecuteAsync("""
            INSERT INTO latest_metrics (run_id, key_id, value, step, timestamp) VALUES (@runId, @keyId, @value, @step, @timestamp)
            ON CONFLICT (run_id, key_id) DO UPDATE SET value = excluded.value, step = excluded.step, timestamp = excluded.timestamp
            WHERE excluded.step > latest_metrics.step
               OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)
            """, new { runId, keyId, value = double.IsNaN(best.Value) ? (double?)null : best.Value, step = best.Step, timestamp = best.Timestamp },
            s.Transaction);
    }

    /// <summary>
    /// History in logged order, starting at chunk <paramref name="fromSeq"/>, point
    /// <paramref name="skip"/>; returns at most <paramref name="limit"/> points and where to resume.
    /// </summary>
    public static async Task<(List<SeriesPoint> Points, (long Seq, int Skip)? Next)> HistoryAsync(
        DbSession s, long runId, long keyId, long fromSeq, int skip, int limit)
    {
        var points = new List<SeriesPoint>(Math.Min(limit, 4096));
        var decoded = new List<SeriesPoint>(MetricChunkCodec.Capacity);
        // Streamed, so a page of a long series reads only the chunks it needs.
        await foreach (var chunk in s.Connection.QueryUnbufferedAsync<ChunkRow>(
                           "SELECT seq, data FROM metric_chunks WHERE run_id = @runId AND key_id = @keyId AND seq >= @fromSeq ORDER BY seq",
                           new { runId, keyId, fromSeq }, s.Transaction))
        {
            decoded.Clear();
            MetricChunkCodec.Decode(chunk.Data, decoded);
            var start = chunk.Seq == fromSeq ? skip : 0;
            for (var i = start; i < decoded.Count; i++)
            {
                if (points.Count == limit) return (points, (chunk.Seq, i));
                points.Add(decoded[i]);
            }
        }
        return (points, null);
    }

    private static byte[] Concat(byte[] a, byte[] b)
    {
        var result = new byte[a.Length + b.Length];
        a.CopyTo(result, 0);
        b.CopyTo(result, a.Length);
        return result;
    }
}
