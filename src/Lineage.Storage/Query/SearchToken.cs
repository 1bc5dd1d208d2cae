using System.Security.Cryptography;
using System.Text;
using Lineage.Core.Errors;

namespace Lineage.Storage.Query;

/// <summary>
/// Page tokens for searches: an offset bound to the query it came from (a hash of filter, order,
/// scope). Opaque to clients; a token replayed against a different query is refused rather than
/// silently paging something else.
/// </summary>
internal static class SearchToken
{
    public static string Encode(int offset, string query) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes($"v1:{offset}:{Hash(query)}"));

    public static int Decode(string? token, string query)
    {
        if (string.IsNullOrEmpty(token)) return 0;
        try
        {
            var parts = Encoding.ASCII.GetString(Convert.FromBase64String(token)).Split(':');
            if (parts.Length == 3 && parts[0] == "v1" && int.TryParse(parts[1], out var offset) && offset >= 0)
            {
                if (parts[2] != Hash(query))
                    throw LineageException.Invalid("page_token", "the page token belongs to a different search; pass next_page_token back with the same filter and order");
                return offset;
            }
        }
        catch (FormatException)
        {
        }
        throw LineageException.Invalid("page_token", "invalid page token: pass back next_page_token unchanged");
    }

    private static string Hash(string query) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(query)))[..12];
}
