using System.Security.Cryptography;
using System.Text;
using Dapper;
using Lineage.Storage.Engine;

namespace Lineage.Tests.Support;

/// <summary>
/// A digest of everything a store holds, to prove that a rejected request changed nothing: every row of every
/// table, rendered as text and sorted (row order is not part of the data). The audit tables are left out (a
/// refused request is audited, by design) and so are the idempotency records. An event's public number
/// (<c>events.seq</c>) is left out too: on PostgreSQL the sequencer assigns it after commit, in the background.
/// </summary>
public static class StoreDigest
{
    private static readonly HashSet<string> Excluded = ["audit_log", "audit_pending", "idempotency_keys"];

    public static async Task<string> OfAsync(Database db) =>
        string.Join(",", (await TablesAsync(db)).Select(t => $"{t.Key}={t.Value}"));

    /// <summary>The digest of each table, by name: <see cref="Changed"/> tells which tables differ between two of them.</summary>
    public static Task<SortedDictionary<string, string>> TablesAsync(Database db) =>
        db.ReadAsync(async s =>
        {
            var tables = (await s.Connection.QueryAsync<string>(s.Dialect.TablesQuery, transaction: s.Transaction))
                .Where(t => !Excluded.Contains(t)).Order(StringComparer.Ordinal).ToList();
            var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var table in tables)
            {
                var rows = new List<string>();
                await using (var reader = await s.Connection.ExecuteReaderAsync($"SELECT * FROM {table}", transaction: s.Transaction))
                {
                    while (await reader.ReadAsync())
                    {
                        var cells = new string[reader.FieldCount];
                        for (var i = 0; i < cells.Length; i++)
                            cells[i] = table == "events" && reader.GetName(i) == "seq" ? "" : reader.IsDBNull(i) ? "∅" : reader.GetValue(i) is byte[] b ? Convert.ToHexString(b) : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!;
                        rows.Add(string.Join('\u001f', cells));
                    }
                }
                rows.Sort(StringComparer.Ordinal);
                result[table] = $"{rows.Count}:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001e', rows))))[..16];
            }
            return result;
        });

    /// <summary>The tables whose digests differ between two <see cref="OfAsync"/> results.</summary>
    public static string Changed(string before, string after)
    {
        var a = before.Split(',').ToHashSet();
        return string.Join(", ", after.Split(',').Where(t => !a.Contains(t)).Select(t => t.Split('=')[0]));
    }
}
