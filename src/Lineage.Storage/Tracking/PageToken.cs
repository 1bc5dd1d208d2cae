using System.Buffers.Text;
using System.Text;
using Lineage.Core.Errors;

namespace Lineage.Storage.Tracking;

/// <summary>Opaque keyset page tokens: the sort key of the last item returned, base64url-encoded.</summary>
internal static class PageToken
{
    public static string Encode(params long[] keys) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes(string.Join(':', keys)));

    public static long[]? Decode(string? token, int parts)
    {
        if (string.IsNullOrEmpty(token)) return null;
        try
        {
            var values = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(token)).Split(':').Select(long.Parse).ToArray();
            if (values.Length == parts) return values;
        }
        catch (FormatException)
        {
        }
        throw LineageException.Invalid("pageToken", "'pageToken' is not a token this server issued; pass back nextPageToken unchanged");
    }
}
