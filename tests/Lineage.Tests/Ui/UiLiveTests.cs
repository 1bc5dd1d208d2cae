using System.Text.RegularExpressions;
using Lineage.Tests.Support;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Lineage.Tests.Ui;

/// <summary>A server of its own for the live tests: what they log must not show up in other tests' pages.</summary>
public sealed class LiveWorld : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;
    public ApiWriter Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        Api = new ApiWriter(Server.Http);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Issue 16, live: a RUNNING run's page, the runs table and the header's notifications follow the server's event
/// stream (Server-Sent Events). The delays from a write's acknowledgement to the page showing it are measured in the
/// page (a MutationObserver's <c>Date.now()</c> against the test's clock, one machine) and recorded in
/// <c>ui-output/timings.txt</c>, never asserted.
/// </summary>
[Collection("browser")]
public sealed class UiLiveTests(BrowserFixture browser, LiveWorld world, ITestOutputHelper output) : BrowserPageTests(browser), IClassFixture<LiveWorld>
{
    protected override Uri Address => world.Server.Address;

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Resolves with the page's <c>Date.now()</c> once <paramref name="selector"/> matches (at once if it does already).</summary>
    private Task<long> WhenShownAsync(string selector) => Page.EvaluateAsync<long>(
        """
        sel => new Promise(resolve => {
          if (document.querySelector(sel)) return resolve(Date.now());
          const o = new MutationObserver(() => { if (document.querySelector(sel)) { o.disconnect(); resolve(Date.now()); } });
          o.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
        })
        """, selector);

    private void Report(string figure)
    {
        output.WriteLine(figure);
        BrowserFixture.RecordTiming(figure);
    }

    private static double Median(List<long> xs) => xs.Order().ElementAt(xs.Count / 2);

    [Fact]
    public async Task a_running_runs_page_shows_each_logged_point_from_the_event_stream()
    {
        var api = world.Api;
        var run = await api.RunAsync(await api.ExperimentAsync("live-run"), "watched");
        var runReads = 0;
        Page.Request += (_, r) => { if (r.Url.EndsWith($"/api/v1/runs/{run}")) Interlocked.Increment(ref runReads); };
        await Page.GotoAsync($"/runs/{run}");
        await Expect(TestId("run-name")).ToContainTextAsync("RUNNING");
        await Expect(TestId("live-note")).ToHaveAttributeAsync("data-live", "on");
        await Expect(TestId("metrics")).ToHaveTextAsync("No metrics.");

        // Nothing logged, nothing asked: the page waits for events (no poll).
        await Page.WaitForTimeoutAsync(300);
        var idle = runReads;
        await Page.WaitForTimeoutAsync(2500);
        Assert.Equal(idle, runReads);

        var delays = new List<long>();
        var fromRequest = new List<long>();
        for (var step = 0; step < 10; step++)
        {
            var shown = WhenShownAsync($"figure[data-metric='progress'][data-total-points='{step + 1}']");
            var sent = Now();
            await api.BatchAsync(run, new { metrics = new[] { new { key = "progress", value = 0.1 * (step + 1), step } } });
            var acknowledged = Now();
            var at = await shown.WaitAsync(TimeSpan.FromSeconds(20));
            delays.Add(at - acknowledged);
            fromRequest.Add(at - sent);
        }
        var figure = TestId("charts").Locator("figure[data-metric='progress']");
        await Expect(figure.Locator("figcaption")).ToContainTextAsync("10 points");
        await Expect(TestId("metrics").Locator("tbody tr")).ToHaveTextAsync(new Regex("^progress\\s*1\\s*9$"));
        Report($"live run page (event stream): a logged point is shown median {Median(delays)} ms (max {delays.Max()} ms) after the write was acknowledged, " +
               $"{Median(fromRequest)} ms (max {fromRequest.Max()} ms) after it was sent; {delays.Count} points: {string.Join(", ", delays)}");

        await api.EndAsync(run, "FAILED");
        await Expect(TestId("run-name")).ToContainTextAsync("FAILED");
    }

