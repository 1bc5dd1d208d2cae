using System.Text.Json.Nodes;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Governance;

/// <summary>How many sealed values one key holds in one kind of field.</summary>
public sealed record KeyUsage(string KeyId, string Field, long Values);

/// <summary>
/// Key status, rotation and retirement over every place sealed values live. Rotation re-encrypts
/// in batches, each its own short transaction with conditional updates (a value changed meanwhile is
/// left to the next batch), so servers keep running; they read old and new keys from the key file
/// throughout. Needs <see cref="Database.Fields"/> with a keyring holding the old keys and, last, the new one.
/// </summary>
public sealed class KeyRotation(Database db)
{
    // substr, not LIKE: SQLite's LIKE ignores case, and "ENC:V1:…" is an ordinary value.
    private const string IsSealed = "substr(value, 1, 7) = @prefix";

    /// <summary>The key-value tables holding sealed values: table, owner column, binding, field name.</summary>
    private static readonly (string Table, string Owner, Func<long, string, string> Binding, string Field)[] Tables =
    [
        ("params", "run_id", RunAccess.ParamBinding, "run params"),
        ("run_tags", "run_id", RunAccess.TagBinding, "run tags"),
        ("experiment_tags", "experiment_id", ExperimentAccess.TagBinding, "experiment tags"),
    ];

    private const string MetadataField = "artifact metadata";

    /// <summary>Sealed values per key id and field kind, plus keys the database records with no value left (count 0).</summary>
    public Task<IReadOnlyList<KeyUsage>> StatusAsync(CancellationToken ct = default) =>
        db.ReadAsync<IReadOnlyList<KeyUsage>>(async s =>
        {
            var usage = new List<KeyUsage>();
            foreach (var (table, _, _, field) in Tables)
            {
                // Table names are the constants above, never user text.
                var rows = await s.Connection.QueryAsync<(string KeyId, long Count)>(
                    $"SELECT substr(value, 8, 8), COUNT(*) FROM {table} WHERE {IsSealed} GROUP BY substr(value, 8, 8)",
                    new { prefix = FieldEnvelope.Prefix }, s.Transaction);
                usage.AddRange(rows.Select(r => new KeyUsage(r.KeyId, field, r.Count)));
            }
            var metadata = new Dictionary<string, long>();
            foreach (var (_, _, _, text) in await SealedMetadataAsync(s, afterId: 0, limit: int.MaxValue))
            foreach (var id in SealedEntries(text).Select(e => FieldEnvelope.KeyIdOf(e.Stored)).OfType<string>())
                metadata[id] = metadata.GetValueOrDefault(id) + 1;
            usage.AddRange(metadata.Select(m => new KeyUsage(m.Key, MetadataField, m.Value)));
            var recorded = await s.Connection.QueryAsync<string>("SELECT key_id FROM encryption_keys", transaction: s.Transaction);
            usage.AddRange(recorded.Where(id => usage.All(u => u.KeyId != id)).Select(id => new KeyUsage(id, "", 0)));
            return usage.OrderBy(u => u.KeyId, StringComparer.Ordinal).ThenBy(u => u.Field, StringComparer.Ordinal).ToList();
        }, ct);

