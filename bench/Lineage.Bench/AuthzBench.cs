using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Lineage.Core.Governance;
using Lineage.Storage.Engine;
using Lineage.Storage.Governance;
using Lineage.Storage.Tracking;
using Lineage.Tests.Support;

namespace Lineage.Bench;

/// <summary>
/// What project scoping (issue 7) costs per request, against a real server process with authentication on:
/// the same requests as a server admin (no entity lookup, unscoped SQL) and as a member with roles on half of
/// --projects projects (one lookup of the entity's project, SQL restricted to readable projects). p50 over
/// --queries sequential requests each: a run by id, a run search of 100 results, one metric written.
/// </summary>
public static class AuthzBench
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        using var dir = new TempDir();
        var target = o.Store == "postgres" ? IngestionBench.CreatePostgresDatabase(o.Postgres) : dir.File("authz.db");
        const int projects = 10, runsPerProject = 1_000;
        Console.WriteLine($"authz: {o.Store}, {projects} projects × {runsPerProject:N0} runs, {o.Queries} requests per measure");
        string experiment, run, admin, member;
        await using (var db = await Database.OpenAsync(target))
        {
            var tracking = new TrackingStore(db);
            var gov = new GovernanceStore(db);
            await gov.CreatePrincipalAsync("admin", PrincipalKind.User, null, true, "bench");
            await gov.CreatePrincipalAsync("member", PrincipalKind.User, null, false, "bench");
            (experiment, run) = ("", "");
            for (var p = 0; p < projects; p++)
            {
                await tracking.CreateProjectAsync($"p{p}", null);
                if (p % 2 == 0) await gov.GrantAsync("member", $"p{p}", Role.Writer, "bench");
                var e = await tracking.CreateExperimentAsync($"p{p}", "exp");
                for (var r = 0; r < runsPerProject; r++)
                {
                    var created = await tracking.CreateRunAsync(e.Id, $"run-{r}");
                    if (p == 4 && r == runsPerProject / 2) (experiment, run) = (e.Id.ToString(), created.Info.RunId);
                }
            }
            admin = (await gov.IssueTokenAsync("admin", null, TimeSpan.FromDays(1), "bench")).Secret;
            member = (await gov.IssueTokenAsync("member", null, TimeSpan.FromDays(1), "bench")).Secret;
        }

        await using var server = await ServerProcess.StartAsync(target, dir.File("artifacts"));
        using var http = new HttpClient { BaseAddress = server.Address };
        var measures = new (string Name, Func<int, HttpRequestMessage> Request)[]
        {
            ("GET /api/v1/runs/{runId}", _ => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/runs/{run}")),
            ("GET /api/v1/search/runs (100 of 1,000)", _ => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/search/runs?experimentId={experiment}&limit=100")),
            ("POST /api/v1/runs/{runId}/metrics", i => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/runs/{run}/metrics")
            {
                Content = new StringContent($$"""{"key":"loss","value":0.5,"step":{{i}}}""", Encoding.UTF8, "application/json"),
            }),
        };
        Console.WriteLine();
        Console.WriteLine("| request | server admin p50 | project member p50 | difference |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (name, request) in measures)
        {
            // Alternating the two callers request by request, so a machine whose load drifts (shared cores) skews both alike.
            var samples = new[] { new List<double>(), new List<double>() };
            for (var i = -50; i < o.Queries; i++)
                for (var who = 0; who < 2; who++)
                {
                    var watch = Stopwatch.StartNew();
                    await SendAsync(http, request(2 * (i + 50) + who), who == 0 ? admin : member);
                    if (i >= 0) samples[who].Add(watch.Elapsed.TotalMilliseconds); // the first 50 warm up (and fill the credential cache)
                }
            var (a, m) = (Statistics.Median(samples[0]), Statistics.Median(samples[1]));
            Console.WriteLine($"| {name} | {a:N2} ms | {m:N2} ms | {m - a:+0.00;-0.00} ms |");
        }
        return 0;
    }

    private static async Task SendAsync(HttpClient http, HttpRequestMessage request, string token)
    {
        using (request)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"{request.Method} {request.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}
