using Lineage.Core.Artifacts;

namespace Lineage.Storage.Artifacts;

internal sealed class VersionRow
{
    public long Id { get; set; }
    public long NameId { get; set; }
    public string Project { get; set; } = "";
    public string Name { get; set; } = "";
    public long Version { get; set; }
    public string Type { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Digest { get; set; } = "";
    public long Size { get; set; }
    public string? ExternalUri { get; set; }
    public string Metadata { get; set; } = "{}";
    public string? Description { get; set; }
    public string? ProducerRunUuid { get; set; }
    public string Lifecycle { get; set; } = "";
    public long CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public long? DeletedAt { get; set; }
    public long FileCount { get; set; }
    public long? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public ArtifactVersion ToModel(IReadOnlyDictionary<string, string> tags, IReadOnlyList<string> aliases) => new(
        Id, Project, Name, Version, Type, ParseKind(Kind), Digest, Size, ExternalUri, Metadata, Description, tags, aliases,
        ProducerRunUuid, ParseLifecycle(Lifecycle), CreatedAt, CreatedBy, (int)FileCount)
    {
        UpdatedAt = UpdatedAt ?? CreatedAt,
        UpdatedBy = UpdatedAt is null ? CreatedBy : UpdatedBy,
    };

    public static ArtifactKind ParseKind(string kind) => kind switch
    {
        "directory" => ArtifactKind.Directory,
        "external" => ArtifactKind.External,
        _ => ArtifactKind.File,
    };

    public static string Text(ArtifactKind kind) => kind.ToString().ToLowerInvariant();

    public static VersionLifecycle ParseLifecycle(string value) => value switch
    {
        "deleted" => VersionLifecycle.Deleted,
        "purged" => VersionLifecycle.Purged,
        _ => VersionLifecycle.Active,
    };
}

internal sealed class NameRow
{
    public long Id { get; set; }
    public long LatestVersion { get; set; }
}

internal sealed class TagRow
{
    public long VersionId { get; set; }
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";
}

internal sealed class AliasRow
{
    public long NameId { get; set; }
    public string Alias { get; set; } = "";
    public long Version { get; set; }
}
