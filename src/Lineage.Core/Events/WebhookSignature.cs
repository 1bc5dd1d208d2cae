using System.Security.Cryptography;
using System.Text;

namespace Lineage.Core.Events;

/// <summary>
/// Signatures of webhook deliveries. Standard Webhooks (https://www.standardwebhooks.com): <c>webhook-signature: v1,&lt;base64
/// HMAC-SHA256(key, "id.timestamp.body")&gt;</c>, the key being the base64 part of a <c>whsec_</c> secret. MLflow signs the same
/// content with the secret's UTF-8 bytes as the key (<c>X-MLflow-Signature</c>). Pure functions; thread-safe.
/// </summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";

    /// <summary>The HMAC key of a Standard Webhooks secret: base64 after <c>whsec_</c>; a secret without the prefix is used as UTF-8 text.</summary>
    public static byte[] StandardKey(string secret)
    {
        if (secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
            try
            {
                return Convert.FromBase64String(secret[SecretPrefix.Length..]);
            }
            catch (FormatException)
            {
                // Not base64 after all: fall through to the text form.
            }
        return Encoding.UTF8.GetBytes(secret);
    }

    /// <summary><c>v1,</c> + base64 HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c>.</summary>
    public static string Sign(byte[] key, string id, long timestamp, string body) =>
        "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));

    /// <summary>True when one of the space-separated signatures in <paramref name="header"/> is the right one (constant-time compare).</summary>
    public static bool Verify(byte[] key, string id, long timestamp, string body, string header)
    {
        var expected = Encoding.ASCII.GetBytes(Sign(key, id, timestamp, body));
        return header.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), expected));
    }
}