    [Fact]
    public async Task the_runs_table_follows_status_new_runs_and_latest_values_reading_only_what_changed()
    {
        var api = world.Api;
        var experiment = await api.ExperimentAsync("live-table");
        var done = await api.RunAsync(experiment, "done");
        await api.BatchAsync(done, new { metrics = new[] { new { key = "loss", value = 0.9, step = 0 } } });
        await api.EndAsync(done, "FINISHED");
        var running = await api.RunAsync(experiment, "training");
        await api.BatchAsync(running, new { metrics = new[] { new { key = "loss", value = 0.5, step = 0 } } });

        var searches = new List<string>();
        Page.Request += (_, r) => { if (r.Url.Contains("/api/v1/search/runs")) lock (searches) searches.Add(Uri.UnescapeDataString(r.Url.Replace('+', ' '))); };
        await Page.GotoAsync($"/experiments/{experiment}");
        var table = TestId("runs-table");
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(2);
        await Expect(TestId("new-runs")).ToHaveAttributeAsync("data-live", "on");
        var row = table.Locator($"tr[data-run='{running}']");
        var lossColumn = await table.Locator("thead th").EvaluateAllAsync<int>("ths => ths.findIndex(th => th.dataset.col === 'metric:loss')");
        Assert.True(lossColumn > 0);
        await Expect(row.Locator("td").Nth(lossColumn)).ToHaveTextAsync("0.5");
        await Page.WaitForTimeoutAsync(500);
        lock (searches) searches.Clear();

        // A new latest value: the row of that run is redrawn from one search by its id, not the page again.
        var delays = new List<long>();
        var values = new[] { 0.25, 0.2, 0.125, 0.1, 0.05 };
        for (var step = 1; step <= values.Length; step++)
        {
            var value = values[step - 1];
            var text = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var cell = Page.EvaluateAsync<long>(
                """
                ([sel, text]) => new Promise(resolve => {
                  const ok = () => document.querySelector(sel)?.textContent === text;
                  if (ok()) return resolve(Date.now());
                  const o = new MutationObserver(() => { if (ok()) { o.disconnect(); resolve(Date.now()); } });
                  o.observe(document.body, { subtree: true, childList: true, characterData: true });
                })
                """, new object[] { $"tr[data-run='{running}'] td:nth-child({lossColumn + 1})", text });
            await api.BatchAsync(running, new { metrics = new[] { new { key = "loss", value, step } } });
            var acknowledged = Now();
            delays.Add(await cell.WaitAsync(TimeSpan.FromSeconds(20)) - acknowledged);
        }
        await Expect(row.Locator("td").Nth(lossColumn)).ToHaveTextAsync("0.05");
        lock (searches)
        {
            Assert.NotEmpty(searches);
            Assert.All(searches, s => Assert.Contains($"attributes.run_id IN ('{running}')", s));
        }
        Report($"live runs table (event stream): a new latest value is in its row median {Median(delays)} ms (max {delays.Max()} ms) after the write was acknowledged; {string.Join(", ", delays)}");

        // The run ends: its status follows; the finished run's row was not touched.
        var doneRow = await table.Locator($"tr[data-run='{done}']").ElementHandleAsync();
        await api.EndAsync(running, "FINISHED");
        await Expect(row).ToHaveAttributeAsync("data-status", "FINISHED");
        await Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("FINISHED");
        Assert.True(await doneRow.EvaluateAsync<bool>("tr => tr.isConnected"));

        // A new run of this experiment appears on the first page (newest first); one of another experiment does not.
        await api.RunAsync(await api.ExperimentAsync("elsewhere"), "not-here");
        var fresh = await api.RunAsync(experiment, "fresh-run");
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(3);
        await Expect(table.Locator("tbody tr").First).ToHaveAttributeAsync("data-run", fresh);
        await Expect(table).Not.ToContainTextAsync("not-here");
        await Expect(TestId("run-count")).ToContainTextAsync("3 runs");
    }

    [Fact]
    public async Task the_header_bell_counts_failures_as_they_happen_and_lists_them()
    {
        var api = world.Api;
        await api.UploadAsync("checked-data", "dataset", "a,b\n1,2\n"u8.ToArray());
        var run = await api.RunAsync(await api.ExperimentAsync("bell"), "doomed");
        await Page.GotoAsync("/artifacts");
        var bell = TestId("notifications");
        await Expect(bell).ToHaveAttributeAsync("data-live", "on");
        await Expect(TestId("notification-count")).ToHaveTextAsync("");

        // A validation with a failed check, then a failed run: the count follows, without a reload.
        await api.PostAsync("/api/v1/datasets/checked-data/versions/1/validations", new
        {
            checks = new object[] { new { name = "ids_unique", passed = true }, new { name = "b_positive", passed = false, details = "1 row" } },
        });
        await Expect(TestId("notification-count")).ToHaveTextAsync("1");
        // A passed validation and a finished run are not news.
        await api.PostAsync("/api/v1/datasets/checked-data/versions/1/validations", new { checks = new object[] { new { name = "ids_unique", passed = true } } });
        var fine = await api.RunAsync(await api.ExperimentAsync("bell-fine"), "fine");
        await api.EndAsync(fine, "FINISHED");
        await api.EndAsync(run, "FAILED");
        await Expect(TestId("notification-count")).ToHaveTextAsync("2");
        await Expect(bell).ToHaveAttributeAsync("title", "2 new notifications");

        // Navigating keeps the count (the bell belongs to the header, not the page).
        await Page.Locator("header.top a[data-nav='models']").ClickAsync();
        await Expect(TestId("notification-count")).ToHaveTextAsync("2");

        await bell.ClickAsync();
        var list = TestId("notification-list");
        await Expect(list).ToBeVisibleAsync();
        await Expect(list.Locator("li")).ToHaveCountAsync(2);
        await Expect(list.Locator("li").First).ToContainTextAsync(new Regex("^Run doomed failed"));
        await Expect(list.Locator("li").Nth(1)).ToContainTextAsync("Dataset checked-data v1: 1 failed check");
        await Expect(TestId("notification-count")).ToHaveTextAsync("");
        await list.GetByRole(AriaRole.Link, new() { Name = "checked-data v1" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/artifacts/checked-data\\?v=1"));
    }

    [Fact]
    public async Task an_alert_rule_firing_rings_the_bell()
    {
        var api = world.Api;
        await api.PostAsync("/api/v1/alerts/rules/", new { name = "loss-high", kind = "metric_threshold", severity = "critical", condition = new { query = "metrics.bell_loss > 0.5" } });
        var run = await api.RunAsync(await api.ExperimentAsync("bell-alert"), "diverging");
        await Page.GotoAsync("/models");
        var bell = TestId("notifications");
        await Expect(bell).ToHaveAttributeAsync("data-live", "on");
        await api.PostAsync($"/api/v1/runs/{run}/batch", new { metrics = new[] { new { key = "bell_loss", value = 0.9, step = 1 } } });
        await Expect(TestId("notification-count")).ToHaveTextAsync("1");
        await bell.ClickAsync();
        await Expect(TestId("notification-list").Locator("li[data-type='alert.fired']")).ToContainTextAsync("Alert (critical) loss-high");
    }
}
