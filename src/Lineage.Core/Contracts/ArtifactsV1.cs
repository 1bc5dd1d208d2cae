using System.Text.Json;

// Wire contracts for artifacts and blobs in the native API /api/v1.
namespace Lineage.Core.Contracts.V1;

public sealed record BlobDto(string Digest, long Size);

public sealed record FileRefDto(string? Digest, long? Size);

public sealed record ManifestEntryDto(string? Path, string? Digest, long? Size);

public sealed record ExternalRefDto(string? Uri, string? Digest, long? Size);

/// <summary>Register a version: exactly one of <c>file</c> (an uploaded blob), <c>files</c> (a directory of uploaded blobs) or <c>external</c>.</summary>
public sealed record RegisterArtifactRequest(
    string? Name,
    string? Type,
    string? Project = null,
    JsonElement? Metadata = null,
    string? Description = null,
    Dictionary<string, string>? Tags = null,
    string? RunId = null,
    FileRefDto? File = null,
    List<ManifestEntryDto>? Files = null,
    ExternalRefDto? External = null);

public sealed record ArtifactVersionDto(
    string Id,
    string Project,
    string Name,
    long Version,
    string Type,
    string Kind,
    string Digest,
    long Size,
    string StorageUri,
    JsonElement Metadata,
    string? Description,
    Dictionary<string, string> Tags,
    List<string> Aliases,
    string? ProducerRunId,
    string Lifecycle,
    long CreatedAt,
    string? CreatedBy,
    int FileCount,
    long? UpdatedAt = null,
    string? UpdatedBy = null);

public sealed record ArtifactListResponse(List<ArtifactVersionDto> Artifacts, string? NextPageToken);

public sealed record ManifestResponse(string Digest, List<ManifestEntryDto> Files);

public sealed record SetAliasRequest(long? Version);

public sealed record UpdateArtifactRequest(string? Description);

public sealed record AliasChangeDto(string Alias, long? Version, long ChangedAt, string? ChangedBy);

public sealed record AliasHistoryResponse(List<AliasChangeDto> Changes);

public sealed record ArtifactEditDto(string Field, string? OldValue, string? NewValue, long EditedAt, string? EditedBy);

public sealed record ArtifactEditsResponse(List<ArtifactEditDto> Edits);

public sealed record RetentionPolicyDto(string? Project, string? Scope, string? Target, int? KeepLast = null, int? KeepDays = null);

public sealed record RetentionPolicyListResponse(List<RetentionPolicyDto> Policies);
