using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;
using Lineage.Storage.Governance;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Server.Http;

/// <summary>
/// Authentication, authorization and the audit trail, once for every route of every surface.
/// Authentication is on as soon as one principal exists (created with <c>lineage users create</c>):
/// then every request but <c>/health</c> and <c>/ready</c> needs <c>Authorization: Bearer &lt;token&gt;</c>
/// or HTTP Basic with a user name and a token or password (what MLflow clients send from
/// MLFLOW_TRACKING_USERNAME/PASSWORD). Each route's required role comes from <see cref="AccessRules"/>;
/// a route missing there is refused, and a test fails. Every write that changed the database is in the audit log,
/// with the status it was answered with: its entry commits with the request's first write (<see cref="PendingAudit"/>),
/// and the <see cref="Hosting.AuditWriter"/> chains it after the answer. Reveals of sensitive fields (reads) are
/// appended by the writer alone.
/// </summary>
public static class AccessControl
{
    private static readonly object PrincipalKey = new();
    private static readonly object DecisionKey = new();

    public static Principal? PrincipalOf(HttpContext ctx) => ctx.Items[PrincipalKey] as Principal;

    /// <summary>What access control decided for the request: the projects it may see, its reveal rights, the audit entry it owes.</summary>
    public static (ProjectScope? Scope, RevealRights? Reveal, PendingAudit? Audit) DecisionOf(HttpContext ctx) =>
        ctx.Items[DecisionKey] as (ProjectScope?, RevealRights?, PendingAudit?)? ?? default;

    public static IApplicationBuilder UseAccessControl(this IApplicationBuilder app)
    {
        // Credentials checked recently are trusted for ServerOptions.CredentialCache, so a slow password
        // hash is not paid on every request; a revoked token stops working within that span.
        var state = new AuthState(app.ApplicationServices.GetRequiredService<GovernanceStore>(),
            app.ApplicationServices.GetRequiredService<ServerOptions>().CredentialCache);
        var audit = app.ApplicationServices.GetRequiredService<Hosting.AuditWriter>();
        var entities = app.ApplicationServices.GetRequiredService<EntityProjects>();
        app.Use(async (ctx, next) =>
        {
            var endpoint = ctx.GetEndpoint() as RouteEndpoint;
            var rule = endpoint is null ? null : AccessRules.For(ctx.Request.Method, endpoint.RoutePattern.RawText ?? "");
            // An API path no endpoint took (unknown route, wrong method or content type) still needs
            // credentials first, so an anonymous caller learns nothing about the API either.
            var api = ctx.Request.Path.StartsWithSegments("/api") || ctx.Request.Path.StartsWithSegments("/ajax-api");
            if ((endpoint is null && !api) || rule is { Required: Access.Public })
            {
                // Public routes answer everyone, but a valid Bearer token is still recognised: /ready shows server admins more.
                // Bearer only: a password would cost a PBKDF2 hash on routes that are neither limited nor meant to cost anything.
                if (rule is not null && ctx.Request.Headers.Authorization.ToString() is { } header
                    && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && await state.EnabledAsync()
                    && await state.AuthenticateAsync(header) is { } caller)
                    ctx.Items[PrincipalKey] = caller;
                ctx.Items[DecisionKey] = ((ProjectScope?)null, new RevealRights(mayReveal: false), (PendingAudit?)null); // public routes never show a sensitive value
                await next(ctx);
                return;
            }
            if (endpoint is null)
            {
                if (await state.EnabledAsync() && await state.AuthenticateAsync(ctx.Request.Headers.Authorization.ToString()) is null)
                    throw new LineageException(ErrorCode.Unauthenticated, "authentication required: send Authorization: Bearer <token>, or Basic with a user name and a token or password");
                await next(ctx);
                return;
            }
            // Laptop mode (authentication off): the single user sees sensitive values.
            var mayReveal = true;
            ProjectScope? scope = null;
            if (await state.EnabledAsync())
            {
                var principal = await state.AuthenticateAsync(ctx.Request.Headers.Authorization.ToString())
                                ?? throw new LineageException(ErrorCode.Unauthenticated, "authentication required: send Authorization: Bearer <token>, or Basic with a user name and a token or password");
                ctx.Items[PrincipalKey] = principal;
                if (rule is null)
                    throw new LineageException(ErrorCode.PermissionDenied, $"{ctx.Request.Method} {endpoint.RoutePattern.RawText} has no access rule");
                // Everything the request reads or writes from here on sees only the projects this returns.
                (scope, mayReveal) = await AuthorizeAsync(ctx, principal, rule, entities);
            }
            var reveals = new RevealRights(mayReveal);
            // A write's entry is written with the request's first write (PendingAudit) and completed from its answer.
            var pending = rule is { Writes: true } ? Pending(ctx, endpoint) : null;
            ctx.Items[DecisionKey] = (scope, reveals, pending);
            try
            {
                await next(ctx);
            }
            catch (Exception ex) when (pending?.Id is { } failedId)
            {
                // The request changed the database and then failed: its entry carries the error it is answered with.
                audit.Answered(failedId, Record(ctx, endpoint, ctx.Response.HasStarted ? ctx.Response.StatusCode : ErrorResponses.StatusOf(ctx, ex)));
                throw;
            }
            if (pending?.Id is { } id)
                audit.Answered(id, Record(ctx, endpoint, ctx.Response.StatusCode));
            else if (pending is not null && ctx.Response.StatusCode < 400)
                audit.Enqueue(Record(ctx, endpoint, ctx.Response.StatusCode)); // wrote no rows (an idempotent replay, a blob upload): queued alone
            if (reveals.Revealed is { Count: > 0 } revealed)
                audit.Enqueue(RevealRecord(ctx, endpoint, revealed));
        });
        return app;
    }

