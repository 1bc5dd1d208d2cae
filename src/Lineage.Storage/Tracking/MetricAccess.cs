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
    // Bounded: clients that log ever new key names (per layer, per step) must not grow the server for years;
    // cleared when full, after which a miss costs one indexed read, as the first use of a key does.
    private const int MaxCachedKeys = 100_000;
    private readonly ConcurrentDictionary<string, long> _keyIds = new(StringComparer.Ordinal);

    public async Task<long> KeyIdAsync(DbSession s, string name)
    {
        if (_keyIds.TryGetValue(name, out var id)) return id;
        id = await s.Connection.ExecuteScalarAsync<long?>(
                 "INSERT INTO metric_keys (name) VALUES (@name) ON CONFLICT (name) DO NOTHING RETURNING id", new { name }, s.Transaction)
             ?? await s.Connection.ExecuteScalarAsync<long>("SELECT id FROM metric_keys WHERE name = @name", new { name }, s.Transaction);
        s.OnCommitted(() =>
        {
            if (_keyIds.Count >= MaxCachedKeys) _keyIds.Clear();
            _keyIds.TryAdd(name, id);
        });
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
        var series = new List<(long KeyId, SeriesPoint[] Points)>(groups.Count);
        foreach (var (key, list) in groups) series.Add((await KeyIdAsync(s, key), list.ToArray()));

        // A batch costs a handful of statements whatever its number of keys (one round trip each on
        // PostgreSQL): every key's tail chunk in one read, the new chunks in one insert, the latest
        // values in one upsert. Only a tail with room left is updated per key.
        var tails = (await s.Connection.QueryAsync<ChunkTailRow>($"""
                SELECT c.id, c.key_id, c.seq, c.point_count, c.last_step, c.last_ts, c.data FROM metric_chunks c
                WHERE c.run_id = @runId AND {s.Dialect.InList("c.key_id", "keyIds")}
                  AND c.seq = (SELECT MAX(m.seq) FROM metric_chunks m WHERE m.run_id = c.run_id AND m.key_id = c.key_id){s.Dialect.ForUpdate}
                """, new { runId, keyIds = series.Select(x => x.KeyId).ToArray() }, s.Transaction))
            .ToDictionary(t => t.KeyId);
        var chunks = new List<NewChunk>();
        var topUps = new List<TopUp>();
        foreach (var (keyId, pts) in series)
            Append(keyId, pts, tails.GetValueOrDefault(keyId), topUps, chunks);
        await TopUpChunksAsync(s, topUps);
        await InsertChunksAsync(s, runId, chunks);
        await UpdateLatestAsync(s, runId, series);
    }

    private sealed record NewChunk(long KeyId, long Seq, int Count, long LastStep, long LastTs, byte[] Data);

    private sealed record TopUp(long Id, byte[] Data, long Count, long LastStep, long LastTs);

    /// <summary>Tops up the key's last chunk when it has room (so one-point-at-a-time logging stays compact) and lays out new chunks for the rest.</summary>
    private static void Append(long keyId, SeriesPoint[] series, ChunkTailRow? tail, List<TopUp> topUps, List<NewChunk> chunks)
    {
        var next = 0;
        if (tail is not null && tail.PointCount < MetricChunkCodec.Capacity)
        {
            var take = (int)Math.Min(MetricChunkCodec.Capacity - tail.PointCount, series.Length);
            var more = MetricChunkCodec.Encode(series.AsSpan(0, take), tail.LastStep, tail.LastTs);
            topUps.Add(new TopUp(tail.Id, Concat(tail.Data, more), tail.PointCount + take, series[take - 1].Step, series[take - 1].Timestamp));
            next = take;
        }
        var seq = tail is null ? 0 : tail.Seq + 1;
        while (next < series.Length)
        {
            var take = Math.Min(MetricChunkCodec.Capacity, series.Length - next);
            var last = series[next + take - 1];
            chunks.Add(new NewChunk(keyId, seq++, take, last.Step, last.Timestamp, MetricChunkCodec.Encode(series.AsSpan(next, take), 0, 0)));
            next += take;
        }
    }

    /// <summary>
    /// A multi-row VALUES list — "(@v0_0, @v0_1, …), (@v1_0, …)" — with its parameters, one column per selector:
    /// how a batch writes all its keys in one statement (one round trip on PostgreSQL).
    /// </summary>
    private static (string Rows, DynamicParameters Parameters) Values<T>(IReadOnlyList<T> items, params Func<T, object?>[] columns)
    {
        var p = new DynamicParameters();
        var rows = new System.Text.StringBuilder();
        for (var i = 0; i < items.Count; i++)
        {
            rows.Append(i == 0 ? "(" : ", (");
            for (var c = 0; c < columns.Length; c++)
            {
                rows.Append(c == 0 ? "" : ", ").Append("@v").Append(i).Append('_').Append(c);
                p.Add($"v{i}_{c}", columns[c](items[i]));
            }
            rows.Append(')');
        }
        return (rows.ToString(), p);
    }

    /// <summary>Every topped-up tail in one UPDATE … FROM (VALUES …): VALUES columns are column1… on both databases.</summary>
    private static async Task TopUpChunksAsync(DbSession s, List<TopUp> topUps)
    {
        if (topUps.Count == 0) return;
        var (rows, p) = Values(topUps, t => t.Id, t => t.Data, t => t.Count, t => t.LastStep, t => t.LastTs);
        await s.Connection.ExecuteAsync($"""
            UPDATE metric_chunks SET data = v.column2, point_count = v.column3, last_step = v.column4, last_ts = v.column5
            FROM (VALUES {rows}) AS v WHERE metric_chunks.id = v.column1
            """, p, s.Transaction);
    }

    private static async Task InsertChunksAsync(DbSession s, long runId, List<NewChunk> chunks)
    {
        if (chunks.Count == 0) return;
        var (rows, p) = Values(chunks, _ => runId, c => c.KeyId, c => c.Seq, c => c.Count, c => c.LastStep, c => c.LastTs, c => c.Data);
        var inserted = await s.Connection.ExecuteAsync($"""
            INSERT INTO metric_chunks (run_id, key_id, seq, point_count, last_step, last_ts, data) VALUES {rows}
            ON CONFLICT (run_id, key_id, seq) DO NOTHING
            """, p, s.Transaction);
        // Another server appended to one of these series since its tail was read: start over.
        if (inserted != chunks.Count)
            throw new RetryTransactionException($"a metric chunk of run {runId} was written concurrently");
    }

    /// <summary>Latest = highest step, then latest timestamp (ties: the later-logged point), as in MLflow.</summary>
    private static Task UpdateLatestAsync(DbSession s, long runId, List<(long KeyId, SeriesPoint[] Points)> series)
    {
        var latest = series.Select(x => (x.KeyId, Best: x.Points.Aggregate((best, point) =>
            point.Step > best.Step || (point.Step == best.Step && point.Timestamp >= best.Timestamp) ? point : best))).ToList();
        var (rows, p) = Values(latest, _ => runId, l => l.KeyId, l => double.IsNaN(l.Best.Value) ? null : l.Best.Value,
            l => l.Best.Step, l => l.Best.Timestamp);
        return s.Connection.ExecuteAsync($"""
            INSERT INTO latest_metrics (run_id, key_id, value, step, timestamp) VALUES {rows}
            ON CONFLICT (run_id, key_id) DO UPDATE SET value = excluded.value, step = excluded.step, timestamp = excluded.timestamp
            WHERE excluded.step > latest_metrics.step
               OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)
            """, p, s.Transaction);
    }

    /// <summary>
    /// History in logged order, starting at chunk <paramref name="fromSeq"/>, point
    /// <paramref name="skip"/>; returns at most <paramref name="limit"/> points and where to resume.
    /// </summary>
    /// <remarks>
    /// Chunks are read in batches of about as many as the page needs, each batch read to its end. A streamed query left
    /// early is what a page would otherwise do, and Dapper answers that with a cancel request to the server: on
    /// PostgreSQL a new TCP connection and a wait per page (15× slower in a test), racing the pooled connection's next use.
    /// </remarks>
    public static async Task<(List<SeriesPoint> Points, (long Seq, int Skip)? Next)> HistoryAsync(
        DbSession s, long runId, long keyId, long fromSeq, int skip, int limit)
    {
        var points = new List<SeriesPoint>(Math.Min(limit, 4096));
        var decoded = new List<SeriesPoint>(MetricChunkCodec.Capacity);
        var from = fromSeq;
        while (true)
        {
            var wanted = (int)Math.Clamp(((long)skip + limit - points.Count) / MetricChunkCodec.Capacity + 2, 2, MaxChunksPerRead);
            var chunks = (await s.Connection.QueryAsync<ChunkRow>(
                "SELECT seq, data FROM metric_chunks WHERE run_id = @runId AND key_id = @keyId AND seq >= @from ORDER BY seq LIMIT @wanted",
                new { runId, keyId, from, wanted }, s.Transaction)).AsList();
            foreach (var chunk in chunks)
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
            if (chunks.Count < wanted) return (points, null);
            from = chunks[^1].Seq + 1;
        }
    }

    /// <summary>Chunks (of up to <see cref="MetricChunkCodec.Capacity"/> points) one history read holds in memory at once.</summary>
    private const int MaxChunksPerRead = 256;

    /// <summary>
    /// One metric of several runs (internal ids), each run's history reduced to <paramref name="maxPoints"/> as soon as
    /// its last chunk is read (one query, ordered by run): one run's points are in memory at a time, not every run's
    /// (1,000 runs of 1,000 steps held 24 MB of points before the first was reduced). With the count of points read.
    /// </summary>
    public static async Task<Dictionary<long, RunSeriesRead>> HistoriesReducedAsync(DbSession s, IReadOnlyList<long> runIds, long keyId, int maxPoints)
    {
        var result = new Dictionary<long, RunSeriesRead>(runIds.Count);
        var points = new List<SeriesPoint>();
        long? current = null;
        void Close()
        {
            // Reduce answers a series that fits unchanged: copy it out of the reused list.
            var reduced = MetricDownsampling.Reduce(points, maxPoints);
            result[current!.Value] = new RunSeriesRead(ReferenceEquals(reduced, points) ? points.ToArray() : reduced, points.Count);
            points.Clear();
        }
        await foreach (var chunk in s.Connection.QueryUnbufferedAsync<RunChunkRow>(
                           $"SELECT run_id, seq, data FROM metric_chunks WHERE key_id = @keyId AND {s.Dialect.InSet("run_id", "runIds")} ORDER BY run_id, seq",
                           new { keyId, runIds = s.Dialect.Set(runIds) }, s.Transaction))
        {
            if (current != chunk.RunId)
            {
                if (current is not null) Close();
                current = chunk.RunId;
            }
            MetricChunkCodec.Decode(chunk.Data, points);
        }
        if (current is not null) Close();
        return result;
    }

    private static byte[] Concat(byte[] a, byte[] b)
    {
        var result = new byte[a.Length + b.Length];
        a.CopyTo(result, 0);
        b.CopyTo(result, a.Length);
        return result;
    }
}
