using System.Text;
using System.Text.Json.Nodes;
using Lineage.Server.Hosting;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lineage.Tests.Ui;

/// <summary>
/// A registry world written through the API: model "churn" (three versions from three training runs with an
/// "auc" metric, alias and stage moves), model "fraud" guarded by approver carol with two pending requests,
/// deployments to production (healthy, failed, rolled back) and staging, and a dataset consumed by the runs.
/// </summary>
public sealed class RegistryWorld : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        Server.Http.DefaultRequestHeaders.Add("Lineage-User", "ana");
        var api = new ApiWriter(Server.Http);
        var experiment = await api.ExperimentAsync("training");
        await api.UploadAsync("sales", "dataset", Encoding.UTF8.GetBytes("region,amount\nnorth,1\n"));
        await api.PostAsync("/api/v1/models", new { name = "churn", description = "Churn classifier", tags = new Dictionary<string, string> { ["team"] = "growth" } });
        foreach (var (auc, i) in new[] { 0.71, 0.78, 0.83 }.Select((a, i) => (a, i)))
        {
            var run = await api.RunAsync(experiment, $"train-{i + 1}");
            await api.PostAsync($"/api/v1/runs/{run}/inputs", new { artifact = new { name = "sales", version = "1" }, role = "training_data" });
            await api.BatchAsync(run, new { metrics = new[] { new { key = "auc", value = auc, step = 0 }, new { key = "logloss", value = 0.6 - i * 0.1, step = 0 } } });
            await api.UploadAsync("churn-weights", "model", Encoding.UTF8.GetBytes($"weights {i}"), runId: run);
            await api.PostAsync("/api/v1/models/churn/versions", new { artifact = new { name = "churn-weights", version = (i + 1).ToString() } });
        }
        await api.PutAsync("/api/v1/models/churn/aliases/champion", new { version = 1 });
        await api.PutAsync("/api/v1/models/churn/aliases/champion", new { version = 2 });
        await api.PostAsync("/api/v1/models/churn/versions/1/stage", new { stage = "Production" });
        await api.PostAsync("/api/v1/models/churn/versions/2/stage", new { stage = "Production", archiveExisting = true });

        await api.PostAsync("/api/v1/models", new { name = "fraud", approvers = new[] { "carol" } });
        await api.PostAsync("/api/v1/models/fraud/versions", new { artifact = new { name = "churn-weights", version = "1" } });
        await api.PostAsync("/api/v1/models/fraud/promotions", new { version = 1, alias = "champion", comment = "better recall" });
        await api.PostAsync("/api/v1/models/fraud/promotions", new { version = 1, stage = "Staging", comment = "try it" });

        var d1 = await api.PostAsync("/api/v1/deployments", new { environment = "production", model = "churn", version = 1, endpointUrl = "https://churn.example.com/v1" });
        await api.PostAsync($"/api/v1/deployments/{d1["id"]}/status", new { status = "healthy" });
        var d2 = await api.PostAsync("/api/v1/deployments", new { environment = "production", model = "churn", version = 2 });
        await api.PostAsync($"/api/v1/deployments/{d2["id"]}/status", new { status = "failed", reason = "crash loop" });
        var d3 = await api.PostAsync($"/api/v1/deployments/{d2["id"]}/rollback", new { reason = "v2 crashes" });
        await api.PostAsync($"/api/v1/deployments/{d3["id"]}/status", new { status = "healthy" });
        var d4 = await api.PostAsync("/api/v1/deployments", new { environment = "staging", model = "churn", version = 3 });
        await api.PostAsync($"/api/v1/deployments/{d4["id"]}/status", new { status = "healthy" });
        RolledBack = (string)d2["id"]!;
        await Server.Server.App.Services.GetRequiredService<AuditWriter>().FlushAsync();
    }

    /// <summary>The failed production deployment that was rolled back.</summary>
    public string RolledBack { get; private set; } = "";

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Registry, approvals, deployments, dashboards and audit pages in headless Chromium, clicks included.</summary>
[Collection("browser")]
public sealed class UiRegistryTests(BrowserFixture browser, RegistryWorld world) : BrowserPageTests(browser), IClassFixture<RegistryWorld>
{
    protected override Uri Address => world.Server.Address;

