using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Server;
using Lineage.Server.Http;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Tests.Api;

/// <summary>Authentication, the route-by-role matrix, audit of writes, and the safe default for exposed servers.</summary>
public abstract class AccessControlTests : IAsyncLifetime
{
    protected TestServer Server = null!;
    protected abstract bool Postgres { get; }
    private readonly Dictionary<string, string> _tokens = new();

    private static readonly (string Name, Role? Role, bool ServerAdmin)[] Principals =
    [
        ("nobody", null, false), ("reader", Role.Reader, false), ("writer", Role.Writer, false),
        ("approver", Role.Approver, false), ("padmin", Role.Admin, false), ("root", null, true),
    ];

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync(Postgres, o => o with { CredentialCache = TimeSpan.Zero });
        var gov = new GovernanceStore(Server.Server.Database);
        foreach (var (name, role, admin) in Principals)
        {
            await gov.CreatePrincipalAsync(name, PrincipalKind.User, name == "writer" ? "writer-password-123" : null, admin, "test");
            if (role is { } r) await gov.GrantAsync(name, "default", r, "test");
            _tokens[name] = (await gov.IssueTokenAsync(name, null, TimeSpan.FromHours(1), "test")).Secret;
        }
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Send(string method, string path, string? who, string? json = null,
        AuthenticationHeaderValue? auth = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = auth ?? (who is null ? null : new AuthenticationHeaderValue("Bearer", _tokens[who]));
        if (method is not ("GET" or "HEAD" or "DELETE")) request.Content = new StringContent(json ?? "{}", Encoding.UTF8, contentType);
        // Headers first: an accepted event stream (text/event-stream) never ends, so its body is not read.
        using var response = await Server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = response.Content.Headers.ContentType?.MediaType == "text/event-stream" ? "" : await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        try { body = text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null; } catch (System.Text.Json.JsonException) { }
        return (response.StatusCode, body);
    }

    private IEnumerable<(string Method, string Pattern)> Routes() => RoutesWithContentType().Select(r => (r.Method, r.Pattern)).Distinct();

