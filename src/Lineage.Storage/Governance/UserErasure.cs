using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Governance;

/// <summary>What an erasure replaced: rows per table.column, and the audit entries redacted.</summary>
public sealed record ErasureReport(bool DryRun, string Pseudonym, IReadOnlyDictionary<string, long> Rows, long AuditEntries, long? ErasureSeq);

/// <summary>
/// Erasure of one user's name (issue 13): every provenance column, the run's user and the user tags
/// (<c>mlflow.user</c>, <c>lineage.user</c>) holding the name (or <c>unverified:NAME</c>) get a random pseudonym, the
/// user's account (if any) is renamed, its password, tokens and roles removed, and the name is redacted from audit
/// entries (actor, path segments of the target, JSON string values of the summary). One transaction.
/// </summary>
/// <remarks>
/// The audit chain stays verifiable without being rewritten: a redacted entry keeps its stored hash (over the original
/// text, which the next entry links to), and <c>audit_redactions</c> holds the hash of its redacted fields. The erasure's own
/// entry (<c>user.erase</c>) records a digest over those rows, so <see cref="AuditLog.VerifyAsync"/> accepts an entry whose
/// content differs from its hash only when a chained erasure vouches for exactly that content. What was erased cannot be
/// recovered: the pseudonym is random, not derived from the name.
/// </remarks>
public sealed class UserErasure(Database db)
{
    public const string Action = "user.erase";

    /// <summary>(table, column) pairs that hold a user's name as provenance.</summary>
    private static readonly (string Table, string Column)[] NameColumns =
    [
        ("runs", "user_name"), ("runs", "created_by"), ("runs", "updated_by"),
        ("experiments", "created_by"), ("experiments", "updated_by"),
        ("projects", "created_by"), ("projects", "updated_by"),
        ("artifact_versions", "created_by"), ("artifact_versions", "updated_by"),
        ("artifact_edits", "edited_by"), ("artifact_aliases", "created_by"), ("artifact_aliases", "updated_by"),
        ("artifact_alias_history", "changed_by"),
        ("registered_models", "created_by"), ("registered_models", "updated_by"),
        ("model_approvers", "user_name"), ("model_approvers", "added_by"),
        ("model_versions", "created_by"), ("model_versions", "updated_by"),
        ("model_aliases", "created_by"), ("model_aliases", "updated_by"), ("model_history", "changed_by"),
        ("promotion_requests", "requested_by"), ("promotion_requests", "decided_by"),
        ("deployments", "created_by"), ("deployments", "updated_by"), ("deployment_events", "actor"),
        ("dataset_schemas", "created_by"), ("dataset_facts", "created_by"), ("dataset_validations", "run_by"),
        ("executions", "created_by"), ("executions", "updated_by"), ("contexts", "created_by"), ("contexts", "updated_by"),
        ("principals", "created_by"), ("project_roles", "granted_by"), ("audit_pending", "actor"),
    ];

    private static readonly string[] UserTags = ["mlflow.user", "lineage.user"];

