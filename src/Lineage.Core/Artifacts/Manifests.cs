using System.Security.Cryptography;
using System.Text;
using Lineage.Core.Errors;

namespace Lineage.Core.Artifacts;

/// <summary>Rules for directory manifests: safe relative paths and a canonical digest.</summary>
public static class Manifests
{
    /// <summary>
    /// A manifest path must be relative, use '/' separators, and stay inside the directory:
    /// no absolute paths, drive letters, backslashes, empty, '.' or '..' segments, or control characters.
    /// </summary>
    public static string SafePath(string? path, string field)
    {
        if (string.IsNullOrEmpty(path))
            throw LineageException.Invalid(field, $"'{field}' is empty");
        var why =
            path.Length > 1024 ? "is longer than 1024 characters" :
            path.StartsWith('/') ? "is absolute" :
            path.Contains('\\') ? "contains a backslash" :
            path.Length >= 2 && path[1] == ':' ? "starts with a drive letter" :
            path.Any(char.IsControl) ? "contains a control character" :
            path.Split('/').Any(s => s is "" or "." or "..") ? "has an empty, '.' or '..' segment (it must stay inside the directory)" :
            null;
        if (why is not null)
            throw LineageException.Invalid(field, $"path '{Validate(path)}' {why}; nothing was stored");
        return path;
    }

    /// <summary>SHA-256 over "path\tdigest\tsize\n" lines in ordinal path order: equal trees, equal digest.</summary>
    public static string Digest(IEnumerable<ManifestEntry> files)
    {
        var text = new StringBuilder();
        foreach (var f in files.OrderBy(f => f.Path, StringComparer.Ordinal))
            text.Append(f.Path).Append('\t').Append(f.Digest).Append('\t').Append(f.Size).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static string Validate(string path) => path.Length <= 80 ? path : path[..77] + "...";
}
