namespace Lineage.Storage.Engine;

/// <summary>
/// A client-chosen key for one write (the Idempotency-Key header). The store records the
/// write's result under it in the same transaction; a retry with the same key and request
/// gets that result back and writes nothing, the same key with a different request is a 409.
/// </summary>
public sealed class IdempotencyKey(string key, string requestHash)
{
    public string Key { get; } = key;

    /// <summary>Digest of method, path and body: what makes two requests "the same".</summary>
    public string RequestHash { get; } = requestHash;

    /// <summary>Set by the store when the result came from an earlier request.</summary>
    public bool Replayed { get; internal set; }

    private int _claimed;

    /// <summary>This key for the first operation that asks, null for every later one (see <see cref="Database.WriteAsync{T}"/>).</summary>
    internal IdempotencyKey? Claim() => Interlocked.Exchange(ref _claimed, 1) == 0 ? this : null;
}
