using System.Collections.Concurrent;

namespace Lineage.Storage.Engine;

/// <summary>
/// One request's right to see sensitive values in plaintext, and the values it was shown (for the audit log).
/// Part of the <see cref="OperationContext"/>; value protection (<see cref="IValueProtection"/>) consults and records it.
/// </summary>
public sealed class RevealRights(bool mayReveal)
{
    private readonly ConcurrentDictionary<string, bool> _revealed = new();

    public bool MayReveal { get; } = mayReveal;

    /// <summary>The fields revealed so far, sorted (a retried transaction records a field once).</summary>
    public IReadOnlyList<string> Revealed => _revealed.Keys.Order(StringComparer.Ordinal).ToList();

    public void Record(string label) => _revealed[label] = true;
}
