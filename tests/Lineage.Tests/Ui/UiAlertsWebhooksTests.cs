using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lineage.Tests.Events;
using Lineage.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lineage.Tests.Ui;

/// <summary>
/// A server of its own for the alerts and webhooks pages: webhooks may deliver to a receiver on loopback, a delivery is
/// dead-lettered after its first failed attempt (so redelivery can be shown without waiting for backoff), and the time-based
/// alert pass runs every 200 ms.
/// </summary>
public sealed class AlertsWorld : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;
    public ApiWriter Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync(configure: o => o with
        {
            WebhookAllowPrivate = true,
            WebhookMaxAttempts = 1,
            AlertInterval = TimeSpan.FromMilliseconds(200),
        });
        Api = new ApiWriter(Server.Http);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Issue 14 in the web UI: the Alerts page (rules created from its form, firing history that follows the event stream,
/// acknowledge, resolve, mute, delete) and the Webhooks page (create, secret shown once, test event, delivery log,
/// redelivery of a dead letter, edit, rotate, delete), in real headless Chromium against a real server; API refusals are
/// shown with the server's message.
/// </summary>
[Collection("browser")]
public sealed class UiAlertsWebhooksTests(BrowserFixture browser, AlertsWorld world) : BrowserPageTests(browser), IClassFixture<AlertsWorld>
{
    protected override Uri Address => world.Server.Address;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        // Delete and rotate ask first; the person says yes.
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
    }

    private static bool Signed(string secret, WebhookReceiver.Received r) =>
        Lineage.Core.Events.WebhookSignature.Verify(Lineage.Core.Events.WebhookSignature.StandardKey(secret), r.Headers["webhook-id"],
            long.Parse(r.Headers["webhook-timestamp"], System.Globalization.CultureInfo.InvariantCulture), r.Body, r.Headers["webhook-signature"]);

    private async Task LogAsync(string run, string key, double value) =>
        await world.Api.BatchAsync(run, new { metrics = new[] { new { key, value, step = 0 } } });

    [Fact]
    public async Task a_rule_created_on_the_page_fires_live_and_is_acknowledged_resolved_muted_and_deleted()
    {
        await Page.GotoAsync("/alerts");
        await Expect(Page.Locator("header.top nav a.active")).ToHaveTextAsync("Alerts");
        await Expect(TestId("alerts-live")).ToHaveAttributeAsync("data-live", "on");

        // A bad query: the parser's message, and nothing stored.
        await TestId("new-rule").Locator("summary").ClickAsync();
        await TestId("rule-name").FillAsync("ui-loss-high");
        await TestId("rule-kind").SelectOptionAsync("metric_threshold");
        await TestId("cond-query").FillAsync("metrics.ui_loss >> 0.5");
        await TestId("rule-create").ClickAsync();
        await Expect(TestId("rule-outcome").GetByTestId("error-line")).ToContainTextAsync("position");
        await Expect(TestId("cond-query")).ToHaveClassAsync(new Regex("invalid"));
        Assert.DoesNotContain("ui-loss-high", (await world.Server.Http.GetStringAsync("/api/v1/alerts/rules/?project=default")));

        await TestId("cond-query").FillAsync("metrics.ui_loss > 0.5");
        await TestId("rule-severity").SelectOptionAsync("critical");
        await TestId("rule-create").ClickAsync();
        var rule = TestId("alert-rules").Locator("tbody tr", new() { HasText = "ui-loss-high" });
        await Expect(rule).ToContainTextAsync("metrics.ui_loss > 0.5");
        await Expect(rule).ToContainTextAsync("critical");
        await Expect(rule.GetByTestId("rule-state")).ToHaveTextAsync("ok");

        // The firing comes over the event stream: the page is not reloaded.
        await Page.EvaluateAsync("() => window.__stayed = true");
        var run = await world.Api.RunAsync(await world.Api.ExperimentAsync("ui-alerts"), "diverging");
        await LogAsync(run, "ui_loss", 0.9);
        var alert = TestId("alerts").Locator("tbody tr", new() { HasText = "ui-loss-high" });
        await Expect(alert).ToHaveAttributeAsync("data-state", "firing");
        await Expect(alert).ToContainTextAsync("diverging");
        await Expect(alert).ToContainTextAsync("0.9");
        await Expect(rule.GetByTestId("rule-state")).ToHaveTextAsync("1 firing");
        Assert.True(await Page.EvaluateAsync<bool>("() => window.__stayed === true"), "the page was reloaded");
        await BrowserFixture.ScreenshotAsync(Page, "alerts");

        await alert.GetByTestId("acknowledge").ClickAsync();
        await Expect(alert.GetByTestId("acknowledge")).ToHaveCountAsync(0);
        await Expect(alert.Locator("td").Nth(7)).Not.ToBeEmptyAsync();
        await alert.GetByTestId("resolve").ClickAsync();
        await Expect(alert).ToHaveAttributeAsync("data-state", "resolved");
        await Expect(alert).ToContainTextAsync("by ");
        await Expect(rule.GetByTestId("rule-state")).ToHaveTextAsync("ok");

        // The condition clears and crosses again: a second alert arrives live.
        await LogAsync(run, "ui_loss", 0.1);
        await Page.WaitForTimeoutAsync(500);
        await LogAsync(run, "ui_loss", 0.8);
        await Expect(TestId("alerts").Locator("tbody tr[data-state='firing']", new() { HasText = "ui-loss-high" })).ToHaveCountAsync(1);
        await Expect(TestId("alerts").Locator("tbody tr", new() { HasText = "ui-loss-high" })).ToHaveCountAsync(2);

        await rule.GetByTestId("mute-for").SelectOptionAsync("480");
        await rule.GetByTestId("mute").ClickAsync();
        await Expect(rule.GetByTestId("rule-muted")).ToContainTextAsync("until");
        await rule.GetByTestId("unmute").ClickAsync();
        await Expect(rule.GetByTestId("rule-muted")).ToHaveTextAsync("no");

        await rule.GetByTestId("delete-rule").ClickAsync();
        await Expect(rule).ToHaveCountAsync(0);
        Assert.DoesNotContain("ui-loss-high", (await world.Server.Http.GetStringAsync("/api/v1/alerts/rules/?project=default")));
    }

    [Fact]
    public async Task the_form_builds_each_kind_of_condition()
    {
        await Page.GotoAsync("/alerts");
        await TestId("new-rule").Locator("summary").ClickAsync();

        // A drift rule against what is live in an environment: the baseline box becomes condition.environment.
        await TestId("rule-name").FillAsync("ui-drift");
        await TestId("rule-kind").SelectOptionAsync("data_drift");
        await TestId("cond-dataset").FillAsync("customers");
        await TestId("cond-model").FillAsync("churn");
        await TestId("cond-baseline").SelectOptionAsync("environment");
        await TestId("cond-alias").FillAsync("prod");
        await TestId("cond-method").SelectOptionAsync("ks");
        await TestId("cond-threshold").FillAsync("3");
        await TestId("rule-create").ClickAsync();
        // KS is a distance in 0–1: the server's message.
        await Expect(TestId("rule-outcome")).ToContainTextAsync("between 0 (exclusive) and 1");
        await TestId("cond-threshold").FillAsync("0.3");
        await TestId("cond-columns").FillAsync("age, plan");
        await TestId("rule-create").ClickAsync();
        await Expect(TestId("alert-rules").Locator("tbody tr", new() { HasText = "ui-drift" })).ToContainTextAsync("live in prod: ks > 0.3 on age, plan");

        await TestId("rule-name").FillAsync("ui-regression");
        await TestId("rule-kind").SelectOptionAsync("model_regression");
        await TestId("cond-model").FillAsync("churn");
        await TestId("cond-metric").FillAsync("auc");
        await TestId("cond-tolerance").FillAsync("0.05");
        await TestId("rule-create").ClickAsync();
        await Expect(TestId("alert-rules").Locator("tbody tr", new() { HasText = "ui-regression" })).ToContainTextAsync("churn: auc below the version behind 'champion' by more than 0.05");

        foreach (var (name, kind, field, value, shown) in new[]
                 {
                     ("ui-pending", "promotion_pending", "cond-hours", "24", "pending more than 24 h"),
                     ("ui-stale", "run_stale", "cond-minutes", "30", "no data for 30 min"),
                     ("ui-deploy", "deployment_failed", "cond-environment", "prod", "failed in prod"),
                 })
        {
            await TestId("rule-name").FillAsync(name);
            await TestId("rule-kind").SelectOptionAsync(kind);
            await TestId(field).FillAsync(value);
            await TestId("rule-create").ClickAsync();
            await Expect(TestId("alert-rules").Locator("tbody tr", new() { HasText = name })).ToContainTextAsync(shown);
        }

        var rules = JsonNode.Parse(await world.Server.Http.GetStringAsync("/api/v1/alerts/rules/?project=default"))!["rules"]!.AsArray();
        var drift = rules.Single(r => (string)r!["name"]! == "ui-drift")!["condition"]!;
        Assert.Equal("prod", (string)drift["environment"]!);
        Assert.Null(drift["alias"]);
        Assert.Equal(["age", "plan"], drift["columns"]!.AsArray().Select(c => (string)c!));
        Assert.Equal(0.3, (double)drift["threshold"]!);
        foreach (var name in new[] { "ui-drift", "ui-regression", "ui-pending", "ui-stale", "ui-deploy" })
        {
            var id = (long)rules.Single(r => (string)r!["name"]! == name)!["id"]!;
            (await world.Server.Http.DeleteAsync($"/api/v1/alerts/rules/{id}")).EnsureSuccessStatusCode();
        }
    }

    [Fact]
    public async Task the_bell_leads_to_the_alerts_page()
    {
        var created = await world.Api.PostAsync("/api/v1/alerts/rules/", new { name = "ui-bell", kind = "metric_threshold", condition = new { query = "metrics.ui_bell > 1" } });
        await Page.GotoAsync("/models");
        await Expect(TestId("notifications")).ToHaveAttributeAsync("data-live", "on");
        var run = await world.Api.RunAsync(await world.Api.ExperimentAsync("ui-bell"), "loud");
        await LogAsync(run, "ui_bell", 5);
        await Expect(TestId("notification-count")).ToHaveTextAsync("1");
        await TestId("notifications").ClickAsync();
        await TestId("notification-list").GetByRole(AriaRole.Link, new() { Name = "ui-bell" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/alerts\\?project=default$"));
        await Expect(TestId("notification-list")).ToBeHiddenAsync();
        await Expect(TestId("alerts").Locator("tbody tr[data-state='firing']", new() { HasText = "ui-bell" })).ToHaveCountAsync(1);
        (await world.Server.Http.DeleteAsync($"/api/v1/alerts/rules/{(long)created["id"]!}")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task a_webhook_is_created_tested_redelivered_edited_rotated_and_deleted_on_the_page()
    {
        await using var receiver = new WebhookReceiver();
        await Page.GotoAsync("/webhooks");
        await Expect(Page.Locator("header.top nav a.active")).ToHaveTextAsync("Webhooks");
        await TestId("new-webhook").Locator("summary").ClickAsync();

        // Refused: the server's message.
        await TestId("webhook-name").FillAsync("ui-ci");
        await TestId("webhook-url").FillAsync("ftp://example.com/");
        await TestId("webhook-save").ClickAsync();
        await Expect(TestId("webhook-outcome").GetByTestId("error-line")).ToContainTextAsync("http");

        await TestId("webhook-url").FillAsync(receiver.Url);
        await TestId("webhook-events").FillAsync("experiment.created, run.*");
        await TestId("webhook-save").ClickAsync();
        var secret = await TestId("secret-value").TextContentAsync();
        Assert.StartsWith("whsec_", secret);
        var row = TestId("webhooks").Locator("tbody tr", new() { HasText = "ui-ci" });
        await Expect(row).ToContainTextAsync(receiver.Url);
        await Expect(row).ToContainTextAsync("experiment.created, run.*");
        await Expect(row).ToContainTextAsync("active");

        // A test event goes through the queue: the log shows it delivered, and the receiver got it signed with the secret.
        await row.GetByTestId("webhook-test").ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/webhooks\\?webhook=\\d+"));
        var log = TestId("deliveries");
        var test = log.Locator("tbody tr[data-event-type='webhook.test']");
        await Expect(test).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = 30_000 });
        await Expect(test.Locator("td").Nth(2)).ToHaveTextAsync("1");
        await Expect(test.Locator("td").Nth(4)).ToContainTextAsync(" ms");
        await Expect(test.Locator("td").Nth(5)).ToHaveTextAsync("200");
        var received = Assert.Single(receiver.Accepted);
        Assert.Contains("webhook.test", received.Body);
        Assert.True(Signed(secret!, received), "the test delivery is not signed with the secret the page showed");
        await BrowserFixture.ScreenshotAsync(Page, "webhooks");

        // The receiver fails: after its one attempt the delivery is dead; redelivered once the receiver is back, it succeeds.
        receiver.Answer = _ => Task.FromResult(500);
        await world.Api.ExperimentAsync("ui-webhook-dead");
        var created = log.Locator("tbody tr[data-event-type='experiment.created']");
        await Expect(created).ToHaveAttributeAsync("data-status", "dead", new() { Timeout = 30_000 });
        await Expect(created.Locator("td").Nth(5)).ToHaveTextAsync("500");
        receiver.Answer = _ => Task.FromResult(200);
        await created.GetByTestId("redeliver").ClickAsync();
        await Expect(created).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = 30_000 });
        Assert.Contains(receiver.Accepted, r => r.Body.Contains("ui-webhook-dead"));

        // Edit: pause it and narrow its types.
        await row.GetByTestId("webhook-edit-open").ClickAsync();
        var edit = TestId("webhook-edit");
        await edit.GetByTestId("webhook-events").FillAsync("run.failed");
        await edit.GetByTestId("webhook-active").UncheckAsync();
        await edit.GetByTestId("webhook-save").ClickAsync();
        await Expect(row).ToContainTextAsync("paused");
        await Expect(row).ToContainTextAsync("run.failed");
        await Expect(edit).ToHaveCountAsync(0);

        // Rotate: a new secret, shown once, that signs what is sent from now on.
        await row.GetByTestId("webhook-rotate").ClickAsync();
        await Expect(TestId("webhook-secret")).ToContainTextAsync("New signing secret");
        var rotated = await TestId("secret-value").TextContentAsync();
        Assert.StartsWith("whsec_", rotated);
        Assert.NotEqual(secret, rotated);
        await row.GetByTestId("webhook-edit-open").ClickAsync();
        await TestId("webhook-edit").GetByTestId("webhook-active").CheckAsync();
        await TestId("webhook-edit").GetByTestId("webhook-save").ClickAsync();
        await Expect(row).ToContainTextAsync("active");
        var before = receiver.Accepted.Count;
        await row.GetByTestId("webhook-test").ClickAsync();
        await WebhookReceiver.Until(() => receiver.Accepted.Count > before, 30, "the test delivery after the rotation");
        var last = receiver.Accepted.Last();
        Assert.True(Signed(rotated!, last), "the delivery after the rotation is not signed with the new secret");

        await row.GetByTestId("webhook-delete").ClickAsync();
        await Expect(TestId("webhooks")).Not.ToContainTextAsync("ui-ci");
        Assert.DoesNotContain("ui-ci", await world.Server.Http.GetStringAsync("/api/v1/webhooks/?project=default"));
    }
}

