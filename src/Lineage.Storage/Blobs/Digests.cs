using Lineage.Core.Errors;

namespace Lineage.Storage.Blobs;

/// <summary>SHA-256 digests as 64 lowercase hex characters; "sha256:" prefixes are accepted.</summary>
public static class Digests
{
    public static bool IsDigest(string text) => text.Length == 64 && text.All(char.IsAsciiHexDigitLower) ;

    public static string Normalize(string digest, string field)
    {
        var text = digest.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) ? digest[7..] : digest;
        text = text.ToLowerInvariant();
        if (!IsDigest(text))
            throw LineageException.Invalid(field, $"'{field}' must be a SHA-256 digest (64 hex characters), got '{(digest.Length > 80 ? digest[..77] + "..." : digest)}'");
        return text;
    }
}
