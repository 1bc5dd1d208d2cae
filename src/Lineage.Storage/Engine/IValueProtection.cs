using Lineage.Core.Governance;

namespace Lineage.Storage.Engine;

/// <summary>
/// How sensitive values (secret-looking params, tags and metadata entries) are stored and shown: the engine's seam
/// for value protection. Data-access code calls it through <see cref="DbSession.Fields"/>; governance implements it
/// (encryption at rest, redaction by the caller's <see cref="RevealRights"/>) and plugs it in.
/// </summary>
public interface IValueProtection
{
    /// <summary>Which keys are sensitive by name (also used by searches, which must not filter on hidden values).</summary>
    SensitiveKeys Patterns { get; }

    bool IsSensitive(string key);

    /// <summary>What to store for <paramref name="value"/> under <paramref name="key"/>, bound to <paramref name="binding"/>; <paramref name="field"/> names it in errors.</summary>
    string Seal(DbSession s, string binding, string key, string value, bool marked, string field);

    /// <summary>The plaintext of a stored value, for the store's own use (comparisons); not a reveal.</summary>
    string Open(string binding, string stored);

    /// <summary>What the operation's caller sees of a stored value; <paramref name="label"/> names it in the audit log.</summary>
    string Show(DbSession s, string binding, string label, string key, string stored);

    /// <summary>Seals the sensitive top-level entries of an artifact version's metadata object.</summary>
    string SealMetadata(DbSession s, long nameId, long version, string metadata);

    /// <summary>What the caller sees of an artifact version's metadata object.</summary>
    string ShowMetadata(DbSession s, long nameId, long version, string label, string metadata);
}