    [Fact]
    public async Task modelsPage_lists_models_and_the_modelPage_shows_versions_stages_aliases_deployments_metrics_and_history()
    {
        await Page.GotoAsync("/models");
        await Expect(TestId("models")).ToContainTextAsync("champion → v2");
        await Expect(TestId("models")).ToContainTextAsync("team=growth");
        await Expect(TestId("models").Locator("tr", new() { HasText = "fraud" })).ToContainTextAsync("carol");
        await BrowserFixture.ScreenshotAsync(Page, "models");

        await Page.GetByRole(AriaRole.Link, new() { Name = "churn", Exact = true }).ClickAsync();
        await Expect(TestId("model-name")).ToHaveTextAsync("churn");
        var versions = TestId("versions").Locator("tbody tr");
        await Expect(versions).ToHaveCountAsync(3);
        // Newest first: v3 (no stage), v2 (Production, champion), v1 (archived when v2 went to Production).
        await Expect(versions.Nth(2)).ToContainTextAsync("Archived");
        await Expect(versions.Nth(1)).ToContainTextAsync("Production");
        await Expect(versions.Nth(1)).ToContainTextAsync("champion");
        await Expect(versions.Nth(1)).ToContainTextAsync("churn-weights v2");
        await Expect(TestId("model-aliases")).ToContainTextAsync("v2");
        await Expect(TestId("model-deployments")).ToContainTextAsync("production");
        await Expect(TestId("model-deployments")).ToContainTextAsync("staging");

        // The full alias/stage history, newest first, with who did it.
        var history = TestId("history").Locator("li");
        await Expect(history).ToHaveCountAsync(5);
        await Expect(TestId("history")).ToContainTextAsync("stage of v1: Production → Archived");
        await Expect(history.Last).ToContainTextAsync("alias champion: — → v1");
        await Expect(TestId("history")).ToContainTextAsync("alias champion: v1 → v2");
        await Expect(TestId("history")).ToContainTextAsync("by ana");

        // Metrics across versions: a drawn chart over the three versions.
        await Expect(TestId("model-metrics-chart")).ToContainTextAsync("3 versions");
        await Expect(TestId("model-metrics-chart").Locator("canvas")).ToHaveCountAsync(1);
        await BrowserFixture.ScreenshotAsync(Page, "model");
    }

    [Fact]
    public async Task a_promotion_is_requested_from_the_model_page_and_the_approval_row_compares_it_with_the_champion()
    {
        // Project "ranking" (the other tests' counts stay as they are): model "ranker" guarded by dora, two versions from
        // runs with ndcg 0.61 and 0.66, champion on v1; model "open-model" with no approvers.
        const string P = "ranking";
        var api = new ApiWriter(world.Server.Http);
        await api.PostAsync("/api/v1/projects", new { name = P });
        var experiment = (string)(await api.PostAsync("/api/v1/experiments", new { name = "ranking-runs", project = P }))["id"]!;
        await api.PostAsync("/api/v1/models", new { name = "ranker", project = P, approvers = new[] { "dora" } });
        await api.PostAsync("/api/v1/models", new { name = "open-model", project = P });
        foreach (var (ndcg, i) in new[] { 0.61, 0.66 }.Select((x, i) => (x, i)))
        {
            var run = await api.RunAsync(experiment, $"rank-{i + 1}");
            await api.BatchAsync(run, new { metrics = new[] { new { key = "ndcg", value = ndcg, step = 0 } } });
            await api.UploadAsync("ranker-weights", "model", Encoding.UTF8.GetBytes($"w{i}"), runId: run, project: P);
            await api.PostAsync($"/api/v1/models/ranker/versions?project={P}", new { artifact = new { name = "ranker-weights", version = (i + 1).ToString() } });
        }
        await api.PostAsync($"/api/v1/models/open-model/versions?project={P}", new { artifact = new { name = "ranker-weights", version = "1" } });
        using (var asDora = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/models/ranker/aliases/champion?project={P}")
               { Content = new StringContent("""{"version":1}""", Encoding.UTF8, "application/json") })
        {
            asDora.Headers.Add("Lineage-User", "dora");
            using var res = await world.Server.Http.SendAsync(asDora);
            res.EnsureSuccessStatusCode();
        }

        await Page.GotoAsync($"/models/ranker?project={P}");
        await Expect(TestId("promote-form")).ToBeVisibleAsync();
        await Expect(TestId("promote")).ToHaveTextAsync("Request promotion");
        await TestId("promote-version").SelectOptionAsync("2");
        await TestId("promote-alias").FillAsync("champion");
        await TestId("promote-comment").FillAsync("higher ndcg");
        await TestId("promote").ClickAsync();
        await Expect(TestId("promote-outcome")).ToContainTextAsync("filed");
        await Expect(TestId("model-aliases")).ToContainTextAsync("v1");   // nothing moved: it waits for dora

        await Page.GotoAsync($"/approvals?project={P}");
        var row = TestId("pending").Locator("tbody tr", new() { HasText = "ranker" });
        await Expect(row).ToContainTextAsync("higher ndcg");
        await Expect(row.GetByTestId("against-current")).ToContainTextAsync("against v1 (champion now)");
        await Expect(row.GetByTestId("against-current").Locator("[data-metric='ndcg']")).ToHaveTextAsync("ndcg 0.66 vs 0.61");
        await BrowserFixture.ScreenshotAsync(Page, "approvals-against-champion");

        // A model without approvers: the change applies at once.
        await Page.GotoAsync($"/models/open-model?project={P}");
        await Expect(TestId("promote")).ToHaveTextAsync("Apply");
        await TestId("promote-kind").SelectOptionAsync("stage");
        await TestId("promote-stage").SelectOptionAsync("Staging");
        await TestId("promote").ClickAsync();
        await Expect(TestId("versions").Locator("tbody tr").First).ToContainTextAsync("Staging");
        await Expect(TestId("history")).ToContainTextAsync(new System.Text.RegularExpressions.Regex("stage of v1: .* → Staging"));
    }

