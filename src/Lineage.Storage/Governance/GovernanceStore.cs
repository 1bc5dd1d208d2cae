using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Governance;

/// <summary>
/// Principals (users and service accounts), API tokens and project roles. Every change is one
/// transaction that also appends its audit entry. Thread-safe.
/// </summary>
public sealed class GovernanceStore(Database db)
{
    public const int MaxNameLength = 100;

    /// <summary>Whether any principal exists: then every request must authenticate.</summary>
    public Task<bool> AuthEnabledAsync() =>
        // One row looked at, not a count of them all: asked at every start-up (issue 15).
        db.ReadAsync(async s => await s.Connection.ExecuteScalarAsync<long?>("SELECT 1 FROM principals LIMIT 1", transaction: s.Transaction) is not null);

    public Task<Principal> CreatePrincipalAsync(string name, PrincipalKind kind, string? password, bool serverAdmin, string actor)
    {
        CheckName(name);
        if (password is { Length: < 12 }) throw LineageException.Invalid("password", "a password must have at least 12 characters");
        var hash = password is null ? null : Secrets.HashPassword(password); // slow by design: outside the transaction
        return db.WriteAsync(async s =>
        {
            var id = await s.Connection.QueryFirstOrDefaultAsync<long?>("""
                INSERT INTO principals (name, kind, password_hash, is_admin, created_at, created_by) VALUES (@name, @kind, @hash, @serverAdmin, @now, @actor)
                ON CONFLICT (name) DO NOTHING RETURNING id
                """, new { name, kind = kind == PrincipalKind.User ? "user" : "service", hash, serverAdmin, now = Clock.NowMs(), actor }, s.Transaction)
                ?? throw LineageException.AlreadyExists($"principal '{name}' already exists");
            await AuditLog.AppendAsync(s, new AuditRecord(actor, null, "principal.create", $"principal:{name}", 200,
                $"{{\"kind\":\"{(kind == PrincipalKind.User ? "user" : "service")}\",\"serverAdmin\":{(serverAdmin ? "true" : "false")},\"password\":{(hash is null ? "false" : "true")}}}"));
            return new Principal(id, name, kind, serverAdmin, new Dictionary<string, Role>());
        });
    }

    public Task<IReadOnlyList<Principal>> ListPrincipalsAsync() =>
        db.ReadAsync<IReadOnlyList<Principal>>(async s =>
        {
            var rows = await s.Connection.QueryAsync<PrincipalRow>("SELECT id, name, kind, is_admin AS IsAdmin FROM principals ORDER BY name", transaction: s.Transaction);
            var list = new List<Principal>();
            foreach (var r in rows) list.Add(await LoadAsync(s, r));
            return list;
        });

