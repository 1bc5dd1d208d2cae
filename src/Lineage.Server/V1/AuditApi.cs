using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.Governance;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>
/// The audit log over HTTP for server admins (the web UI's audit page): entries newest first, filtered by actor
/// (exact), target (path substring) and time range, paged by sequence number; and a walk of the whole hash chain.
/// </summary>
public static class AuditApi
{
    public static RouteGroupBuilder MapAudit(this RouteGroupBuilder api)
    {
        var audit = api.MapGroup("/audit").WithTags("Audit");

        audit.MapGet("/", async (HttpContext ctx, AuditLog log) =>
            {
                var q = ctx.Request;
                var limit = Validate.PageSize(q.QueryInt("limit"));
                var before = q.QueryText("pageToken") is { } token
                    ? long.TryParse(token, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq) && seq > 0 ? seq : throw LineageException.Invalid("pageToken", $"'{token}' is not a page token of the audit log")
                    : (long?)null;
                var from = q.QueryLong("from") is { } f ? Validate.Timestamp(f, "from") : (long?)null;
                var to = q.QueryLong("to") is { } t ? Validate.Timestamp(t, "to") : (long?)null;
                if (from is not null && to is not null && from >= to)
                    throw LineageException.Invalid("to", $"'to' ({to}) must be after 'from' ({from})");
                var entries = await log.ListAsync(new AuditQuery(q.QueryText("actor"), q.QueryText("target"), from, to, Limit: limit + 1, BeforeSeq: before,
                    NewestFirst: true));
                var page = entries.Take(limit).Select(e => new AuditEntryDto(e.Seq, e.Time, e.Actor, e.Address, e.Action, e.Target, e.Status, e.Summary, e.Hash))
                    .ToList();
                var next = entries.Count > limit ? page[^1].Seq.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
                return Results.Json(new AuditListResponse(page, next), LineageJson.Default.AuditListResponse);
            })
            .Produces<AuditListResponse>();

        // Reads every entry once: seconds for millions of entries, so the UI runs it on request, not on page load.
        audit.MapGet("/verify", async (AuditLog log) =>
            {
                var v = await log.VerifyAsync();
                return Results.Json(new AuditVerifyResponse(v.Intact, v.Entries, v.HeadSeq, v.HeadHash, v.FirstBreak?.Seq, v.FirstBreak?.Reason,
                        v.Pending, v.OldestPendingTime),
                    LineageJson.Default.AuditVerifyResponse);
            })
            .Produces<AuditVerifyResponse>();

        return api;
    }
}
