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
            var fields = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(token)).Split(':');
            var values = new long[fields.Length];
            // TryParse: a forged token with a number beyond Int64 is a 400 like any other foreign token, never a 500.
            var ok = fields.Length == parts && fields.Select((f, i) => long.TryParse(f, System.Globalization.NumberStyles.AllowLeadingSign,
                System.Globalization.CultureInfo.InvariantCulture, out values[i])).All(x => x);
            if (ok) return values;
        }
        catch (FormatException)
        {
        }
        throw LineageException.Invalid("pageToken", "'pageToken' is not a token this server issued; pass back nextPageToken unchanged");
    }

    /// <summary>A one-key token (the id of the last item returned).</summary>
    public static string Encode(long id) => Encode([id]);

    public static long? DecodeOne(string? token) => Decode(token, 1)?[0];
}