    public Task<IssuedToken> IssueTokenAsync(string principal, string? name, TimeSpan? lifetime, string actor)
    {
        if (lifetime is { } l && l <= TimeSpan.Zero) throw LineageException.Invalid("expires", "a token's lifetime must be positive");
        var (token, publicId, salt, hash) = Secrets.NewToken();
        return db.WriteAsync(async s =>
        {
            var owner = await RequireAsync(s, principal);
            var now = Clock.NowMs();
            long? expires = lifetime is { } life ? now + (long)life.TotalMilliseconds : null;
            var id = await s.Connection.ExecuteScalarAsync<long>("""
                INSERT INTO api_tokens (principal_id, public_id, salt, hash, name, created_at, expires_at)
                VALUES (@Id, @publicId, @salt, @hash, @name, @now, @expires) RETURNING id
                """, new { owner.Id, publicId, salt, hash, name, now, expires }, s.Transaction);
            await AuditLog.AppendAsync(s, new AuditRecord(actor, null, "token.create", $"principal:{principal}", 200,
                $"{{\"token\":{id},\"expiresAt\":{(expires?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null")}}}"));
            return new IssuedToken(new ApiToken(id, principal, name, now, expires, null), token);
        });
    }

    public Task<IReadOnlyList<ApiToken>> ListTokensAsync(string? principal) =>
        db.ReadAsync<IReadOnlyList<ApiToken>>(async s => (await s.Connection.QueryAsync<TokenRow>("""
            SELECT t.id, p.name AS Principal, t.name, t.created_at AS CreatedAt, t.expires_at AS ExpiresAt, t.revoked_at AS RevokedAt
            FROM api_tokens t JOIN principals p ON p.id = t.principal_id WHERE (@principal IS NULL OR p.name = @principal) ORDER BY t.id
            """, new { principal }, s.Transaction)).Select(t => new ApiToken(t.Id, t.Principal, t.Name, t.CreatedAt, t.ExpiresAt, t.RevokedAt)).ToList());

    public Task RevokeTokenAsync(long tokenId, string actor) =>
        db.WriteAsync(async s =>
        {
            var revoked = await s.Connection.ExecuteAsync("UPDATE api_tokens SET revoked_at = @now WHERE id = @tokenId AND revoked_at IS NULL",
                new { tokenId, now = Clock.NowMs() }, s.Transaction);
            if (revoked == 0) throw LineageException.NotFound($"token {tokenId} does not exist or is already revoked");
            await AuditLog.AppendAsync(s, new AuditRecord(actor, null, "token.revoke", $"token:{tokenId}", 200, "{}"));
            return 0;
        });

    public Task GrantAsync(string principal, string project, Role role, string actor) =>
        db.WriteAsync(async s =>
        {
            var p = await RequireAsync(s, principal);
            var projectId = (await ExperimentAccess.RequireProjectAsync(s, project)).Id;
            var before = await s.Connection.ExecuteScalarAsync<string?>("SELECT role FROM project_roles WHERE principal_id = @Id AND project_id = @projectId",
                new { p.Id, projectId }, s.Transaction);
            await s.Connection.ExecuteAsync("""
                INSERT INTO project_roles (principal_id, project_id, role, granted_at, granted_by) VALUES (@Id, @projectId, @role, @now, @actor)
                ON CONFLICT (principal_id, project_id) DO UPDATE SET role = excluded.role, granted_at = excluded.granted_at, granted_by = excluded.granted_by
                """, new { p.Id, projectId, role = Roles.Text(role), now = Clock.NowMs(), actor }, s.Transaction);
            await AuditLog.AppendAsync(s, new AuditRecord(actor, null, "role.grant", $"principal:{principal}", 200,
                $"{{\"project\":\"{project}\",\"before\":{(before is null ? "null" : $"\"{before}\"")},\"after\":\"{Roles.Text(role)}\"}}"));
            return 0;
        });

    public Task RevokeRoleAsync(string principal, string project, string actor) =>
        db.WriteAsync(async s =>
        {
            var p = await RequireAsync(s, principal);
            var projectId = (await ExperimentAccess.RequireProjectAsync(s, project)).Id;
            if (await s.Connection.ExecuteAsync("DELETE FROM project_roles WHERE principal_id = @Id AND project_id = @projectId", new { p.Id, projectId }, s.Transaction) == 0)
                throw LineageException.NotFound($"'{principal}' has no role on project '{project}'");
            await AuditLog.AppendAsync(s, new AuditRecord(actor, null, "role.revoke", $"principal:{principal}", 200, $"{{\"project\":\"{project}\"}}"));
            return 0;
        });

    /// <summary>The principal a bearer token belongs to; null for an unknown, wrong, expired or revoked token.</summary>
    public Task<Principal?> AuthenticateTokenAsync(string token) =>
        Secrets.ParseToken(token) is not { } parts ? Task.FromResult<Principal?>(null) : db.ReadAsync(async s =>
        {
            var row = await s.Connection.QueryFirstOrDefaultAsync<TokenSecretRow>("""
                SELECT t.salt, t.hash, t.expires_at AS ExpiresAt, t.revoked_at AS RevokedAt, p.id AS PrincipalId, p.name, p.kind, p.is_admin AS IsAdmin
                FROM api_tokens t JOIN principals p ON p.id = t.principal_id WHERE t.public_id = @PublicId
                """, new { parts.PublicId }, s.Transaction);
            if (row is null || row.RevokedAt is not null || (row.ExpiresAt is { } e && e <= Clock.NowMs())) return null;
            if (!Secrets.TokenMatches(parts.Secret, row.Salt, row.Hash)) return null;
            return await LoadAsync(s, new PrincipalRow { Id = row.PrincipalId, Name = row.Name, Kind = row.Kind, IsAdmin = row.IsAdmin });
        });

    /// <summary>The principal for a name and password; null when either is wrong (no hint which).</summary>
    public Task<Principal?> AuthenticatePasswordAsync(string name, string password) =>
        db.ReadAsync(async s =>
        {
            var row = await s.Connection.QueryFirstOrDefaultAsync<PrincipalRow>(
                "SELECT id, name, kind, is_admin AS IsAdmin, password_hash AS PasswordHash FROM principals WHERE name = @name", new { name }, s.Transaction);
            if (row?.PasswordHash is null || !Secrets.VerifyPassword(password, row.PasswordHash)) return null;
            return await LoadAsync(s, row);
        });

    private static async Task<Principal> RequireAsync(DbSession s, string name) =>
        await s.Connection.QueryFirstOrDefaultAsync<PrincipalRow>("SELECT id, name, kind, is_admin AS IsAdmin FROM principals WHERE name = @name", new { name }, s.Transaction)
            is { } row ? await LoadAsync(s, row) : throw LineageException.NotFound($"principal '{name}' does not exist");

    private static async Task<Principal> LoadAsync(DbSession s, PrincipalRow row)
    {
        var rows = (await s.Connection.QueryAsync<(long ProjectId, string Project, string Role)>("""
            SELECT pr.id, pr.name, r.role FROM project_roles r JOIN projects pr ON pr.id = r.project_id WHERE r.principal_id = @Id
            """, new { row.Id }, s.Transaction)).ToList();
        return new Principal(row.Id, row.Name, row.Kind == "user" ? PrincipalKind.User : PrincipalKind.Service, row.IsAdmin,
            rows.ToDictionary(r => r.Project, r => Roles.Parse(r.Role)))
        {
            RolesByProjectId = rows.ToDictionary(r => r.ProjectId, r => Roles.Parse(r.Role)),
        };
    }

    private static void CheckName(string name)
    {
        if (name.Length is 0 or > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'))
            throw LineageException.Invalid("name", $"a principal name is 1–{MaxNameLength} letters, digits, '.', '_', '-' or '@', got '{name}'");
    }

    private sealed class PrincipalRow
    {
        public long Id { get; set; }
        public string Name { get; set; } = "";
        public string Kind { get; set; } = "user";
        public bool IsAdmin { get; set; }
        public string? PasswordHash { get; set; }
    }

    private sealed class TokenRow
    {
        public long Id { get; set; }
        public string Principal { get; set; } = "";
        public string? Name { get; set; }
        public long CreatedAt { get; set; }
        public long? ExpiresAt { get; set; }
        public long? RevokedAt { get; set; }
    }

    private sealed class TokenSecretRow
    {
        public string Salt { get; set; } = "";
        public string Hash { get; set; } = "";
        public long? ExpiresAt { get; set; }
        public long? RevokedAt { get; set; }
        public long PrincipalId { get; set; }
        public string Name { get; set; } = "";
        public string Kind { get; set; } = "user";
        public bool IsAdmin { get; set; }
    }
}
