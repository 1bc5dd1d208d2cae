using System.Security.Cryptography;
using System.Text;

namespace Lineage.Core.Governance;

/// <summary>One audit-log entry. <see cref="Hash"/> covers every other field and the previous entry's hash.</summary>
public sealed record AuditEntry(long Seq, long Time, string Actor, string? Address, string Action, string Target, int Status, string Summary,
    string PrevHash, string Hash);

/// <summary>What to append: the chain fields (seq, hashes) are filled in by the store.</summary>
public sealed record AuditRecord(string Actor, string? Address, string Action, string Target, int Status, string Summary);

/// <summary>Where a chain check failed: the first entry whose link or content does not hold.</summary>
public sealed record AuditBreak(long Seq, string Reason);

/// <summary>
/// A walk of the chain. <see cref="Pending"/> counts write entries committed with their writes but not chained yet
/// (normally for milliseconds; after a crash until another server or the restarted one chains them), the oldest
/// written at <see cref="OldestPendingTime"/>: they are not part of the chain and not covered by its hashes.
/// </summary>
public sealed record AuditVerification(long Entries, long? HeadSeq, string? HeadHash, AuditBreak? FirstBreak, long Pending, long? OldestPendingTime)
{
    public bool Intact => FirstBreak is null;
}

/// <summary>
/// The hash chain: entry N's hash is SHA-256 over its fields and entry N-1's hash, so editing an
/// entry changes its hash (its stored hash no longer matches) and deleting one breaks the next link.
/// Deleting the newest entries leaves a shorter valid chain: compare the head with a recorded one.
/// </summary>
public static class AuditChain
{
    /// <summary>The previous hash of the first entry.</summary>
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    public static string Hash(long seq, long time, string actor, string? address, string action, string target, int status, string summary, string prevHash)
    {
        // Length-prefixed fields: no separator inside a value can make two entries hash alike.
        var text = new StringBuilder();
        foreach (var field in new[] { seq.ToString(System.Globalization.CultureInfo.InvariantCulture), time.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     actor, address ?? "", action, target, status.ToString(System.Globalization.CultureInfo.InvariantCulture), summary, prevHash })
            text.Append(field.Length).Append(':').Append(field).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public static string Hash(AuditEntry e) => Hash(e.Seq, e.Time, e.Actor, e.Address, e.Action, e.Target, e.Status, e.Summary, e.PrevHash);

    /// <summary>Checks entries in sequence order, continuing from <paramref name="prevHash"/>/<paramref name="prevSeq"/>.</summary>
    /// <param name="redactedHash">
    /// For an entry a user erasure redacted: the hash of its redacted content, which a later, chained erasure entry vouches
    /// for. The stored hash still covers the original content (the next entry links to it), so the content may match either.
    /// </param>
    public static AuditBreak? Check(AuditEntry e, long? prevSeq, string prevHash, string? redactedHash = null)
    {
        if (prevSeq is { } p && e.Seq != p + 1) return new AuditBreak(e.Seq, $"entries {p + 1}..{e.Seq - 1} are missing (deleted)");
        if (e.PrevHash != prevHash) return new AuditBreak(e.Seq, "its link to the previous entry does not match: an earlier entry was deleted or edited");
        var content = Hash(e);
        if (content != e.Hash && content != redactedHash) return new AuditBreak(e.Seq, "its content does not match its hash: the entry was edited");
        return null;
    }
}
