using Microsoft.AspNetCore.Http;

namespace Lineage.Server.Http;

/// <summary>
/// Who made a change, for edit and alias histories. Until authentication exists (governance
/// issue) it is what the client says in <c>Lineage-User</c>; the SDK sends the OS user.
/// </summary>
public static class RequestUser
{
    public const string Header = "Lineage-User";

    public static string? Of(HttpContext ctx) =>
        ctx.Request.Headers[Header].ToString() is { Length: > 0 and <= 250 } user ? user : null;
}
