using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;

namespace Lineage.Tests.Storage;

/// <summary>Principals, tokens, roles and the hash-chained audit log, on both databases.</summary>
public abstract class GovernanceStoreContract : StoreTestBase
{
    private GovernanceStore Gov => new(Db);
    private AuditLog Log => new(Db);

    private async Task Sql(string sql, object? args = null) =>
        await Db.WriteAsync(async s => await s.Connection.ExecuteAsync(sql, args, s.Transaction));

    [Fact]
    public async Task authentication_is_off_until_a_principal_exists()
    {
        Assert.False(await Gov.AuthEnabledAsync());
        await Gov.CreatePrincipalAsync("ana", PrincipalKind.User, null, true, "test");
        Assert.True(await Gov.AuthEnabledAsync());
        var ex = await Assert.ThrowsAsync<LineageException>(() => Gov.CreatePrincipalAsync("ana", PrincipalKind.User, null, false, "test"));
        Assert.Equal(ErrorCode.ResourceAlreadyExists, ex.Code);
    }

    [Fact]
    public async Task a_token_authenticates_until_it_is_revoked_and_only_with_its_exact_secret()
    {
        await Gov.CreatePrincipalAsync("ci-bot", PrincipalKind.Service, null, false, "test");
        var issued = await Gov.IssueTokenAsync("ci-bot", "ci", TimeSpan.FromDays(1), "test");
        Assert.Equal("ci-bot", (await Gov.AuthenticateTokenAsync(issued.Secret))?.Name);
        Assert.Null(await Gov.AuthenticateTokenAsync(issued.Secret[..^1] + (issued.Secret[^1] == 'a' ? 'b' : 'a')));
        Assert.Null(await Gov.AuthenticateTokenAsync("lin_0000000000000000_nope"));
        Assert.Null(await Gov.AuthenticateTokenAsync("not a token"));
        // Only a salted hash is stored: the secret appears nowhere in the database.
        var stored = await Db.ReadAsync(async s => (await s.Connection.QueryAsync<string>("SELECT hash || salt || public_id FROM api_tokens", transaction: s.Transaction)).Single());
        // The secret part is everything after the public id; it may itself contain '_' (base64url).
        Assert.DoesNotContain(string.Join('_', issued.Secret.Split('_').Skip(2)), stored);

        await Gov.RevokeTokenAsync(issued.Token.Id, "test");
        Assert.Null(await Gov.AuthenticateTokenAsync(issued.Secret));
        var again = await Assert.ThrowsAsync<LineageException>(() => Gov.RevokeTokenAsync(issued.Token.Id, "test"));
        Assert.Equal(ErrorCode.ResourceDoesNotExist, again.Code);
    }

    [Fact]
    public async Task an_expired_token_no_longer_authenticates()
    {
        await Gov.CreatePrincipalAsync("ana", PrincipalKind.User, null, false, "test");
        var issued = await Gov.IssueTokenAsync("ana", null, TimeSpan.FromMilliseconds(50), "test");
        await Task.Delay(120);
        Assert.Null(await Gov.AuthenticateTokenAsync(issued.Secret));
    }

    [Fact]
    public async Task passwords_are_stored_as_a_slow_salted_hash_and_checked()
    {
        await Gov.CreatePrincipalAsync("bob", PrincipalKind.User, "correct horse battery", false, "test");
        Assert.Equal("bob", (await Gov.AuthenticatePasswordAsync("bob", "correct horse battery"))?.Name);
        Assert.Null(await Gov.AuthenticatePasswordAsync("bob", "wrong horse battery"));
        Assert.Null(await Gov.AuthenticatePasswordAsync("nobody", "correct horse battery"));
        var stored = await Db.ReadAsync(async s => await s.Connection.ExecuteScalarAsync<string>("SELECT password_hash FROM principals WHERE name = 'bob'", transaction: s.Transaction));
        Assert.StartsWith($"pbkdf2-sha256${Secrets.PasswordIterations}$", stored);
        await Assert.ThrowsAsync<LineageException>(() => Gov.CreatePrincipalAsync("eve", PrincipalKind.User, "short", false, "test"));
    }

