using Lineage.Core.Tracking;

namespace Lineage.Core.Artifacts;

public enum ArtifactKind { File, Directory, External }

/// <summary>Lifecycle of a version: deleted is restorable; purged has had its content freed by gc.</summary>
public enum VersionLifecycle { Active, Deleted, Purged }

/// <summary>One file of a directory artifact.</summary>
public sealed record ManifestEntry(string Path, string Digest, long Size);

/// <summary>
/// One immutable version of a named artifact. <see cref="Digest"/> is the SHA-256 of the
/// content (file), of the canonical manifest (directory, see <see cref="Manifests"/>), or the
/// digest the client vouched for (external).
/// </summary>
public sealed record ArtifactVersion(
    long Id,
    string Project,
    string Name,
    long Version,
    string Type,
    ArtifactKind Kind,
    string Digest,
    long Size,
    string? ExternalUri,
    string Metadata,
    string? Description,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<string> Aliases,
    string? ProducerRunId,
    VersionLifecycle Lifecycle,
    long CreatedAt,
    string? CreatedBy,
    int FileCount)
{
    /// <summary>When and by whom the version was last changed (description, tags, lifecycle); the creation when never.</summary>
    public long UpdatedAt { get; init; } = CreatedAt;

    public string? UpdatedBy { get; init; } = CreatedBy;
}

/// <summary>What a registration stores: uploaded bytes, a directory of uploaded files, or an external reference.</summary>
public abstract record ArtifactContent
{
    public sealed record File(string Digest, long Size) : ArtifactContent;
    public sealed record Directory(IReadOnlyList<ManifestEntry> Files) : ArtifactContent;
    public sealed record External(string Uri, string Digest, long Size) : ArtifactContent;
}

public sealed record ArtifactRegistration(
    string? Project,
    string Name,
    string Type,
    string? Metadata,
    ArtifactContent Content,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    string? RunId = null);

/// <summary>How a caller names a version: a number, "latest", or an alias.</summary>
public readonly record struct VersionRef(long? Number, string? Alias)
{
    public bool IsLatest => Number is null && Alias is null;

    public override string ToString() => Number?.ToString() ?? Alias ?? "latest";
}

public sealed record AliasChange(string Alias, long? Version, long ChangedAt, string? ChangedBy);

public sealed record ArtifactEdit(string Field, string? OldValue, string? NewValue, long EditedAt, string? EditedBy);

public sealed record ArtifactQuery(
    string? Project = null,
    string? Name = null,
    string? Type = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    LifecycleFilter Lifecycle = LifecycleFilter.Active,
    int Limit = 100,
    string? PageToken = null,
    bool LatestOnly = false);

public sealed record RetentionPolicy(string Project, string Scope, string Target, int? KeepLast, int? KeepDays);
