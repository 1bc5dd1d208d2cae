using System.CommandLine;
using System.Text.Json;
using Lineage.Cli.Output;
using Lineage.Core.Governance;
using Lineage.Storage.Engine;
using Lineage.Storage.Governance;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary>
/// Users, tokens, roles and the audit log, run directly on the database (like 'lineage db'): the first
/// admin must be created before authentication exists, and auditors check the log without the server.
/// Every change is recorded in the audit log as the operating-system user ("cli:&lt;user&gt;").
/// </summary>
public static class GovernanceCommands
{
    private static string Actor => $"cli:{Environment.UserName}";

    private static async Task<T> WithDb<T>(ParseResult parse, CancellationToken ct, Func<Database, Task<T>> body)
    {
        await using var db = await Database.OpenAsync(parse.GetValue(ServerCommand.DbOption)!, ct: ct);
        return await body(db);
    }

    public static Command Users()
    {
        var name = new Argument<string>("name") { Description = "User or service-account name (letters, digits, . _ - @)" };
        var service = new Option<bool>("--service") { Description = "A service account (a pipeline, a CI job) instead of a person" };
        var admin = new Option<bool>("--admin") { Description = "Server-wide admin: every project, every route" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read a password (12+ characters) from standard input, for HTTP Basic logins" };
        var create = new Command("create", """
            Create a user or service account. The first one switches authentication on for every server
            on this database (within seconds for running servers).

            Examples:
              lineage users create ana --admin
              echo 'correct horse battery' | lineage users create ci-bot --service --password-stdin
            """) { name, service, admin, passwordStdin, ServerCommand.DbOption };
        create.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var password = parse.GetValue(passwordStdin) ? (await Console.In.ReadLineAsync(ct))?.TrimEnd('\r', '\n') : null;
            var created = await WithDb(parse, ct, db => new GovernanceStore(db).CreatePrincipalAsync(parse.GetValue(name)!,
                parse.GetValue(service) ? PrincipalKind.Service : PrincipalKind.User, password, parse.GetValue(admin), Actor));
            Terminal.Line($"created {(created.Kind == PrincipalKind.User ? "user" : "service account")} '{created.Name}'{(created.IsServerAdmin ? " (server admin)" : "")}; " +
                          $"next: lineage tokens create {created.Name}");
            return 0;
        }));
        var list = new Command("list", "List users and service accounts with their project roles.\n\nExample:\n  lineage users list") { ServerCommand.DbOption };
        list.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var principals = await WithDb(parse, ct, db => new GovernanceStore(db).ListPrincipalsAsync());
            if (parse.GetValue(CliApp.JsonOption))
            {
                foreach (var p in principals)
                    Terminal.Line(JsonSerializer.Serialize(new Dictionary<string, object> { ["name"] = p.Name, ["kind"] = p.Kind.ToString().ToLowerInvariant(),
                        ["serverAdmin"] = p.IsServerAdmin, ["roles"] = p.Roles.ToDictionary(r => r.Key, r => Core.Governance.Roles.Text(r.Value)) }));
                return 0;
            }
            var table = Terminal.Table("Name", "Kind", "Server admin", "Project roles");
            foreach (var p in principals)
                table.AddRow(Terminal.Esc(p.Name), p.Kind.ToString().ToLowerInvariant(), p.IsServerAdmin ? "yes" : "",
                    Terminal.Esc(string.Join(", ", p.Roles.OrderBy(r => r.Key).Select(r => $"{r.Key}: {Core.Governance.Roles.Text(r.Value)}"))));
            Terminal.Write(table);
            return 0;
        }));
        return new Command("users", "Users and service accounts (authentication is on once one exists).") { create, list };
    }

    public static Command Tokens()
    {
        var principal = new Argument<string>("principal") { Description = "Whose token" };
        var label = new Option<string?>("--name") { Description = "A label to tell tokens apart (e.g. 'laptop', 'airflow')" };
        var days = new Option<double?>("--expires-days") { Description = "Lifetime in days (default 90; 0 is refused)", DefaultValueFactory = _ => 90 };
        var never = new Option<bool>("--no-expiry") { Description = "A token that never expires (service accounts; prefer rotation)" };
        var create = new Command("create", """
            Create an API token. It is printed once and stored only as a salted hash: keep it now.
            Use it as 'Authorization: Bearer <token>', or as the password of HTTP Basic (MLFLOW_TRACKING_PASSWORD).

            Examples:
              lineage tokens create ana --name laptop
              lineage tokens create ci-bot --expires-days 30
            """) { principal, label, days, never, ServerCommand.DbOption };
        create.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            TimeSpan? life = parse.GetValue(never) ? null : TimeSpan.FromDays(parse.GetValue(days) ?? 90);
            var issued = await WithDb(parse, ct, db => new GovernanceStore(db).IssueTokenAsync(parse.GetValue(principal)!, parse.GetValue(label), life, Actor));
            Terminal.Line(issued.Secret);
            Terminal.Error($"token {issued.Token.Id} for '{issued.Token.Principal}', expires {(issued.Token.ExpiresAt is null ? "never" : Terminal.Time(issued.Token.ExpiresAt))}; it is shown only this once");
            return 0;
        }));
        var owner = new Argument<string?>("principal") { Description = "Only this principal's tokens", Arity = ArgumentArity.ZeroOrOne };
        var list = new Command("list", "List tokens (never their secrets).\n\nExample:\n  lineage tokens list ana") { owner, ServerCommand.DbOption };
        list.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var tokens = await WithDb(parse, ct, db => new GovernanceStore(db).ListTokensAsync(parse.GetValue(owner)));
            var table = Terminal.Table("Id", "Principal", "Name", "Created", "Expires", "Revoked");
            foreach (var t in tokens)
                table.AddRow(t.Id.ToString(), Terminal.Esc(t.Principal), Terminal.Esc(t.Name), Terminal.Time(t.CreatedAt), t.ExpiresAt is null ? "never" : Terminal.Time(t.ExpiresAt),
                    t.RevokedAt is null ? "" : Terminal.Time(t.RevokedAt));
            Terminal.Write(table);
            return 0;
        }));
        var id = new Argument<long>("id") { Description = "Token id (from 'lineage tokens list')" };
        var revoke = new Command("revoke", "Revoke a token; servers refuse it within 10 seconds.\n\nExample:\n  lineage tokens revoke 3") { id, ServerCommand.DbOption };
        revoke.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            await WithDb(parse, ct, async db => { await new GovernanceStore(db).RevokeTokenAsync(parse.GetValue(id), Actor); return 0; });
            Terminal.Line($"revoked token {parse.GetValue(id)}");
            return 0;
        }));
        return new Command("tokens", "API tokens: shown once, stored as a salted hash, expiring, revocable.") { create, list, revoke };
    }

    public static Command Roles()
    {
        var principal = new Argument<string>("principal");
        var project = new Argument<string>("project");
        var role = new Argument<string>("role") { Description = "reader, writer, approver or admin (each includes the ones before)" };
        var grant = new Command("grant", """
            Give a principal a role on a project (replacing the one it had).

            Examples:
              lineage roles grant ana default writer
              lineage roles grant lead default approver
            """) { principal, project, role, ServerCommand.DbOption };
        grant.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var r = Core.Governance.Roles.Parse(parse.GetValue(role)!);
            await WithDb(parse, ct, async db => { await new GovernanceStore(db).GrantAsync(parse.GetValue(principal)!, parse.GetValue(project)!, r, Actor); return 0; });
            Terminal.Line($"'{parse.GetValue(principal)}' is {Core.Governance.Roles.Text(r)} on '{parse.GetValue(project)}'");
            return 0;
        }));
        var who = new Argument<string>("principal");
        var where = new Argument<string>("project");
        var revoke = new Command("revoke", "Take a principal's role on a project away.\n\nExample:\n  lineage roles revoke ana default") { who, where, ServerCommand.DbOption };
        revoke.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            await WithDb(parse, ct, async db => { await new GovernanceStore(db).RevokeRoleAsync(parse.GetValue(who)!, parse.GetValue(where)!, Actor); return 0; });
            Terminal.Line($"'{parse.GetValue(who)}' has no role on '{parse.GetValue(where)}' now");
            return 0;
        }));
        return new Command("roles", "Project roles: reader < writer < approver < admin.") { grant, revoke };
    }

    public static Command Audit()
    {
        var verify = new Command("verify", """
            Re-check the audit log's hash chain from the first entry. Names the first entry whose content or
            link does not hold (edited or deleted entries) and exits 1; prints the head to record for later.
            Also counts write entries not chained yet: they commit with their writes and a server chains them
            right after answering, or, left by a server that stopped first, once two minutes old.

            Example:
              lineage audit verify --db ./lineage-data/lineage.db
            """) { ServerCommand.DbOption };
        verify.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var result = await WithDb(parse, ct, db => new AuditLog(db).VerifyAsync());
            if (result.OldestPendingTime is { } oldest)
                Terminal.Line($"{result.Pending:N0} write entries pending, not chained yet (oldest written {Terminal.Time(oldest)}): not covered by this check");
            if (result.FirstBreak is { } broken)
            {
                Terminal.Error($"audit log BROKEN at entry {broken.Seq}: {broken.Reason} ({result.Entries:N0} entries before it are intact)");
                return 1;
            }
            Terminal.Line($"audit log intact: {result.Entries:N0} entries; head {result.HeadSeq?.ToString() ?? "-"} {result.HeadHash ?? ""}");
            return 0;
        }));

        var actor = new Option<string?>("--actor") { Description = "Only this actor (principal name, cli:<user>, unverified:<name>, anonymous)" };
        var target = new Option<string?>("--target") { Description = "Only entries whose target contains this text (e.g. a run id, 'principal:ana')" };
        var since = new Option<DateTimeOffset?>("--since") { Description = "From this time (ISO-8601)" };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Before this time (ISO-8601)" };
        var limit = new Option<int>("--limit") { Description = "At most this many entries", DefaultValueFactory = _ => 100 };
        var list = new Command("list", """
            Show audit entries, oldest first, filtered by actor, target and time.

            Examples:
              lineage audit list --actor ana --since 2026-11-01
              lineage audit list --target principal: --json
            """) { actor, target, since, until, limit, ServerCommand.DbOption };
        list.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var entries = await WithDb(parse, ct, db => new AuditLog(db).ListAsync(Query(parse, actor, target, since, until, parse.GetValue(limit))));
            if (parse.GetValue(CliApp.JsonOption))
            {
                foreach (var e in entries) Terminal.Line(JsonLine(e));
                return 0;
            }
            var table = Terminal.Table("Seq", "Time", "Actor", "Address", "Action", "Target", "Status");
            foreach (var e in entries)
                table.AddRow(e.Seq.ToString(), Terminal.Time(e.Time), Terminal.Esc(e.Actor), Terminal.Esc(e.Address), Terminal.Esc(e.Action), Terminal.Esc(e.Target), e.Status.ToString());
            Terminal.Write(table);
            return 0;
        }));

        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of standard output" };
        var export = new Command("export", """
            Export the audit log as JSON lines (every field, hashes included, so the chain can be re-checked elsewhere).

            Example:
              lineage audit export -o audit-2026-11.jsonl --since 2026-11-01
            """) { actor, target, since, until, output, ServerCommand.DbOption };
        export.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var file = parse.GetValue(output);
            await using var writer = file is null ? null : new StreamWriter(file);
            long count = 0;
            await WithDb(parse, ct, async db =>
            {
                var log = new AuditLog(db);
                long? after = null;
                while (true)
                {
                    var page = await log.ListAsync(Query(parse, actor, target, since, until, 5000) with { AfterSeq = after });
                    if (page.Count == 0) return 0;
                    foreach (var e in page)
                    {
                        if (writer is null) Terminal.Line(JsonLine(e)); else await writer.WriteLineAsync(JsonLine(e));
                        count++;
                    }
                    after = page[^1].Seq;
                }
            });
            if (file is not null) Terminal.Line($"exported {count:N0} entries to {file}");
            return 0;
        }));
        return new Command("audit", "The tamper-evident audit log: every write and permission change, hash-chained.") { verify, list, export };
    }

    private static AuditQuery Query(ParseResult parse, Option<string?> actor, Option<string?> target, Option<DateTimeOffset?> since, Option<DateTimeOffset?> until, int limit) =>
        new(parse.GetValue(actor), parse.GetValue(target), parse.GetValue(since)?.ToUnixTimeMilliseconds(), parse.GetValue(until)?.ToUnixTimeMilliseconds(), null, limit);

    private static string JsonLine(AuditEntry e) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["seq"] = e.Seq, ["time"] = DateTimeOffset.FromUnixTimeMilliseconds(e.Time).ToString("O"), ["actor"] = e.Actor, ["address"] = e.Address,
        ["action"] = e.Action, ["target"] = e.Target, ["status"] = e.Status, ["summary"] = e.Summary, ["prevHash"] = e.PrevHash, ["hash"] = e.Hash,
    });
}