    public Task<ErasureReport> EraseAsync(string name, bool dryRun, string actor, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(name)) throw LineageException.Invalid("name", "give the user name to erase");
        if (name.StartsWith("erased-user-", StringComparison.Ordinal))
            throw LineageException.Invalid("name", $"'{name}' is already a pseudonym of an erased user");
        var pseudonym = "erased-user-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var forms = new[] { name, "unverified:" + name };
        return db.WriteAsync(async s =>
        {
            var c = s.Connection;
            var rows = new Dictionary<string, long>();
            async Task Run(string key, string sql, object args)
            {
                var n = dryRun
                    ? await c.ExecuteScalarAsync<long>(sql, args, s.Transaction)
                    : await c.ExecuteAsync(sql, args, s.Transaction);
                if (n > 0) rows[key] = n;
            }
            foreach (var (table, column) in NameColumns)
            {
                // Both forms map to the pseudonym (the unverified form keeps its prefix, so a reader still sees it was unverified).
                foreach (var (form, replacement) in new[] { (forms[0], pseudonym), (forms[1], "unverified:" + pseudonym) })
                    await Run($"{table}.{column}", dryRun
                            ? $"SELECT COUNT(*) FROM {table} WHERE {column} = @form"
                            : $"UPDATE {table} SET {column} = @replacement WHERE {column} = @form",
                        new { form, replacement });
            }
            await Run("run_tags (user tags)", dryRun
                    ? $"SELECT COUNT(*) FROM run_tags WHERE {s.Dialect.InList("key", "keys")} AND value = @name"
                    : $"UPDATE run_tags SET value = @pseudonym WHERE {s.Dialect.InList("key", "keys")} AND value = @name",
                new { keys = UserTags, name, pseudonym });
            var principal = await c.QueryFirstOrDefaultAsync<long?>("SELECT id FROM principals WHERE name = @name", new { name }, s.Transaction);
            if (principal is { } pid)
            {
                rows["principals (account closed)"] = 1;
                if (!dryRun)
                {
                    await c.ExecuteAsync("UPDATE api_tokens SET revoked_at = @now WHERE principal_id = @pid AND revoked_at IS NULL",
                        new { pid, now = Clock.NowMs() }, s.Transaction);
                    await c.ExecuteAsync("DELETE FROM project_roles WHERE principal_id = @pid", new { pid }, s.Transaction);
                    await c.ExecuteAsync("UPDATE principals SET name = @pseudonym, password_hash = NULL, is_admin = @no WHERE id = @pid",
                        new { pid, pseudonym, no = false }, s.Transaction);
                }
            }

            var redactions = await RedactAuditAsync(s, name, pseudonym, dryRun);
            if (dryRun) return new ErasureReport(true, pseudonym, rows, redactions.Count, null);
            var digest = RedactionsDigest(redactions);
            var summary = new Dictionary<string, object>
            {
                ["pseudonym"] = pseudonym, ["redactedEntries"] = redactions.Count, ["redactionsDigest"] = digest,
                ["rows"] = rows,
            };
            // The entry names only the pseudonym: the erasure must not write the name back.
            var entry = await AuditLog.AppendAsync(s, new AuditRecord(actor, null, Action, $"principal:{pseudonym}", 200, JsonSerializer.Serialize(summary)));
            if (redactions.Count > 0)
                await c.ExecuteAsync("INSERT INTO audit_redactions (seq, erasure_seq, redacted_hash) VALUES (@Seq, @erasure, @Hash)",
                    redactions.Select(r => new { r.Seq, erasure = entry.Seq, r.Hash }), s.Transaction);
            return new ErasureReport(false, pseudonym, rows, redactions.Count, entry.Seq);
        }, ct: ct);
    }

    /// <summary>SHA-256 over "seq:hash" lines in sequence order: what the erasure entry commits to.</summary>
    public static string RedactionsDigest(IEnumerable<(long Seq, string Hash)> redactions)
    {
        var text = new StringBuilder();
        foreach (var (seq, hash) in redactions.OrderBy(r => r.Seq)) text.Append(seq).Append(':').Append(hash).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static async Task<List<(long Seq, string Hash)>> RedactAuditAsync(DbSession s, string name, string pseudonym, bool dryRun)
    {
        // A coarse LIKE finds candidates; the exact rules below decide. The name is a bound parameter, escaped for LIKE.
        var like = "%" + name.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
        var entries = (await s.Connection.QueryAsync<AuditLog.Row>("""
            SELECT seq, time, actor, address, action, target, status, summary, prev_hash AS PrevHash FROM audit_log
            WHERE actor LIKE @like ESCAPE '\' OR target LIKE @like ESCAPE '\' OR summary LIKE @like ESCAPE '\'
            ORDER BY seq
            """, new { like }, s.Transaction)).ToList();
        var done = new List<(long, string)>();
        foreach (var e in entries)
        {
            var actor = e.Actor == name ? pseudonym : e.Actor == "unverified:" + name ? "unverified:" + pseudonym : e.Actor;
            var target = RedactTarget(e.Target, name, pseudonym);
            var summary = RedactJson(e.Summary, name, pseudonym);
            if (actor == e.Actor && target == e.Target && summary == e.Summary) continue;
            var hash = AuditChain.Hash(e.Seq, e.Time, actor, e.Address, e.Action, target, (int)e.Status, summary, e.PrevHash);
            done.Add((e.Seq, hash));
            if (!dryRun)
                await s.Connection.ExecuteAsync("UPDATE audit_log SET actor = @actor, target = @target, summary = @summary WHERE seq = @Seq",
                    new { actor, target, summary, e.Seq }, s.Transaction);
        }
        return done;
    }

    /// <summary>Path segments and <c>kind:NAME</c> targets equal to the name.</summary>
    private static string RedactTarget(string target, string name, string pseudonym)
    {
        var escaped = Uri.EscapeDataString(name);
        var segments = target.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var query = segments[i].IndexOf('?');
            var head = query < 0 ? segments[i] : segments[i][..query];
            var tail = query < 0 ? "" : segments[i][query..];
            var colon = head.IndexOf(':');
            var value = colon < 0 ? head : head[(colon + 1)..];
            if (value == name || value == escaped) segments[i] = (colon < 0 ? "" : head[..(colon + 1)]) + pseudonym + tail;
        }
        return string.Join('/', segments);
    }

    /// <summary>JSON string values (at any depth) equal to the name or its unverified form; non-JSON text is left alone.</summary>
    private static string RedactJson(string json, string name, string pseudonym)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return json;
        }
        var changed = false;
        JsonNode? Replacement(JsonNode? node)
        {
            if (node is not JsonValue v || !v.TryGetValue<string>(out var text) || (text != name && text != "unverified:" + name)) return null;
            changed = true;
            return JsonValue.Create(text == name ? pseudonym : "unverified:" + pseudonym);
        }
        void Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var key in o.Select(p => p.Key).ToList())
                        if (Replacement(o[key]) is { } r) o[key] = r;
                        else Walk(o[key]);
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                        if (Replacement(a[i]) is { } r) a[i] = r;
                        else Walk(a[i]);
                    break;
            }
        }
        var result = Replacement(root) ?? root;
        Walk(result);
        return changed ? result!.ToJsonString() : json;
    }
}