    /// <summary>
    /// Re-encrypts every sealed value not under the keyring's current key, <paramref name="batchSize"/>
    /// values per transaction, reporting the running total. Returns how many values it re-encrypted.
    /// </summary>
    public async Task<long> ReencryptAsync(int batchSize, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        var fields = FieldProtection.Of(db);
        if (fields.Keys is null) throw LineageException.Invalid("key-file", "re-encryption needs a keyring (--key-file)");
        long done = 0;
        foreach (var (table, owner, binding, _) in Tables)
        {
            while (true)
            {
                var current = fields.Keys.Current.CurrentId;
                var changed = await db.WriteAsync(async s =>
                {
                    var rows = (await s.Connection.QueryAsync<(long Owner, string Key, string Value)>(
                        $"SELECT {owner}, key, value FROM {table} WHERE {IsSealed} AND substr(value, 8, 8) <> @current ORDER BY {owner}, key LIMIT @batchSize",
                        new { prefix = FieldEnvelope.Prefix, current, batchSize }, s.Transaction)).ToList();
                    foreach (var row in rows)
                        await s.Connection.ExecuteAsync(
                            $"UPDATE {table} SET value = @fresh WHERE {owner} = @Owner AND key = @Key AND value = @Value",
                            new { fresh = fields.Reseal(s, binding(row.Owner, row.Key), row.Value), row.Owner, row.Key, row.Value }, s.Transaction);
                    return rows.Count;
                }, ct: ct);
                if (changed == 0) break;
                progress?.Report(done += changed);
            }
        }
        // Metadata rows are read in id order once: a row may mix keys, so SQL cannot tell which still need work.
        for (long after = 0; ;)
        {
            var (count, last) = await db.WriteAsync(async s =>
            {
                var currentId = fields.Keys.Current.CurrentId;
                var rows = await SealedMetadataAsync(s, after, batchSize);
                var resealed = 0;
                foreach (var (id, nameId, version, text) in rows)
                {
                    var obj = JsonNode.Parse(text)!.AsObject();
                    var stale = SealedEntries(text).Where(e => FieldEnvelope.KeyIdOf(e.Stored) != currentId).ToList();
                    foreach (var (key, stored) in stale)
                        obj[key] = fields.Reseal(s, FieldProtection.MetadataBinding(nameId, version, key), stored);
                    if (stale.Count == 0) continue;
                    await s.Connection.ExecuteAsync("UPDATE artifact_versions SET metadata = @fresh WHERE id = @id AND metadata = @text",
                        new { fresh = obj.ToJsonString(), id, text }, s.Transaction);
                    resealed += stale.Count;
                }
                return (resealed, rows.Count == 0 ? (long?)null : rows[^1].Id);
            }, ct: ct);
            if (last is null) break;
            after = last.Value;
            if (count > 0) progress?.Report(done += count);
        }
        return done;
    }

    /// <summary>Forgets a key once no value uses it (409 otherwise). The caller removes it from the key file.</summary>
    public async Task RetireAsync(string keyId, string actor, CancellationToken ct = default)
    {
        var left = (await StatusAsync(ct)).Where(u => u.KeyId == keyId).Sum(u => u.Values);
        if (left > 0)
            throw LineageException.Conflict($"{left:N0} values are still encrypted with key '{keyId}'; run 'lineage keys rotate' first");
        await db.WriteAsync(async s =>
        {
            await s.Connection.ExecuteAsync("DELETE FROM encryption_keys WHERE key_id = @keyId", new { keyId }, s.Transaction);
            return await AuditLog.AppendAsync(s, new AuditRecord(actor, null, "key.retire", $"key:{keyId}", 200, "{}"));
        }, ct: ct);
        FieldProtection.Of(db).ForgetRecorded(keyId);
    }

    private static async Task<List<(long Id, long NameId, long Version, string Metadata)>> SealedMetadataAsync(DbSession s, long afterId, int limit) =>
        (await s.Connection.QueryAsync<(long, long, long, string)>(
            "SELECT id, name_id, version, metadata FROM artifact_versions WHERE metadata LIKE @like AND id > @afterId ORDER BY id LIMIT @limit",
            new { like = "%\"" + FieldEnvelope.Prefix + "%", afterId, limit }, s.Transaction)).ToList();

    private static IEnumerable<(string Key, string Stored)> SealedEntries(string metadata)
    {
        foreach (var (key, node) in JsonNode.Parse(metadata)!.AsObject())
            if (node is JsonValue v && v.TryGetValue<string>(out var text) && FieldEnvelope.IsSealed(text))
                yield return (key, text);
    }
}
