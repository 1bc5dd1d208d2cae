// Wire contracts for reading the audit log in the native API /api/v1 (server admins only).
namespace Lineage.Core.Contracts.V1;

public sealed record AuditEntryDto(long Seq, long Time, string Actor, string? Address, string Action, string Target, int Status, string Summary,
    string Hash);

/// <summary>Newest first; <c>nextPageToken</c> is the sequence number to continue below.</summary>
public sealed record AuditListResponse(List<AuditEntryDto> Entries, string? NextPageToken);

/// <summary>
/// The result of walking the whole hash chain: intact, or the first entry that does not hold. <c>pending</c> counts
/// write entries committed with their writes but not chained yet (not covered by the chain), the oldest written at
/// <c>oldestPendingTime</c>.
/// </summary>
public sealed record AuditVerifyResponse(bool Intact, long Entries, long? HeadSeq, string? HeadHash, long? BrokenAt, string? Reason,
    long Pending, long? OldestPendingTime);