    [Fact]
    public async Task models_list_shows_description_version_count_and_stages_and_the_model_page_a_column_per_metric()
    {
        await Page.GotoAsync("/models");
        var churn = TestId("models").Locator("tr", new() { HasText = "churn" });
        await Expect(churn).ToContainTextAsync("Churn classifier");
        await Expect(churn.GetByTestId("model-version-count")).ToHaveTextAsync("3");
        await Expect(churn).ToContainTextAsync("Production v2");
        await Expect(TestId("models").Locator("tr", new() { HasText = "fraud" }).GetByTestId("model-version-count")).ToHaveTextAsync("1");

        await Page.GotoAsync("/models/churn");
        await Expect(TestId("versions").Locator("thead")).ToContainTextAsync("auc");
        await Expect(TestId("versions").Locator("thead")).ToContainTextAsync("logloss");
        // Newest first: v3's run logged auc 0.83, v1's 0.71.
        await Expect(TestId("versions").Locator("tbody tr").First.Locator("[data-metric='auc']")).ToHaveTextAsync("0.83");
        await Expect(TestId("versions").Locator("tbody tr").Last.Locator("[data-metric='auc']")).ToHaveTextAsync("0.71");
        // The producing run by its name, not its id.
        await Expect(TestId("versions").Locator("tbody tr").First.Locator("a[data-run]")).ToHaveTextAsync("train-3");
    }

    [Fact]
    public async Task approvals_are_approved_and_rejected_by_clicking_and_a_non_approver_changes_nothing()
    {
        await Page.GotoAsync("/approvals");
        var pending = TestId("pending").Locator("tbody tr");
        await Expect(pending).ToHaveCountAsync(2);
        var aliasRequest = pending.Filter(new() { HasText = "alias champion" });
        var stageRequest = pending.Filter(new() { HasText = "stage Staging" });

        // Someone who is not an approver: the server's refusal, and the buttons stay usable.
        await TestId("acting-as").FillAsync("mallory");
        await TestId("acting-as").DispatchEventAsync("change");
        await aliasRequest.GetByTestId("approve").ClickAsync();
        await Expect(aliasRequest.GetByTestId("error-line")).ToContainTextAsync("mallory");
        await Expect(aliasRequest.GetByTestId("approve")).ToBeEnabledAsync();

        await TestId("acting-as").FillAsync("carol");
        await TestId("acting-as").DispatchEventAsync("change");
        await aliasRequest.GetByRole(AriaRole.Textbox).FillAsync("eval report checked");
        await aliasRequest.GetByTestId("approve").ClickAsync();
        await Expect(aliasRequest.GetByTestId("decision")).ToHaveTextAsync("APPROVED");
        await Expect(aliasRequest).ToContainTextAsync("by carol");
        await stageRequest.GetByTestId("reject").ClickAsync();
        await Expect(stageRequest.GetByTestId("decision")).ToHaveTextAsync("REJECTED");
        await BrowserFixture.ScreenshotAsync(Page, "approvals");

        // The approval moved the alias; the rejection moved nothing; both are in the decided list.
        await Page.GotoAsync("/models/fraud");
        await Expect(TestId("model-aliases")).ToContainTextAsync("champion");
        await Expect(TestId("versions").Locator("tbody tr").First).ToContainTextAsync("None");
        await Expect(TestId("history")).ToContainTextAsync("by carol");
        await Expect(TestId("model-pending")).ToContainTextAsync("No pending requests.");
        await Page.GotoAsync("/approvals");
        await Expect(TestId("pending")).ToContainTextAsync("No pending requests.");
        await Expect(TestId("decided").Locator("tbody tr")).ToHaveCountAsync(2);
        await Expect(TestId("decided")).ToContainTextAsync("eval report checked");
    }

