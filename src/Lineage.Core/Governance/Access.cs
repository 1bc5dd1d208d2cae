using System.Security.Cryptography;
using System.Text;
using Lineage.Core.Errors;

namespace Lineage.Core.Governance;

/// <summary>Roles on a project, each including the ones below it.</summary>
public enum Role { Reader = 1, Writer = 2, Approver = 3, Admin = 4 }

public enum PrincipalKind { User, Service }

/// <summary>An authenticated caller. <see cref="Roles"/> maps project name to role; server admins may do anything.</summary>
public sealed record Principal(long Id, string Name, PrincipalKind Kind, bool IsServerAdmin, IReadOnlyDictionary<string, Role> Roles)
{
    public bool Can(string project, Role needed) => IsServerAdmin || (Roles.TryGetValue(project, out var role) && role >= needed);

    /// <summary>The same roles keyed by project id, for checks on the project an entity belongs to.</summary>
    public IReadOnlyDictionary<long, Role> RolesByProjectId { get; init; } = new Dictionary<long, Role>();

    public bool Can(long projectId, Role needed) => IsServerAdmin || (RolesByProjectId.TryGetValue(projectId, out var role) && role >= needed);

    /// <summary>True when the principal holds <paramref name="needed"/> on at least one project.</summary>
    public bool CanAnywhere(Role needed) => IsServerAdmin || RolesByProjectId.Values.Any(role => role >= needed);
}

public sealed record ApiToken(long Id, string Principal, string? Name, long CreatedAt, long? ExpiresAt, long? RevokedAt);

/// <summary>A new token: the secret is shown once and never stored.</summary>
public sealed record IssuedToken(ApiToken Token, string Secret);

public static class Roles
{
    public static Role Parse(string text) => text.ToLowerInvariant() switch
    {
        "reader" => Role.Reader,
        "writer" => Role.Writer,
        "approver" => Role.Approver,
        "admin" => Role.Admin,
        _ => throw LineageException.Invalid("role", $"role must be reader, writer, approver or admin, got '{text}'"),
    };

    public static string Text(Role role) => role.ToString().ToLowerInvariant();
}

/// <summary>
/// Secrets at rest. Passwords: PBKDF2-SHA256 with a 16-byte salt and 600,000 iterations (OWASP's 2023
/// figure), so a stolen database does not yield passwords cheaply. Tokens: 32 random bytes, so a salted
/// SHA-256 is enough (nothing to brute-force); the token carries a public id to find its row.
/// </summary>
public static class Secrets
{
    public const int PasswordIterations = 600_000;
    public const string TokenPrefix = "lin_";

    public static string HashPassword(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, PasswordIterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${PasswordIterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    public static bool VerifyPassword(string password, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != "pbkdf2-sha256" || !int.TryParse(parts[1], out var iterations)) return false;
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Convert.FromBase64String(parts[2]), iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>A new token: <c>lin_&lt;public id&gt;_&lt;secret&gt;</c>, with what to store (id, salt, hash).</summary>
    public static (string Token, string PublicId, string Salt, string Hash) NewToken()
    {
        var publicId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var salt = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        return ($"{TokenPrefix}{publicId}_{secret}", publicId, salt, TokenHash(secret, salt));
    }

    /// <summary>Splits a presented token into public id and secret; null when it is not one of ours.</summary>
    public static (string PublicId, string Secret)? ParseToken(string token)
    {
        if (!token.StartsWith(TokenPrefix, StringComparison.Ordinal)) return null;
        var rest = token[TokenPrefix.Length..];
        var cut = rest.IndexOf('_');
        return cut == 16 && rest.Length > 17 ? (rest[..cut], rest[(cut + 1)..]) : null;
    }

    public static string TokenHash(string secret, string salt) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(salt + ":" + secret)));

    public static bool TokenMatches(string secret, string salt, string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(TokenHash(secret, salt)), Convert.FromBase64String(storedHash));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
