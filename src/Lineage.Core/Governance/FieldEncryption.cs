using System.Security.Cryptography;
using System.Text;
using Lineage.Core.Errors;

namespace Lineage.Core.Governance;

/// <summary>
/// A set of 256-bit keys for field encryption. Each key's id is derived from the key itself
/// (<see cref="IdOf"/>), so a ciphertext names the key that sealed it and a wrong key can never be
/// mistaken for the right one. The last key is the current one: new values are sealed with it; the
/// others only open older values (key rotation). Immutable and thread-safe.
/// </summary>
public sealed class Keyring
{
    public const int KeyBytes = 32;

    private readonly Dictionary<string, byte[]> _keys;

    public Keyring(IReadOnlyList<byte[]> keys)
    {
        if (keys.Count == 0) throw LineageException.Invalid("key", "a keyring needs at least one key");
        foreach (var key in keys)
            if (key.Length != KeyBytes)
                throw LineageException.Invalid("key", $"an encryption key is {KeyBytes} bytes (base64 of 256 bits); got {key.Length} bytes");
        _keys = keys.ToDictionary(IdOf, k => k.ToArray());
        Ids = keys.Select(IdOf).Distinct().ToList();
        CurrentId = IdOf(keys[^1]);
    }

    /// <summary>Ids of the keys, oldest first; the last is <see cref="CurrentId"/>.</summary>
    public IReadOnlyList<string> Ids { get; }

    public string CurrentId { get; }

    public bool Has(string id) => _keys.ContainsKey(id);

    internal byte[]? Find(string id) => _keys.GetValueOrDefault(id);

    /// <summary>8 hex characters of SHA-256 over a label and the key: names the key without revealing it.</summary>
    public static string IdOf(byte[] key) =>
        Convert.ToHexStringLower(SHA256.HashData([.. "lineage-field-key:"u8, .. key]))[..8];

    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(KeyBytes);

    /// <summary>
    /// Reads keys written one per line in base64 (blank lines and <c>#</c> comments skipped), oldest
    /// first; <paramref name="source"/> names where they came from in error messages.
    /// </summary>
    public static Keyring Parse(string text, string source)
    {
        var keys = new List<byte[]>();
        var lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            foreach (var part in line.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                byte[] key;
                try
                {
                    key = Convert.FromBase64String(part);
                }
                catch (FormatException)
                {
                    throw LineageException.Invalid("key", $"{source}, line {lineNo}: not base64 (a key is 32 random bytes in base64, e.g. from 'lineage keys new')");
                }
                if (key.Length != KeyBytes)
                    throw LineageException.Invalid("key", $"{source}, line {lineNo}: a key is {KeyBytes} bytes (256 bits) in base64; this one is {key.Length} bytes");
                keys.Add(key);
            }
        }
        if (keys.Count == 0) throw LineageException.Invalid("key", $"{source} holds no key");
        return new Keyring(keys);
    }
}

/// <summary>
/// The stored form of a sensitive value: <c>enc:v1:&lt;key id&gt;:&lt;base64url(nonce ‖ ciphertext ‖ tag)&gt;</c>,
/// AES-256-GCM with a random 96-bit nonce per value and a 128-bit tag. The associated data is the
/// value's binding (table, owner, key), so a ciphertext copied onto another record or key fails its
/// tag check instead of showing one record's secret under another's name.
/// </summary>
public static class FieldEnvelope
{
    public const string Prefix = "enc:v1:";
    private const int NonceBytes = 12, TagBytes = 16, IdChars = 8;

    public static bool IsSealed(string? stored) => stored is not null && stored.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The key id of a sealed value; null when the value is not sealed or malformed.</summary>
    public static string? KeyIdOf(string stored) =>
        IsSealed(stored) && stored.Length > Prefix.Length + IdChars && stored[Prefix.Length + IdChars] == ':'
            ? stored.Substring(Prefix.Length, IdChars)
            : null;