    [Fact]
    public async Task roles_are_per_project_and_each_includes_the_ones_below()
    {
        await Store.CreateProjectAsync("team-b", null);
        await Gov.CreatePrincipalAsync("ana", PrincipalKind.User, null, false, "test");
        await Gov.GrantAsync("ana", "default", Role.Approver, "test");
        var issued = await Gov.IssueTokenAsync("ana", null, null, "test");
        var ana = (await Gov.AuthenticateTokenAsync(issued.Secret))!;
        Assert.True(ana.Can("default", Role.Reader));
        Assert.True(ana.Can("default", Role.Approver));
        Assert.False(ana.Can("default", Role.Admin));
        Assert.False(ana.Can("team-b", Role.Reader));
        await Gov.RevokeRoleAsync("ana", "default", "test");
        Assert.False((await Gov.AuthenticateTokenAsync(issued.Secret))!.Can("default", Role.Reader));
        await Assert.ThrowsAsync<LineageException>(() => Gov.GrantAsync("ana", "no-such-project", Role.Reader, "test"));
    }

    [Fact]
    public async Task every_permission_change_is_in_the_audit_log_and_the_chain_verifies()
    {
        await Gov.CreatePrincipalAsync("ana", PrincipalKind.User, null, true, "cli:root");
        var token = await Gov.IssueTokenAsync("ana", null, null, "cli:root");
        await Gov.GrantAsync("ana", "default", Role.Writer, "cli:root");
        await Gov.RevokeTokenAsync(token.Token.Id, "cli:root");
        var entries = await Log.ListAsync(new AuditQuery());
        Assert.Equal(new[] { "principal.create", "token.create", "role.grant", "token.revoke" }, entries.Select(e => e.Action));
        Assert.All(entries, e => Assert.Equal("cli:root", e.Actor));
        Assert.Contains("\"after\":\"writer\"", entries[2].Summary);
        var check = await Log.VerifyAsync();
        Assert.True(check.Intact);
        Assert.Equal(4, check.Entries);
        Assert.Equal(entries[^1].Hash, check.HeadHash);
    }

    private async Task<IReadOnlyList<AuditEntry>> FiveEntries()
    {
        for (var i = 0; i < 5; i++) await Log.AppendAsync(new AuditRecord("ana", "127.0.0.1", "POST /api/v1/runs/", $"/api/v1/runs/{i}", 201, "{}"));
        return await Log.ListAsync(new AuditQuery());
    }

    [Fact]
    public async Task an_edited_audit_entry_is_named_by_verify()
    {
        await FiveEntries();
        await Sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3");
        var check = await Log.VerifyAsync();
        Assert.Equal(3, check.FirstBreak?.Seq);
        Assert.Contains("edited", check.FirstBreak!.Reason);
        Assert.Equal(2, check.Entries);
    }

    [Fact]
    public async Task an_edited_entry_with_its_hash_recomputed_breaks_the_next_link()
    {
        var entries = await FiveEntries();
        var e = entries[1] with { Actor = "mallory" };
        await Sql("UPDATE audit_log SET actor = @Actor, hash = @hash WHERE seq = @Seq", new { e.Actor, hash = AuditChain.Hash(e), e.Seq });
        Assert.Equal(3, (await Log.VerifyAsync()).FirstBreak?.Seq);
    }

    [Fact]
    public async Task a_deleted_audit_entry_is_named_by_verify()
    {
        await FiveEntries();
        await Sql("DELETE FROM audit_log WHERE seq = 2");
        var check = await Log.VerifyAsync();
        Assert.Equal(3, check.FirstBreak?.Seq);
        Assert.Contains("missing", check.FirstBreak!.Reason);

        await Sql("DELETE FROM audit_log WHERE seq = 1");
        Assert.Equal(3, (await Log.VerifyAsync()).FirstBreak?.Seq); // the oldest ones gone: the chain no longer starts at 1
    }

    [Fact]
    public async Task concurrent_appends_keep_one_chain_without_gaps()
    {
        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Log.AppendAsync(new AuditRecord($"u{i % 7}", null, "POST x", $"/t/{i}", 200, "{}"))));
        var check = await Log.VerifyAsync();
        Assert.True(check.Intact, check.FirstBreak?.Reason);
        Assert.Equal(100, check.Entries);
        Assert.Equal(15, (await Log.ListAsync(new AuditQuery(Actor: "u0"))).Count);
        Assert.Single(await Log.ListAsync(new AuditQuery(Target: "/t/42")));
    }
}

public sealed class GovernanceStoreSqliteTests : GovernanceStoreContract
{
    protected override string NewTarget(TempDir dir) => dir.File($"gov-{Guid.NewGuid():N}.db");
}

public sealed class GovernanceStorePostgresTests : GovernanceStoreContract
{
    protected override string NewTarget(TempDir dir) => PostgresTarget.CreateDatabase();
}
