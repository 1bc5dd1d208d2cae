using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Core.Governance;
using Lineage.Server;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;

namespace Lineage.Tests.Events;

/// <summary>
/// Issue 14, part 5: alert rules of every kind fire exactly once per crossing of their condition and resolve when it clears,
/// as alerts and as alert.fired / alert.resolved events; mute suppresses; the state survives a restart; alerts and their events
/// are visible only to the project's readers; bad rules are 4xx and change nothing. Runs on SQLite and PostgreSQL against a real
/// server whose evaluator runs as in production (the time-based pass every 200 ms here).
/// </summary>
public class AlertTests : IAsyncLifetime
{
    protected virtual bool Postgres => false;
    private TempDir _dir = null!;
    private ServerOptions _options = null!;
    private RunningServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _dir = new TempDir();
        _options = new ServerOptions
        {
            Database = Postgres ? PostgresTarget.CreateDatabase() : _dir.File("lineage.db"),
            ArtifactRoot = _dir.File("artifacts"),
            Port = 0,
            CredentialCache = TimeSpan.Zero,
            AlertInterval = TimeSpan.FromMilliseconds(200),
        };
        await StartAsync();
    }

    private async Task StartAsync()
    {
        _server = await LineageServer.StartAsync(_options);
        _http = new HttpClient { BaseAddress = _server.Address };
    }

    private async Task StopAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        _dir.Dispose();
    }

    private async Task<(HttpStatusCode Status, string Text)> Send(string method, string path, string? json = null, string? token = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (token?.StartsWith("user:", StringComparison.Ordinal) == true) request.Headers.Add("Lineage-User", token["user:".Length..]);
        else if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonNode> Ok(string method, string path, string? json = null, HttpStatusCode expected = HttpStatusCode.OK, string? token = null)
    {
        var (status, text) = await Send(method, path, json, token);
        Assert.True(status == expected, $"{method} {path}: expected {(int)expected}, got {(int)status}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    private async Task<long> RuleAsync(string name, string kind, string condition, string project = "default", string? token = null) =>
        (long)(await Ok("POST", "/api/v1/alerts/rules/", $$"""{"name":"{{name}}","kind":"{{kind}}","project":"{{project}}","condition":{{condition}}}""",
            HttpStatusCode.Created, token))["id"]!;

    private async Task<List<JsonNode>> AlertsAsync(string query = "", string? token = null) =>
        (await Ok("GET", $"/api/v1/alerts/?limit=1000{query}", token: token))["alerts"]!.AsArray().Select(a => a!).ToList();

    /// <summary>Waits until the alerts of <paramref name="query"/> satisfy <paramref name="done"/> (the evaluator runs in the background).</summary>
    private async Task<List<JsonNode>> WaitAsync(string query, Func<List<JsonNode>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var alerts = await AlertsAsync(query);
            if (done(alerts)) return alerts;
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; alerts: {new JsonArray(alerts.Select(a => a.DeepClone()).ToArray())}");
            await Task.Delay(50);
        }
    }

    private async Task<List<string>> AlertEventTypesAsync(string? token = null)
    {
        var events = (await Ok("GET", "/api/v1/events/?type=alert.*&limit=1000", token: token))["events"]!.AsArray();
        return events.Select(e => $"{(string)e!["type"]!} {(string)e["payload"]!["subject"]!}").ToList();
    }

    private async Task<(string Experiment, string Run)> RunAsync(string name, string project = "default", string? token = null)
    {
        var exp = (string)(await Ok("POST", "/api/v1/experiments/", $$"""{"name":"{{name}}-exp","project":"{{project}}"}""", HttpStatusCode.Created, token))["id"]!;
        return (exp, await RunInAsync(exp, name, token));
    }

    private async Task<string> RunInAsync(string experiment, string name, string? token = null) =>
        (string)(await Ok("POST", "/api/v1/runs/", $$"""{"experimentId":"{{experiment}}","name":"{{name}}"}""", HttpStatusCode.Created, token))["runId"]!;

    private Task<JsonNode> LogAsync(string run, string key, double value, string? tags = null, string? token = null) =>
        Ok("POST", $"/api/v1/runs/{run}/batch",
            $$"""{"metrics":[{"key":"{{key}}","value":{{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}},"timestamp":{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}},"step":0}]{{(tags is null ? "" : $",\"tags\":{tags}")}}}""",
            token: token);

    [Fact]
    public async Task a_metric_threshold_rule_fires_once_per_crossing_and_resolves_when_the_run_no_longer_matches()
    {
        var rule = await RuleAsync("loss-high", "metric_threshold", """{"query":"metrics.val_loss > 0.5 AND tags.team = 'growth'"}""");
        var (exp, run) = await RunAsync("train");
        var other = await RunInAsync(exp, "other");
        await LogAsync(run, "val_loss", 0.9, """[{"key":"team","value":"growth"}]""");
        var fired = await WaitAsync("&state=firing", a => a.Count == 1, "the first firing");
        Assert.Equal($"run:{run}", (string)fired[0]["subject"]!);
        Assert.Equal(rule, (long)fired[0]["ruleId"]!);
        Assert.Equal(0.9, (double)fired[0]["value"]!);
        Assert.Contains("matches", (string)fired[0]["message"]!);

        // Still above: no second alert. The other run crossing afterwards proves the evaluator got past these batches.
        await LogAsync(run, "val_loss", 0.8);
        await LogAsync(run, "val_loss", 0.7);
        await LogAsync(other, "val_loss", 0.95, """[{"key":"team","value":"growth"}]""");
        await WaitAsync("", a => a.Any(x => (string)x["subject"]! == $"run:{other}"), "the other run's firing");
        Assert.Single(await AlertsAsync(""), a => (string)a["subject"]! == $"run:{run}");

        // Below: resolved once; above again: a new alert.
        await LogAsync(run, "val_loss", 0.1);
        var resolved = await WaitAsync("&state=resolved", a => a.Count == 1, "the resolution");
        Assert.Equal((long)fired[0]["id"]!, (long)resolved[0]["id"]!);
        Assert.Null(resolved[0]["resolvedBy"]);
        await LogAsync(run, "val_loss", 0.6);
        await WaitAsync("", a => a.Count(x => (string)x["subject"]! == $"run:{run}") == 2, "the second crossing");

        // A run of another team never matches.
        var third = await RunInAsync(exp, "third");
        await LogAsync(third, "val_loss", 5, """[{"key":"team","value":"search"}]""");
        await LogAsync(other, "val_loss", 0.2);
        await WaitAsync("&state=resolved", a => a.Count == 2, "the other run's resolution");
        Assert.DoesNotContain(await AlertsAsync(), a => (string)a["subject"]! == $"run:{third}");

        var events = await WaitEventsAsync(6);
        Assert.Equal([$"alert.fired run:{run}", $"alert.fired run:{other}", $"alert.resolved run:{run}", $"alert.fired run:{run}", $"alert.resolved run:{other}"],
            events);
    }

    private async Task<List<string>> WaitEventsAsync(int atMost)
    {
        // PostgreSQL numbers events shortly after commit: wait until the count is stable.
        var last = await AlertEventTypesAsync();
        for (var i = 0; i < 10; i++)
        {
            await Task.Delay(100);
            var now = await AlertEventTypesAsync();
            if (now.Count == last.Count && now.Count <= atMost) return now;
            last = now;
        }
        return last;
    }

    /// <summary>Registers a model version whose run logged <paramref name="auc"/>, and returns the run.</summary>
    private async Task<string> VersionAsync(string experiment, string model, int n, double auc, string? dataset = null)
    {
        var run = await RunInAsync(experiment, $"{model}-{n}");
        await LogAsync(run, "auc", auc);
        if (dataset is not null)
            await Ok("POST", $"/api/v1/runs/{run}/inputs", $$"""{"artifact":{"name":"{{dataset}}","version":"{{n}}"},"role":"training_data"}""");
        var artifact = (string)(await Ok("POST", "/api/v1/artifacts/",
            $$$"""{"name":"{{{model}}}-bytes","type":"model","runId":"{{{run}}}","external":{"uri":"s3://b/{{{model}}}/{{{n}}}","digest":"{{{new string((char)('a' + n), 64)}}}","size":3}}""",
            HttpStatusCode.Created))["id"]!;
        await Ok("POST", $"/api/v1/models/{model}/versions", $$"""{"artifact":{"id":"{{artifact}}"},"runId":"{{run}}"}""", HttpStatusCode.Created);
        return run;
    }

    [Fact]
    public async Task a_regression_rule_fires_when_a_new_version_is_worse_than_the_champion_and_resolves_when_it_catches_up()
    {
        var (exp, _) = await RunAsync("models");
        await Ok("POST", "/api/v1/models/", """{"name":"churn"}""", HttpStatusCode.Created);
        await VersionAsync(exp, "churn", 1, 0.90);
        await Ok("PUT", "/api/v1/models/churn/aliases/champion", """{"version":1}""");
        await RuleAsync("auc-regression", "model_regression", """{"model":"churn","alias":"champion","metric":"auc","direction":"higher","tolerance":0.05}""");

        var worse = await VersionAsync(exp, "churn", 2, 0.80);
        var fired = await WaitAsync("&state=firing", a => a.Count == 1, "the regression");
        Assert.Equal("model_version:churn/2", (string)fired[0]["subject"]!);
        Assert.Equal(-0.1, (double)fired[0]["value"]!, 6);
        Assert.Equal(1, (long)fired[0]["details"]!["aliasVersion"]!);

        // Within the tolerance: no alert for version 3; version 2's run improves: resolved.
        await VersionAsync(exp, "churn", 3, 0.87);
        await LogAsync(worse, "auc", 0.88);
        await WaitAsync("&state=resolved", a => a.Count == 1, "the resolution");
        Assert.Single(await AlertsAsync());

        // The champion moves to a better version (itself no regression); a later version is judged against it, the old ones stay as they are.
        await VersionAsync(exp, "churn", 4, 0.99);
        await Ok("PUT", "/api/v1/models/churn/aliases/champion", """{"version":4}""");
        await VersionAsync(exp, "churn", 5, 0.90);
        var again = await WaitAsync("&state=firing", a => a.Count == 1, "a regression against the new champion");
        Assert.Equal("model_version:churn/5", (string)again[0]["subject"]!);
        Assert.Equal(4, (long)again[0]["details"]!["aliasVersion"]!);
        Assert.Equal(2, (await AlertsAsync()).Count);
    }

    private static string Histogram(params double[] counts) =>
        $$"""{"edges":[0,10,20,30,40],"counts":[{{string.Join(",", counts.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)))}}]}""";

    private static string Profile(double[] age, int free, int pro) =>
        "{\"age\":{\"histogram\":" + Histogram(age) + "},\"plan\":{\"frequencies\":{\"free\":" + free + ",\"pro\":" + pro + "}}}";

    private async Task DatasetVersionAsync(string name, int version, string profile)
    {
        await Ok("POST", "/api/v1/artifacts/",
            $$$"""{"name":"{{{name}}}","type":"dataset","external":{"uri":"s3://b/{{{name}}}/{{{version}}}","digest":"{{{new string((char)('0' + version), 64)}}}","size":10}}""",
            HttpStatusCode.Created);
        await Ok("PUT", $"/api/v1/datasets/{name}/versions/{version}",
            $$"""{"columns":[{"name":"age","dtype":"float"},{"name":"plan","dtype":"string"}],"rowCount":1000,"profile":{{profile}}}""");
    }

    [Fact]
    public async Task a_drift_rule_compares_a_new_dataset_version_with_the_training_data_of_the_champion()
    {
        var (exp, _) = await RunAsync("drift");
        await DatasetVersionAsync("customers", 1, Profile([100, 300, 400, 200], 700, 300));
        await Ok("POST", "/api/v1/models/", """{"name":"churn"}""", HttpStatusCode.Created);
        await VersionAsync(exp, "churn", 1, 0.9, dataset: "customers");
        await Ok("PUT", "/api/v1/models/churn/aliases/champion", """{"version":1}""");
        await RuleAsync("customers-drift", "data_drift", """{"dataset":"customers","model":"churn","alias":"champion","method":"psi","threshold":0.2}""");

        // Version 2 looks like version 1: nothing. Version 3 shifted to older customers: fires, naming the column.
        await DatasetVersionAsync("customers", 2, Profile([110, 290, 410, 190], 690, 310));
        await DatasetVersionAsync("customers", 3, Profile([10, 90, 300, 600], 680, 320));
        var fired = await WaitAsync("&state=firing", a => a.Count == 1, "the drift");
        Assert.Equal("dataset:customers/3", (string)fired[0]["subject"]!);
        var details = fired[0]["details"]!;
        Assert.Equal(["age"], details["drifted"]!.AsArray().Select(d => (string)d!).ToArray());
        Assert.True((double)details["columns"]!["age"]! > 0.2);
        Assert.True((double)details["columns"]!["plan"]! < 0.2);
        Assert.Equal(1, (long)details["baselineVersion"]!);

        // The champion is retrained on version 3: compared with its own training data, version 3 no longer drifts.
        await VersionAsync(exp, "churn", 3, 0.9, dataset: "customers");
        await Ok("PUT", "/api/v1/models/churn/aliases/champion", """{"version":2}""");
        var resolved = await WaitAsync("&state=resolved", a => a.Count == 1, "the resolution");
        Assert.Equal("dataset:customers/3", (string)resolved[0]["subject"]!);
        Assert.Single(await AlertsAsync());
    }

    [Fact]
    public async Task a_ks_drift_rule_reads_quantiles()
    {
        var (exp, _) = await RunAsync("ks");
        const string q1 = """{"age":{"quantiles":{"probabilities":[0,0.25,0.5,0.75,1],"values":[18,30,40,50,80]}}}""";
        await DatasetVersionAsync("users", 1, q1);
        await Ok("POST", "/api/v1/models/", """{"name":"m"}""", HttpStatusCode.Created);
        await VersionAsync(exp, "m", 1, 0.9, dataset: "users");
        var dep = (string)(await Ok("POST", "/api/v1/deployments/", """{"environment":"prod","model":"m","version":1}""", HttpStatusCode.Created))["id"]!;
        await Ok("POST", $"/api/v1/deployments/{dep}/status", """{"status":"healthy"}""");
        await RuleAsync("users-ks", "data_drift", """{"dataset":"users","model":"m","environment":"prod","method":"ks","threshold":0.3,"columns":["age"]}""");
        await DatasetVersionAsync("users", 2, """{"age":{"quantiles":{"probabilities":[0,0.25,0.5,0.75,1],"values":[40,55,60,70,90]}}}""");
        var fired = await WaitAsync("&state=firing", a => a.Count == 1, "the KS drift");
        Assert.Equal("dataset:users/2", (string)fired[0]["subject"]!);
        Assert.InRange((double)fired[0]["value"]!, 0.3, 1.0);
    }

    [Fact]
    public async Task a_failed_deployment_fires_once_and_resolves_when_it_is_retried()
    {
        var (exp, _) = await RunAsync("deploy");
        await Ok("POST", "/api/v1/models/", """{"name":"churn"}""", HttpStatusCode.Created);
        await VersionAsync(exp, "churn", 1, 0.9);
        await RuleAsync("deploy-failed", "deployment_failed", """{"environment":"prod"}""");
        var dep = (string)(await Ok("POST", "/api/v1/deployments/", """{"environment":"prod","model":"churn","version":1}""", HttpStatusCode.Created))["id"]!;
        var staging = (string)(await Ok("POST", "/api/v1/deployments/", """{"environment":"staging","model":"churn","version":1}""", HttpStatusCode.Created))["id"]!;
        await Ok("POST", $"/api/v1/deployments/{staging}/status", """{"status":"failed"}""");
        await Ok("POST", $"/api/v1/deployments/{dep}/status", """{"status":"failed","reason":"crash loop"}""");
        var fired = await WaitAsync("&state=firing", a => a.Count == 1, "the failure");
        Assert.Equal($"deployment:{dep}", (string)fired[0]["subject"]!);
        await Task.Delay(600); // several timed passes: still one alert
        Assert.Single(await AlertsAsync());
        await Ok("POST", $"/api/v1/deployments/{dep}/status", """{"status":"pending"}""");
        await WaitAsync("&state=resolved", a => a.Count == 1, "the resolution");
    }

    [Fact]
    public async Task a_promotion_pending_too_long_fires_and_resolves_when_decided()
    {
        var (exp, _) = await RunAsync("promo");
        await Ok("POST", "/api/v1/models/", """{"name":"churn","approvers":["carol"]}""", HttpStatusCode.Created);
        await VersionAsync(exp, "churn", 1, 0.9);
        await RuleAsync("promotion-waits", "promotion_pending", """{"hours":0.0003}"""); // about a second
        var promotion = (string)(await Ok("POST", "/api/v1/models/churn/promotions", """{"version":1,"alias":"champion"}""", HttpStatusCode.Created))["id"]!;
        var fired = await WaitAsync("&state=firing", a => a.Count == 1, "the pending promotion");
        Assert.Equal($"promotion:{promotion}", (string)fired[0]["subject"]!);
        await Task.Delay(600);
        Assert.Single(await AlertsAsync());
        await Ok("POST", $"/api/v1/promotions/{promotion}/approve", "{}", token: "user:carol");
        await WaitAsync("&state=resolved", a => a.Count == 1, "the resolution");
    }

    [Fact]
    public async Task a_running_run_without_data_fires_once_resolves_when_data_arrives_and_fires_again_when_it_stalls_again()
    {
        var (_, run) = await RunAsync("stale");
        await RuleAsync("stalled", "run_stale", """{"minutes":0.02}"""); // 1.2 s
        var fired = await WaitAsync("&state=firing", a => a.Count == 1, "the stalled run");
        Assert.Equal($"run:{run}", (string)fired[0]["subject"]!);
        await LogAsync(run, "loss", 1);
        await WaitAsync("&state=resolved", a => a.Count == 1, "the resolution by new data");
        await WaitAsync("&state=firing", a => a.Count == 1, "the second stall");
        await Ok("PATCH", $"/api/v1/runs/{run}", """{"status":"FINISHED"}""");
        await WaitAsync("&state=resolved", a => a.Count == 2, "the resolution by the end of the run");
        Assert.Equal(2, (await AlertsAsync()).Count);
    }

    [Fact]
    public async Task a_muted_rule_fires_nothing_and_acknowledge_and_resolve_act_on_one_alert()
    {
        var muted = await RuleAsync("muted", "metric_threshold", """{"query":"metrics.loss > 1"}""");
        var sentinel = await RuleAsync("sentinel", "metric_threshold", """{"query":"metrics.acc > 0.5"}""");
        var mute = await Ok("POST", $"/api/v1/alerts/rules/{muted}/mute", """{"minutes":60}""");
        Assert.NotNull(mute["mutedUntil"]);
        var (exp, run) = await RunAsync("mute");
        await LogAsync(run, "loss", 5);
        await LogAsync(run, "acc", 0.9);
        var alerts = await WaitAsync("", a => a.Count == 1, "the sentinel");
        Assert.Equal(sentinel, (long)alerts[0]["ruleId"]!);
        Assert.Equal($"run:{run}", (string)alerts[0]["subject"]!);
        Assert.Empty(await AlertsAsync($"&rule={muted}"));

        // Unmuted: the condition that turned true while muted does not fire; its next crossing does.
        await Ok("DELETE", $"/api/v1/alerts/rules/{muted}/mute");
        await LogAsync(run, "loss", 0.5);
        // Changes between two evaluations are seen as their net effect: let the evaluator see the cleared state first.
        var second = await RunInAsync(exp, "second");
        await LogAsync(second, "acc", 0.9);
        await WaitAsync($"&rule={sentinel}", a => a.Count == 2, "the second sentinel");
        await LogAsync(run, "loss", 3);
        await WaitAsync($"&rule={muted}", a => a.Count == 1, "the crossing after the mute");

        var id = (long)alerts[0]["id"]!;
        var acked = await Ok("POST", $"/api/v1/alerts/{id}/acknowledge");
        Assert.NotNull(acked["acknowledgedAt"]);
        Assert.Equal("firing", (string)acked["state"]!);
        var resolved = await Ok("POST", $"/api/v1/alerts/{id}/resolve");
        Assert.Equal("resolved", (string)resolved["state"]!);
        Assert.Equal("anonymous", (string)resolved["resolvedBy"]!);
        var again = await Send("POST", $"/api/v1/alerts/{id}/resolve");
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Contains("CONFLICT", again.Text);

        // Resolved by hand while the condition still holds: no new alert until it clears and returns.
        var other = await RunInAsync(exp, "other");
        await LogAsync(run, "acc", 0.95);
        await LogAsync(other, "loss", 9);
        await WaitAsync($"&rule={muted}", a => a.Count == 2, "the other run's crossing");
        Assert.Equal(2, (await AlertsAsync($"&rule={sentinel}")).Count);
        Assert.Contains("alert.resolved run:" + run, await AlertEventTypesAsync());
    }

    [Fact]
    public async Task the_alert_state_survives_a_server_restart()
    {
        await RuleAsync("loss-high", "metric_threshold", """{"query":"metrics.loss > 1"}""");
        await RuleAsync("sentinel", "metric_threshold", """{"query":"metrics.acc > 0.5"}""");
        var (exp, run) = await RunAsync("restart");
        await LogAsync(run, "loss", 5);
        await WaitAsync("&state=firing", a => a.Count == 1, "the firing before the restart");

        await StopAsync();
        await StartAsync();

        // Still true after the restart: no second alert (the sentinel proves the evaluator read past it); then it clears.
        await LogAsync(run, "loss", 6);
        var sentinelRun = await RunInAsync(exp, "sentinel");
        await LogAsync(sentinelRun, "acc", 0.9);
        await WaitAsync("", a => a.Any(x => (string)x["subject"]! == $"run:{sentinelRun}"), "the sentinel");
        Assert.Single(await AlertsAsync(""), a => (string)a["subject"]! == $"run:{run}");
        await LogAsync(run, "loss", 0.1);
        var resolved = await WaitAsync("&state=resolved", a => a.Count == 1, "the resolution after the restart");
        Assert.Equal($"run:{run}", (string)resolved[0]["subject"]!);
    }

    [Fact]
    public async Task alerts_and_their_events_are_visible_only_to_readers_of_the_rule_s_project()
    {
        var gov = new GovernanceStore(_server.Database);
        await gov.CreatePrincipalAsync("root", PrincipalKind.User, null, true, "test");
        var root = (await gov.IssueTokenAsync("root", null, TimeSpan.FromHours(1), "test")).Secret;
        await Ok("POST", "/api/v1/projects/", """{"name":"alpha"}""", HttpStatusCode.Created, root);
        await Ok("POST", "/api/v1/projects/", """{"name":"beta"}""", HttpStatusCode.Created, root);
        await gov.CreatePrincipalAsync("readerA", PrincipalKind.User, null, false, "test");
        await gov.GrantAsync("readerA", "alpha", Role.Reader, "test");
        var reader = (await gov.IssueTokenAsync("readerA", null, TimeSpan.FromHours(1), "test")).Secret;
        await gov.CreatePrincipalAsync("writerA", PrincipalKind.User, null, false, "test");
        await gov.GrantAsync("writerA", "alpha", Role.Writer, "test");
        var writer = (await gov.IssueTokenAsync("writerA", null, TimeSpan.FromHours(1), "test")).Secret;

        var alphaRule = await RuleAsync("a-loss", "metric_threshold", """{"query":"metrics.loss > 1"}""", "alpha", root);
        var betaRule = await RuleAsync("b-secret-loss", "metric_threshold", """{"query":"metrics.loss > 1"}""", "beta", root);
        var (_, a) = await RunAsync("a", "alpha", root);
        var (_, b) = await RunAsync("b", "beta", root);
        await LogAsync(a, "loss", 5, token: root);
        await LogAsync(b, "loss", 5, token: root);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await Ok("GET", "/api/v1/alerts/", token: root))["alerts"]!.AsArray().Count < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for both alerts");
            await Task.Delay(50);
        }

        // The web UI's indicator asks exactly this (no trailing slash).
        var seen = (await Ok("GET", "/api/v1/alerts?state=firing", token: reader))["alerts"]!.AsArray();
        Assert.Equal(["alpha"], seen.Select(x => (string)x!["project"]!).ToArray());
        Assert.Equal(["alpha"], (await Ok("GET", "/api/v1/alerts/rules/", token: reader))["rules"]!.AsArray().Select(x => (string)x!["project"]!).ToArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("GET", "/api/v1/alerts/?project=beta", token: reader)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send("GET", $"/api/v1/alerts/rules/{betaRule}", token: reader)).Status); // as for every entity of another project
        var events = await Send("GET", "/api/v1/events/?type=alert.fired", token: reader);
        Assert.DoesNotContain("b-secret", events.Text);
        Assert.Contains("a-loss", events.Text);

        // Readers may not manage rules or act on alerts; writers act on alerts but manage no rules.
        var alphaAlert = (long)seen[0]!["id"]!;
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("POST", $"/api/v1/alerts/{alphaAlert}/acknowledge", token: reader)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send("DELETE", $"/api/v1/alerts/rules/{alphaRule}", token: writer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await Send("POST", "/api/v1/alerts/rules/", """{"name":"x","kind":"run_stale","project":"alpha","condition":{"minutes":5}}""", writer)).Status);
        await Ok("POST", $"/api/v1/alerts/{alphaAlert}/acknowledge", token: writer);
        await Ok("POST", $"/api/v1/alerts/rules/{alphaRule}/mute", """{"minutes":5}""", token: writer);
    }

    [Fact]
    public async Task bad_rules_are_refused_with_a_stable_code_and_change_nothing()
    {
        async Task Refused(string body, string field, string text, HttpStatusCode status = HttpStatusCode.BadRequest)
        {
            var (code, answer) = await Send("POST", "/api/v1/alerts/rules/", body);
            Assert.True(code == status, $"{body}: {(int)code} {answer}");
            var json = JsonNode.Parse(answer)!;
            Assert.Equal(status == HttpStatusCode.BadRequest ? "INVALID_PARAMETER_VALUE" : "RESOURCE_ALREADY_EXISTS", (string)json["error_code"]!);
            Assert.Contains(text, (string)json["message"]!);
            if (field.Length > 0) Assert.Contains(field, answer);
        }

        await Refused("""{"name":"q","kind":"metric_threshold","condition":{"query":"metrics.loss >> 1"}}""", "condition.query", "invalid filter at position");
        await Refused("""{"name":"q","kind":"metric_threshold","condition":{"query":"metrics.loss > 1 AND"}}""", "condition.query", "invalid filter");
        await Refused("""{"name":"k","kind":"metric_explosion","condition":{}}""", "kind", "unknown alert rule kind 'metric_explosion'");
        await Refused("""{"name":"k","condition":{}}""", "kind", "'kind' is required");
        await Refused("""{"name":"t","kind":"data_drift","condition":{"dataset":"d","model":"m","alias":"champion","threshold":-1}}""", "condition.threshold", "above 0");
        await Refused("""{"name":"t","kind":"data_drift","condition":{"dataset":"d","model":"m","alias":"champion","method":"ks","threshold":2}}""", "condition.threshold", "between 0");
        await Refused("""{"name":"t","kind":"data_drift","condition":{"dataset":"d","model":"m","threshold":0.2}}""", "condition.alias", "exactly one");
        await Refused("""{"name":"t","kind":"data_drift","condition":{"dataset":"d","model":"m","alias":"a","method":"chi2","threshold":0.2}}""", "condition.method", "psi or ks");
        await Refused("""{"name":"r","kind":"model_regression","condition":{"model":"m","alias":"champion"}}""", "condition.metric", "needs 'condition.metric'");
        await Refused("""{"name":"r","kind":"model_regression","condition":{"model":"m","alias":"c","metric":"auc","tolerance":-0.1}}""", "condition.tolerance", "0 or more");
        await Refused("""{"name":"r","kind":"model_regression","condition":{"model":"m","alias":"c","metric":"auc","direction":"sideways"}}""", "condition.direction", "higher or lower");
        await Refused("""{"name":"s","kind":"run_stale","condition":{"minutes":0}}""", "condition.minutes", "above 0");
        await Refused("""{"name":"s","kind":"run_stale","condition":{"minutes":5,"query":"metrics.x > 1"}}""", "condition.query", "does not apply");
        await Refused("""{"name":"p","kind":"promotion_pending","condition":{"hours":"soon"}}""", "", "");
        await Refused("""{"name":"p","kind":"promotion_pending","condition":{"hours":1,"extra":true}}""", "", "");
        await Refused("""{"name":"p","kind":"promotion_pending","severity":"apocalyptic","condition":{"hours":1}}""", "severity", "info, warning or critical");
        Assert.Equal(HttpStatusCode.NotFound, (await Send("POST", "/api/v1/alerts/rules/", """{"name":"p","kind":"run_stale","project":"nope","condition":{"minutes":5}}""")).Status);

        var id = await RuleAsync("ok", "run_stale", """{"minutes":5}""");
        await Refused("""{"name":"ok","kind":"run_stale","condition":{"minutes":9}}""", "", "already exists", HttpStatusCode.Conflict);
        var (status, text) = await Send("PATCH", $"/api/v1/alerts/rules/{id}", """{"condition":{"minutes":-3}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("condition.minutes", text);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send("POST", $"/api/v1/alerts/rules/{id}/mute", """{"until":1000}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send("POST", $"/api/v1/alerts/rules/{id}/mute", "{}")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send("GET", "/api/v1/alerts/?state=burning")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send("POST", "/api/v1/alerts/424242/acknowledge")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send("GET", "/api/v1/alerts/rules/424242")).Status);

        var rules = (await Ok("GET", "/api/v1/alerts/rules/"))["rules"]!.AsArray();
        var only = Assert.Single(rules);
        Assert.Equal(5.0, (double)only!["condition"]!["minutes"]!);
        Assert.Null(only["mutedUntil"]);
    }
}

public sealed class AlertPostgresTests : AlertTests
{
    protected override bool Postgres => true;
}