    public static string Seal(Keyring keys, string binding, string plaintext)
    {
        var key = keys.Find(keys.CurrentId)!;
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[NonceBytes + plain.Length + TagBytes];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceBytes, plain.Length), sealedBytes.AsSpan(NonceBytes + plain.Length), Encoding.UTF8.GetBytes(binding));
        return $"{Prefix}{keys.CurrentId}:{Base64Url(sealedBytes)}";
    }

    /// <summary>Decrypts a sealed value.</summary>
    /// <exception cref="FieldKeyMissingException">the keyring lacks the value's key</exception>
    /// <exception cref="FieldTamperedException">the value is malformed, altered, or bound to another field</exception>
    public static string Open(Keyring keys, string binding, string stored)
    {
        var id = KeyIdOf(stored) ?? throw new FieldTamperedException(binding, "it is not a well-formed envelope");
        var key = keys.Find(id) ?? throw new FieldKeyMissingException(id);
        byte[] bytes;
        try
        {
            bytes = FromBase64Url(stored[(Prefix.Length + IdChars + 1)..]);
        }
        catch (FormatException)
        {
            throw new FieldTamperedException(binding, "its ciphertext is not base64url");
        }
        if (bytes.Length < NonceBytes + TagBytes) throw new FieldTamperedException(binding, "its ciphertext is truncated");
        var cipherLength = bytes.Length - NonceBytes - TagBytes;
        var plain = new byte[cipherLength];
        try
        {
            using var aes = new AesGcm(key, TagBytes);
            aes.Decrypt(bytes.AsSpan(0, NonceBytes), bytes.AsSpan(NonceBytes, cipherLength), bytes.AsSpan(NonceBytes + cipherLength), plain,
                Encoding.UTF8.GetBytes(binding));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new FieldTamperedException(binding, "its AES-GCM tag does not match (altered, or copied from another record)");
        }
        return Encoding.UTF8.GetString(plain);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}

/// <summary>A sealed value names a key this process does not hold: a configuration problem (503), not a client's.</summary>
public sealed class FieldKeyMissingException(string keyId) : LineageException(ErrorCode.Unavailable,
    $"a sensitive value is encrypted with key '{keyId}', which is not in this server's keyring; add that key to the key file " +
    "(--key-file / LINEAGE_KEY_FILE) or LINEAGE_ENCRYPTION_KEY")
{
    public string KeyId { get; } = keyId;
}

/// <summary>A sealed value failed authentication: the stored data was altered. 409: the stored state is not servable as is.</summary>
public sealed class FieldTamperedException(string binding, string reason) : LineageException(ErrorCode.Conflict,
    $"the encrypted value of {binding} failed its integrity check: {reason}; restore it from a backup or set it again");

/// <summary>
/// Which keys are sensitive: case-insensitive globs (<c>*</c> any run of characters, <c>?</c> one
/// character) over params, tags and metadata keys. Defaults: <see cref="Defaults"/>. Thread-safe.
/// </summary>
public sealed class SensitiveKeys
{
    public static readonly IReadOnlyList<string> Defaults = ["*password*", "*secret*", "*token*", "*api_key*"];

    /// <summary>What a caller without the reveal permission sees instead of a sensitive value.</summary>
    public const string Redacted = "***";

    private readonly string[] _patterns;

    public SensitiveKeys(IEnumerable<string> patterns) =>
        _patterns = patterns.Select(p => p.Trim().ToLowerInvariant()).Where(p => p.Length > 0).Distinct().ToArray();

    public IReadOnlyList<string> Patterns => _patterns;

    /// <summary>Comma-separated globs, e.g. <c>*password*,*secret*,aws_*</c>; null or empty: the defaults.</summary>
    public static SensitiveKeys Parse(string? text) =>
        string.IsNullOrWhiteSpace(text) ? new SensitiveKeys(Defaults) : new SensitiveKeys(text.Split(','));

    public bool Matches(string key)
    {
        var lower = key.ToLowerInvariant();
        foreach (var p in _patterns)
            if (Glob(p, lower)) return true;
        return false;
    }

    /// <summary>Iterative glob match with single-star backtracking: linear in practice, no regex.</summary>
    private static bool Glob(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t])) { p++; t++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = t; }
            else if (star >= 0) { p = star + 1; t = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}