    /// <summary>Each route with a content type it accepts (routing answers 415 before anything else for others).</summary>
    private IEnumerable<(string Method, string Pattern, string ContentType)> RoutesWithContentType() =>
        Server.Server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (m, e.RoutePattern.RawText ?? "",
                e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.ContentTypes.FirstOrDefault() ?? "application/json")))
            .DistinctBy(r => (r.Item1, r.Item2));

    [Fact]
    public void every_route_of_every_surface_has_an_access_rule_and_every_rule_a_route()
    {
        var live = Routes().Select(r => $"{r.Method} {r.Pattern}").ToHashSet();
        var missing = live.Where(k => AccessRules.For(k.Split(' ')[0], k[(k.IndexOf(' ') + 1)..]) is null).Order().ToList();
        Assert.True(missing.Count == 0, "routes without a rule in AccessRules:\n" + string.Join("\n", missing));
        var stale = AccessRules.Keys.Where(k => !live.Contains(k)).Order().ToList();
        Assert.True(stale.Count == 0, "rules for routes that do not exist:\n" + string.Join("\n", stale));
    }

    [Fact]
    public void every_route_naming_an_entity_by_id_checks_the_entity_s_project_and_every_collection_read_is_filtered()
    {
        // Issue 7: a new route that takes a server-wide id must say how its project is found, or readers of one
        // project could reach another's entities through it; a new list must filter its results.
        var failures = new List<string>();
        foreach (var key in AccessRules.Keys)
        {
            var (method, pattern) = (key[..key.IndexOf(' ')], key[(key.IndexOf(' ') + 1)..]);
            var rule = AccessRules.For(method, pattern)!;
            if (rule.Required is Access.Public or Access.ServerAdmin) continue;
            var byId = Regex.Match(pattern, @"\{(id|runId|\*\*path)\}");
            if (byId.Success && (rule.Source != ProjectSource.Entity || !pattern.Replace("**", "").Contains("{" + rule.Parameter + "}")))
                failures.Add($"{key}: names an entity by {byId.Value} but checks {rule.Source}");
            if (method == "GET" && (pattern.EndsWith('/') || pattern.Contains("/search/")) && rule.Source != ProjectSource.Any)
                failures.Add($"{key}: a collection read that is not filtered to readable projects ({rule.Source})");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static readonly Dictionary<string, string> Values = new()
    {
        ["runId"] = "0123456789abcdef0123456789abcdef", ["digest"] = new string('0', 64), ["documentName"] = "v1",
        ["id"] = "1", ["version"] = "1", ["reference"] = "1",
    };

    private static string Fill(string pattern) =>
        "/" + Regex.Replace(pattern, @"\{\*{0,2}(\w+)[^}]*\}", m => Values.GetValueOrDefault(m.Groups[1].Value, "x")).TrimStart('/');

    [Fact]
    public async Task the_route_by_role_matrix_holds_for_every_route()
    {
        var failures = new List<string>();
        foreach (var (method, pattern, contentType) in RoutesWithContentType().OrderBy(r => r.Pattern).ThenBy(r => r.Method))
        {
            var rule = AccessRules.For(method, pattern)!;
            if (rule.Required == Access.Public) continue;
            var path = Fill(pattern);
            var (anonymous, _) = await Send(method, path, null, contentType: contentType);
            if (anonymous != HttpStatusCode.Unauthorized) failures.Add($"{method} {pattern}: no credentials gave {(int)anonymous}, not 401");
            foreach (var (name, role, admin) in Principals)
            {
                var allowed = admin || (rule.Required != Access.ServerAdmin && role is { } r && (int)r >= (int)rule.Required);
                var (status, body) = await Send(method, path, name, contentType: contentType);
                // Our denial names the rule; a HEAD answer has no body to name it.
                var denied = status == HttpStatusCode.Forbidden && (method == "HEAD" || ((string?)body?["message"])?.Contains("may not") == true);
                if (status == HttpStatusCode.Unauthorized) failures.Add($"{method} {pattern} as {name}: 401");
                else if (allowed && denied) failures.Add($"{method} {pattern} as {name}: denied, but {rule.Required} should pass");
                else if (!allowed && !denied) failures.Add($"{method} {pattern} as {name}: {(int)status}, expected 403 (needs {rule.Required})");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task bad_or_missing_credentials_are_401_and_reveal_nothing()
    {
        foreach (var auth in new AuthenticationHeaderValue?[]
                 {
                     null, new("Bearer", "lin_0000000000000000_guess"), new("Bearer", "garbage"),
                     new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("writer:wrong-password-123"))),
                     new("Basic", "%%%"), new("Digest", "x"),
                 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/runs/0123456789abcdef0123456789abcdef");
            request.Headers.Authorization = auth;
            using var response = await Server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("UNAUTHENTICATED", (string?)body["error_code"]);
            Assert.DoesNotContain("0123456789abcdef", (string?)body["message"]);
        }
        Assert.Equal(HttpStatusCode.OK, (await Send("GET", "/health", null)).Status);
    }

    [Fact]
    public async Task mlflow_clients_log_in_with_basic_user_and_token_or_password()
    {
        var byToken = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"reader:{_tokens["reader"]}")));
        Assert.Equal(HttpStatusCode.OK, (await Send("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", null, auth: byToken)).Status);
        var byPassword = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("writer:writer-password-123")));
        Assert.Equal(HttpStatusCode.OK, (await Send("POST", "/api/2.0/mlflow/experiments/create", null, """{"name":"by-basic"}""", byPassword)).Status);
        // Another user's token under this name is refused.
        var mismatched = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"writer:{_tokens["reader"]}")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", null, auth: mismatched)).Status);
    }

    [Fact]
    public async Task the_sdk_sends_its_token_and_reports_401_without_one()
    {
        using var withToken = new Lineage.Client.LineageClient(Server.Address) { Token = _tokens["writer"] };
        await using (var run = await withToken.StartRunAsync("sdk-with-token"))
            run.LogMetric("loss", 0.5, 1);
        using var without = new Lineage.Client.LineageClient(Server.Address) { Token = null };
        var ex = await Assert.ThrowsAnyAsync<LineageException>(() => without.StartRunAsync("sdk-without-token"));
        Assert.Equal(ErrorCode.Unauthenticated, ex.Code);
    }

    [Fact]
    public async Task a_revoked_token_is_refused()
    {
        var gov = new GovernanceStore(Server.Server.Database);
        var issued = await gov.IssueTokenAsync("writer", "short-lived", null, "test");
        var auth = new AuthenticationHeaderValue("Bearer", issued.Secret);
        Assert.Equal(HttpStatusCode.OK, (await Send("GET", "/api/v1/experiments/", null, auth: auth)).Status);
        await gov.RevokeTokenAsync(issued.Token.Id, "test");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send("GET", "/api/v1/experiments/", null, auth: auth)).Status);
    }

    [Fact]
    public async Task successful_writes_are_audited_with_the_principal_and_address_and_reads_and_rejections_are_not()
    {
        var log = new AuditLog(Server.Server.Database);
        var before = (await log.VerifyAsync()).Entries;
        Assert.Equal(HttpStatusCode.Created, (await Send("POST", "/api/v1/experiments/", "writer", """{"name":"audited"}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send("GET", "/api/v1/experiments/", "writer")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await Send("POST", "/api/v1/experiments/", "writer", """{"name":"audited"}""")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("POST", "/api/v1/experiments/", "reader", """{"name":"nope"}""")).Status);
        await Server.Server.App.Services.GetRequiredService<Lineage.Server.Hosting.AuditWriter>().FlushAsync();
        var entries = (await log.ListAsync(new AuditQuery(Limit: 1000))).Skip((int)before).ToList();
        var entry = Assert.Single(entries);
        Assert.Equal("writer", entry.Actor);
        Assert.Equal("127.0.0.1", entry.Address);
        Assert.Equal("POST /api/v1/experiments/", entry.Action);
        Assert.Equal(201, entry.Status);
        Assert.True((await log.VerifyAsync()).Intact);
    }

    [Fact]
    public async Task audit_entries_queued_at_shutdown_are_written_before_the_server_stops()
    {
        using var dir = new TempDir();
        var options = new ServerOptions { Database = dir.File("drain.db"), ArtifactRoot = dir.File("a"), Port = 0 };
        await using (var server = await LineageServer.StartAsync(options))
        {
            using var http = new HttpClient { BaseAddress = server.Address };
            for (var i = 0; i < 50; i++)
                Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/api/v1/experiments/",
                    new StringContent($$"""{"name":"drain-{{i}}"}""", Encoding.UTF8, "application/json"))).StatusCode);
        }
        await using var db = await Lineage.Storage.Engine.Database.OpenAsync(options.Database);
        var log = new AuditLog(db);
        var entries = await log.ListAsync(new AuditQuery(Limit: 1000));
        Assert.Equal(50, entries.Count(e => e.Action == "POST /api/v1/experiments/"));
        Assert.All(entries, e => Assert.Equal("anonymous", e.Actor)); // authentication off, no Lineage-User header
        Assert.True((await log.VerifyAsync()).Intact);
    }

    [Fact]
    public async Task a_server_on_a_network_address_refuses_to_start_without_authentication_unless_insecure()
    {
        using var dir = new TempDir();
        var options = new ServerOptions { Database = dir.File("open.db"), ArtifactRoot = dir.File("a"), Host = "0.0.0.0", Port = 0 };
        var ex = await Assert.ThrowsAsync<LineageException>(() => LineageServer.StartAsync(options));
        Assert.Contains("--insecure", ex.Message);
        await using (await LineageServer.StartAsync(options with { Insecure = true })) { }
        await using (var db = await Lineage.Storage.Engine.Database.OpenAsync(options.Database))
            await new GovernanceStore(db).CreatePrincipalAsync("ops", PrincipalKind.User, null, true, "test");
        await using (await LineageServer.StartAsync(options)) { }
    }
}

public sealed class AccessControlSqliteTests : AccessControlTests
{
    protected override bool Postgres => false;
}

public sealed class AccessControlPostgresTests : AccessControlTests
{
    protected override bool Postgres => true;
}
