using Dapper;
using Lineage.Storage.Engine;
using Lineage.Core.Governance;

namespace Lineage.Storage.Tracking;

/// <summary>
/// The param, metric and tag keys used in an experiment's active runs, and the commonest values of one param or
/// tag: what a search box completes. Runs statements in the caller's transaction.
/// </summary>
internal static class FieldAccess
{
    public static async Task<(List<string> Params, List<string> Metrics, List<string> Tags)> KeysAsync(DbSession s, long experimentId, int limit)
    {
        var args = new { experimentId, limit };
        var runs = "FROM runs r WHERE r.experiment_id = @experimentId AND r.lifecycle = 'active'";
        var parameters = await s.Connection.QueryAsync<string>(
            $"SELECT DISTINCT p.key FROM params p WHERE p.run_id IN (SELECT r.id {runs}) ORDER BY p.key LIMIT @limit", args, s.Transaction);
        var metrics = await s.Connection.QueryAsync<string>(
            $"SELECT k.name FROM metric_keys k WHERE k.id IN (SELECT m.key_id FROM latest_metrics m WHERE m.run_id IN (SELECT r.id {runs})) ORDER BY k.name LIMIT @limit",
            args, s.Transaction);
        var tags = await s.Connection.QueryAsync<string>(
            $"SELECT DISTINCT t.key FROM run_tags t WHERE t.run_id IN (SELECT r.id {runs}) ORDER BY t.key LIMIT @limit", args, s.Transaction);
        return (parameters.ToList(), metrics.ToList(), tags.ToList());
    }

    /// <summary>Most used first. Sensitive keys and sealed values are never offered (they are not shown to every reader).</summary>
    public static async Task<List<string>> ValuesAsync(DbSession s, long experimentId, bool tag, string key, string prefix, int limit)
    {
        if (s.Fields.IsSensitive(key)) return [];
        var table = tag ? "run_tags" : "params";
        var values = await s.Connection.QueryAsync<string>($"""
            SELECT v.value FROM {table} v
            WHERE v.key = @key AND v.run_id IN (SELECT r.id FROM runs r WHERE r.experiment_id = @experimentId AND r.lifecycle = 'active')
              AND substr(v.value, 1, @length) = @prefix
            GROUP BY v.value ORDER BY COUNT(*) DESC, v.value LIMIT @take
            """, new { key, experimentId, prefix, length = prefix.Length, take = limit * 2 }, s.Transaction);
        return values.Where(v => !FieldEnvelope.IsSealed(v)).Take(limit).ToList();
    }
}
