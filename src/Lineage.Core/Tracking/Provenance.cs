namespace Lineage.Core.Tracking;

/// <summary>
/// Who created a record and when, and who changed it last and when (issue 7, item 7). Times are Unix
/// milliseconds; a <c>null</c> actor means the change was made without a known user (open laptop mode
/// without a <c>Lineage-User</c> header, or a row that predates provenance).
/// </summary>
public sealed record Provenance(long CreatedAt, string? CreatedBy, long UpdatedAt, string? UpdatedBy);
