using Microsoft.AspNetCore.Http;

namespace Lineage.Server.Http;

/// <summary>
/// Who made a change, for edit, alias and approval histories: the authenticated principal when
/// authentication is on; otherwise (open laptop mode) what the client says in <c>Lineage-User</c>
/// (the SDK sends the OS user).
/// </summary>
public static class RequestUser
{
    public const string Header = "Lineage-User";

    public static string? Of(HttpContext ctx) =>
        AccessControl.PrincipalOf(ctx)?.Name ?? (ctx.Request.Headers[Header].ToString() is { Length: > 0 and <= 250 } user ? user : null);
}