    [Fact]
    public async Task deploymentsPage_shows_what_is_live_and_each_environments_timeline_with_rollbacks()
    {
        await Page.GotoAsync("/deployments");
        var live = TestId("live").Locator("tbody tr");
        await Expect(live).ToHaveCountAsync(2);
        await Expect(live.Filter(new() { HasText = "production" })).ToContainTextAsync("churn v1");
        await Expect(live.Filter(new() { HasText = "staging" })).ToContainTextAsync("churn v3");

        var timeline = TestId("timeline").Locator("> li");
        await Expect(timeline).ToHaveCountAsync(3);
        await Expect(timeline.First.GetByTestId("rollback")).ToHaveTextAsync($"rollback of #{world.RolledBack} (v2)");
        await Expect(TestId("timeline").Locator($"li[data-deployment='{world.RolledBack}']")).ToContainTextAsync("crash loop");
        await BrowserFixture.ScreenshotAsync(Page, "deployments");

        await TestId("environment").SelectOptionAsync("staging");
        await Expect(TestId("timeline").Locator("> li")).ToHaveCountAsync(1);
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("environment=staging"));
    }

    [Fact]
    public async Task dashboards_draw_success_rate_by_environment_dataset_usage_and_metrics_across_versions()
    {
        await Page.GotoAsync("/dashboards");
        await Expect(TestId("environment-stats").Locator("tr", new() { HasText = "production" })).ToContainTextAsync("66.7 %");
        await Expect(TestId("environment-stats").Locator("tr", new() { HasText = "staging" })).ToContainTextAsync("100.0 %");
        await Expect(TestId("success-rate").Locator("canvas")).ToHaveCountAsync(1);
        await Expect(TestId("usage")).ToContainTextAsync("3 inputs");
        await Expect(TestId("usage").Locator("canvas")).ToHaveCountAsync(1);
        await Expect(TestId("usage")).ToContainTextAsync("sales");
        await Expect(TestId("model-metrics-chart").Locator("canvas")).ToHaveCountAsync(1);
        await Expect(TestId("model-metrics-chart")).ToContainTextAsync("auc");
        // The charts drew something: the bar and line canvases are not blank.
        // Polled, since a chart may paint a frame after its canvas appears; a blank canvas times out.
        foreach (var id in new[] { "success-rate", "usage", "model-metrics-chart" })
            await Page.WaitForFunctionAsync(
                "id => { const c = document.querySelector(`[data-testid=${id}] canvas`); if (!c) return false; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false; }",
                id, new() { Timeout = 10_000 });
        await BrowserFixture.ScreenshotAsync(Page, "dashboards");

        await TestId("pick-type").SelectOptionAsync("feature_set");
        await Expect(TestId("usage")).ToContainTextAsync("No feature_set was consumed");
        await TestId("pick-model").SelectOptionAsync("fraud");
        await Expect(TestId("model-metrics-chart")).ToContainTextAsync("Metrics across versions of fraud");
        await Expect(TestId("model-metrics-chart")).ToContainTextAsync("1 versions");
    }

    [Fact]
    public async Task auditPage_lists_writes_newest_first_filters_by_actor_and_target_and_verifies_the_chain()
    {
        await Page.GotoAsync("/audit");
        var rows = TestId("audit").Locator("tbody tr");
        await Expect(TestId("audit")).ToContainTextAsync("unverified:ana");
        await TestId("audit-target").FillAsync("/deployments");
        await TestId("audit-target").PressAsync("Enter");
        await Expect(rows).ToHaveCountAsync(8); // 3 deployments, 1 rollback, 4 status moves
        await Expect(rows.First).ToContainTextAsync("POST /api/v1/deployments/{id}/status");
        await Expect(rows.Last).ToContainTextAsync("POST /api/v1/deployments/");
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("target=%2Fdeployments"));

        await TestId("audit-target").FillAsync("/models/fraud/promotions");
        await TestId("audit-target").PressAsync("Enter");
        await Expect(rows).ToHaveCountAsync(2);
        await TestId("audit-actor").FillAsync("someone-else");
        await TestId("audit-actor").PressAsync("Enter");
        await Expect(TestId("audit")).ToContainTextAsync("No entries match.");

        await TestId("verify").ClickAsync();
        await Expect(TestId("chain")).ToContainTextAsync("intact");
        await Expect(TestId("audit-pending")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"none pending|\d+ pending, not chained yet"));
        await BrowserFixture.ScreenshotAsync(Page, "audit");
    }

    [Fact]
    public async Task missing_models_show_a_not_foundPage_with_the_servers_message()
    {
        await Page.GotoAsync("/models/no-such-model");
        await Expect(TestId("not-found")).ToContainTextAsync("no-such-model");
        await Expect(Page.Locator("body")).Not.ToContainTextAsync("at ");
    }
}