    /// <summary>Who sees sensitive fields in plaintext: project admins (and server admins); everyone else sees them redacted.</summary>
    public const Role RevealRole = Role.Admin;

    /// <summary>A read that revealed sensitive fields: one entry naming each field (capped, with the full count).</summary>
    private static AuditRecord RevealRecord(HttpContext ctx, RouteEndpoint endpoint, IReadOnlyList<string> revealed)
    {
        const int MaxListed = 500;
        var summary = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["route"] = endpoint.RoutePattern.RawText ?? "",
            ["revealed"] = revealed.Take(MaxListed).ToList(),
            ["revealedCount"] = revealed.Count,
        });
        return new AuditRecord(Actor(ctx), ctx.Connection.RemoteIpAddress?.ToString(), $"REVEAL {Action(ctx, endpoint)}",
            ctx.Request.Path.Value ?? "", ctx.Response.StatusCode, summary);
    }

    private static string Describe(Access access) => access == Access.ServerAdmin ? "server admin" : Roles.Text((Role)access);

    /// <summary>
    /// Checks the route's role on the project its rule names (see <see cref="AccessRules"/>) and returns the
    /// projects the request may see: every project for a server admin (null), else the readable ones. For a
    /// route that names an entity, the role is checked on the entity's project; a principal who cannot even read
    /// that project is let through to the endpoint, where the scoped store finds nothing and answers exactly as
    /// for a missing entity (same code, same message), so the answer does not reveal that the entity exists.
    /// </summary>
    private static async Task<(ProjectScope? Scope, bool MayReveal)> AuthorizeAsync(HttpContext ctx, Principal principal, AccessRule rule, EntityProjects entities)
    {
        if (principal.IsServerAdmin) return (null, true);
        if (rule.Required == Access.ServerAdmin) throw Denied(ctx, principal, rule, null);
        var readable = new ProjectScope(principal.RolesByProjectId.Keys);
        var role = (Role)rule.Required;
        // The project named by the request: its project parameter, else an MLflow tracking URI's /projects/{name}.
        var named = ctx.Request.Query["project"].ToString() is { Length: > 0 } q ? q : ProjectPrefix.ProjectOf(ctx);
        switch (rule.Source)
        {
            case ProjectSource.Any:
                if (named is not null ? !principal.Can(named, role) : !principal.CanAnywhere(role)) throw Denied(ctx, principal, rule, named);
                // Results may span projects: plaintext only when the principal may reveal in every one it can see.
                return (readable, named is not null ? principal.Can(named, RevealRole) : principal.RolesByProjectId.Values.All(r => r >= RevealRole));
            case ProjectSource.Query or ProjectSource.Body:
                // A creation names its project in the body; a query parameter, when also given, must pass too.
                var project = (rule.Source == ProjectSource.Body ? await RequestKeys.BodyStringAsync(ctx.Request, "project") : null)
                              ?? named ?? OperationContext.DefaultProject;
                if (!principal.Can(project, role) || (named is not null && !principal.Can(named, role))) throw Denied(ctx, principal, rule, project);
                return (readable, principal.Can(project, RevealRole));
            default:
                var key = await RequestKeys.FindAsync(ctx, rule.Parameter!);
                var owner = key is null ? null : await entities.ProjectOfAsync(rule.Entity!.Value, key);
                if (owner is { } found && principal.Can(found.Id, Role.Reader))
                {
                    if (!principal.Can(found.Id, role)) throw Denied(ctx, principal, rule, found.Name);
                    return (readable, principal.Can(found.Id, RevealRole));
                }
                // Missing and unreadable take one path, so the answers cannot be told apart: without the role on any
                // project a 403, else on to the endpoint, whose scoped store answers 404 (or 400 for a missing id).
                if (!principal.CanAnywhere(role)) throw Denied(ctx, principal, rule, null);
                // The endpoint may still find the entity under a spelling the lookup missed (an upper-case run id):
                // it then sees only the projects where the principal holds the route's role.
                return (new ProjectScope(principal.RolesByProjectId.Where(r => r.Value >= role).Select(r => r.Key)), false);
        }
    }

    private static LineageException Denied(HttpContext ctx, Principal principal, AccessRule rule, string? project) =>
        new(ErrorCode.PermissionDenied, $"'{principal.Name}' may not {ctx.Request.Method} {ctx.Request.Path} (needs {Describe(rule.Required)}" +
                                        (rule.Required == Access.ServerAdmin ? ")" : project is null ? " on some project)" : $" on project '{project}')"));

    private static PendingAudit Pending(HttpContext ctx, RouteEndpoint endpoint) =>
        new(Actor(ctx), ctx.Connection.RemoteIpAddress?.ToString(), Action(ctx, endpoint), ctx.Request.Path.Value ?? "", Summary(ctx, endpoint, answered: false));

    private static AuditRecord Record(HttpContext ctx, RouteEndpoint endpoint, int status) =>
        new(Actor(ctx), ctx.Connection.RemoteIpAddress?.ToString(), Action(ctx, endpoint), ctx.Request.Path.Value ?? "", status,
            Summary(ctx, endpoint, answered: true));

    private static string Action(HttpContext ctx, RouteEndpoint endpoint) => $"{ctx.Request.Method} {endpoint.RoutePattern.RawText}";

    /// <summary>Route, query and request size; once answered, also the created resource's location.</summary>
    private static string Summary(HttpContext ctx, RouteEndpoint endpoint, bool answered)
    {
        var summary = new StringBuilder("{");
        summary.Append("\"route\":").Append(System.Text.Json.JsonSerializer.Serialize(endpoint.RoutePattern.RawText ?? ""));
        if (ctx.Request.QueryString.HasValue) summary.Append(",\"query\":").Append(System.Text.Json.JsonSerializer.Serialize(ctx.Request.QueryString.Value));
        if (ctx.Request.ContentLength is { } length) summary.Append(",\"requestBytes\":").Append(length);
        if (answered && ctx.Response.Headers.Location.ToString() is { Length: > 0 } location)
            summary.Append(",\"created\":").Append(System.Text.Json.JsonSerializer.Serialize(location));
        summary.Append('}');
        return summary.ToString();
    }

    /// <summary>The authenticated principal; with authentication off, the client's unverified <c>Lineage-User</c>.</summary>
    public static string Actor(HttpContext ctx) =>
        PrincipalOf(ctx)?.Name ?? (ctx.Request.Headers[RequestUser.Header].ToString() is { Length: > 0 and <= 200 } claimed ? $"unverified:{claimed}" : "anonymous");

    private sealed class AuthState(GovernanceStore store, TimeSpan cacheFor)
    {
        private readonly ConcurrentDictionary<string, (Principal? Principal, long Until)> _checked = new();
        private bool _enabled;
        private long _nextCheck;

        /// <summary>On once a principal exists (checked every 2 s until then); never off again while running.</summary>
        public async Task<bool> EnabledAsync()
        {
            if (_enabled) return true;
            var now = Environment.TickCount64;
            if (now < Volatile.Read(ref _nextCheck)) return false;
            Volatile.Write(ref _nextCheck, now + 2000);
            return _enabled = await store.AuthEnabledAsync();
        }

        public async Task<Principal?> AuthenticateAsync(string header)
        {
            if (header.Length == 0) return null;
            var key = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(header)));
            var now = Environment.TickCount64;
            if (_checked.TryGetValue(key, out var cached) && cached.Until > now) return cached.Principal;
            var principal = await CheckAsync(header);
            if (_checked.Count > 10_000) _checked.Clear(); // bounded: a flood of bad credentials cannot grow it
            _checked[key] = (principal, now + (long)cacheFor.TotalMilliseconds);
            return principal;
        }

        private async Task<Principal?> CheckAsync(string header)
        {
            if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                return await store.AuthenticateTokenAsync(header[7..].Trim());
            if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            }
            catch (FormatException)
            {
                return null;
            }
            var colon = decoded.IndexOf(':');
            if (colon <= 0) return null;
            var (user, secret) = (decoded[..colon], decoded[(colon + 1)..]);
            if (Secrets.ParseToken(secret) is not null)
                return await store.AuthenticateTokenAsync(secret) is { } byToken && byToken.Name == user ? byToken : null;
            return await store.AuthenticatePasswordAsync(user, secret);
        }
    }
}