/// <summary>
/// With authentication on, a reader of the project: the alerts page shows the rules but a rule it creates is refused with the
/// server's message (nothing stored); the webhooks page, for the project's admins, says plainly that it is not theirs.
/// </summary>
[Collection("browser")]
public sealed class UiAlertsWebhooksReaderTests(BrowserFixture browser) : SecuredBrowserPageTests(browser)
{
    private string _readerToken = "";

    protected override async Task SeedAsync(Lineage.Storage.Governance.GovernanceStore gov)
    {
        await gov.CreatePrincipalAsync("rita", Lineage.Core.Governance.PrincipalKind.User, null, serverAdmin: false, "test");
        await gov.GrantAsync("rita", "default", Lineage.Core.Governance.Role.Reader, "test");
        _readerToken = (await gov.IssueTokenAsync("rita", null, TimeSpan.FromHours(1), "test")).Secret;
        await new ApiWriter(Server.Http).PostAsync("/api/v1/alerts/rules/", new { name = "root-rule", kind = "run_stale", condition = new { minutes = 30 } });
    }

    [Fact]
    public async Task a_reader_sees_the_rules_is_refused_a_new_one_and_is_told_webhooks_are_for_admins()
    {
        await Page.GotoAsync("/alerts");
        await TestId("login-secret").FillAsync(_readerToken);
        await TestId("login-submit").ClickAsync();
        await Expect(TestId("alert-rules")).ToContainTextAsync("root-rule");
        await Expect(TestId("alerts-live")).ToHaveAttributeAsync("data-live", "on");

        await TestId("new-rule").Locator("summary").ClickAsync();
        await TestId("rule-name").FillAsync("reader-rule");
        await TestId("rule-kind").SelectOptionAsync("run_stale");
        await TestId("cond-minutes").FillAsync("5");
        await TestId("rule-create").ClickAsync();
        await Expect(TestId("rule-outcome").GetByTestId("error-line")).ToContainTextAsync("may not POST /api/v1/alerts/rules");
        await Expect(TestId("alert-rules").Locator("tbody tr")).ToHaveCountAsync(1);

        await Page.Locator("header.top nav a[data-nav='webhooks']").ClickAsync();
        await Expect(TestId("error")).ToContainTextAsync("Not allowed");
        await Expect(TestId("error")).ToContainTextAsync("may not GET /api/v1/webhooks");
    }
}
