using System.Globalization;
using Lineage.Core.Errors;

namespace Lineage.Core.Artifacts;

/// <summary>Input rules for artifacts. Failures are 400 INVALID_PARAMETER_VALUE naming the field.</summary>
public static class ArtifactRules
{
    public const int MaxNameLength = 200;
    public const int MaxMetadataBytes = 64 * 1024;
    public const int MaxFilesPerDirectory = 100_000;

    /// <summary>Well-known types; any other lowercase word is a custom type.</summary>
    public static readonly string[] KnownTypes = ["dataset", "model", "feature_set", "code", "config", "metrics", "report"];

    /// <summary>Names appear in URLs and CLI arguments: letters, digits, '.', '_', '-'; starting with a letter or digit.</summary>
    public static string Name(string? name, string field = "name")
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !char.IsAsciiLetterOrDigit(name[0])
            || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            throw LineageException.Invalid(field,
                $"'{field}' value '{Tracking.Validate.Shorten(name ?? "")}' is not an artifact name: use 1-{MaxNameLength} letters, digits, '.', '_' or '-', starting with a letter or digit");
        return name;
    }

    public static string Type(string? type, string field = "type")
    {
        if (string.IsNullOrEmpty(type) || type.Length > 50 || !char.IsAsciiLetterLower(type[0])
            || !type.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-'))
            throw LineageException.Invalid(field,
                $"'{field}' value '{Tracking.Validate.Shorten(type ?? "")}' is not an artifact type: use {string.Join(", ", KnownTypes)} or a custom lowercase word (a-z, 0-9, '_', '-')");
        return type;
    }

    /// <summary>Aliases are lowercase words; "latest" is reserved and digits-only would read as a version.</summary>
    public static string Alias(string? alias, string field = "alias")
    {
        if (string.IsNullOrEmpty(alias) || alias.Length > 100 || !char.IsAsciiLetterLower(alias[0])
            || !alias.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-' or '.'))
            throw LineageException.Invalid(field,
                $"'{field}' value '{Tracking.Validate.Shorten(alias ?? "")}' is not an alias: use 1-100 lowercase letters, digits, '_', '-' or '.', starting with a letter");
        if (alias == "latest")
            throw LineageException.Invalid(field, "'latest' is reserved: it always means the newest version");
        return alias;
    }

    /// <summary>"3" → version 3; "latest" → newest active version; anything else → an alias.</summary>
    public static VersionRef Ref(string? text, string field = "version")
    {
        if (string.IsNullOrEmpty(text) || text == "latest") return new VersionRef(null, null);
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            if (n < 1) throw LineageException.Invalid(field, $"'{field}' must be 1 or more, got {n}");
            return new VersionRef(n, null);
        }
        return new VersionRef(null, Alias(text, field));
    }

    /// <summary>Metadata must be a JSON object (or absent, meaning {}); returned compact.</summary>
    public static string Metadata(string? json, string field = "metadata")
    {
        if (string.IsNullOrWhiteSpace(json)) return "{}";
        if (json.Length > MaxMetadataBytes)
            throw LineageException.Invalid(field, $"'{field}' is {json.Length:N0} characters; the limit is {MaxMetadataBytes:N0}");
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
                throw LineageException.Invalid(field, $"'{field}' must be a JSON object, got {doc.RootElement.ValueKind}");
            return System.Text.Json.JsonSerializer.Serialize(doc.RootElement);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw LineageException.Invalid(field, $"'{field}' is not valid JSON: {ex.Message.Split(" Path:")[0]}");
        }
    }
}
