using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lineage.Tests.Ui;

/// <summary>
/// The screenshots in docs/ui.md: the run page, the runs table with its chart panel and filter completion, compare,
/// the lineage page, the run page in dark mode and the header's notifications over the lineage page's dataset view, taken from the <see cref="RunsWorld"/> in headless Chromium at
/// 1,400 × 900, written to ui-output/docs/; scripts/ui-screenshots.sh runs this test and copies them to docs/ui/ (the
/// committed copies). Each shot first checks that what it shows is drawn.
/// </summary>
[Collection("browser")]
public sealed class UiDocScreenshotsTests(BrowserFixture browser, RunsWorld world) : BrowserPageTests(browser), IClassFixture<RunsWorld>
{
    protected override Uri Address => world.Server.Address;

    private async Task ShotAsync(string name)
    {
        // Settled: fonts loaded and no animation frame pending.
        await Page.EvaluateAsync("() => document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))))");
        var folder = Directory.CreateDirectory(Path.Combine(BrowserFixture.OutputDir, "docs")).FullName;
        var path = Path.Combine(folder, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = false });
        Assert.True(new FileInfo(path).Length > 10_000, $"{name}.png is nearly empty");
    }

    [Fact]
    public async Task screenshots_for_docs_ui_md()
    {
        await Page.SetViewportSizeAsync(1400, 900);

        await Page.GotoAsync($"/runs/{world.ProbeId}");
        await Expect(TestId("charts").Locator("figure.metric canvas")).ToHaveCountAsync(3);
        await ShotAsync("run-page");

        await Page.GotoAsync($"/experiments/{world.ExperimentId}");
        await TestId("panel-metric").SelectOptionAsync("loss");
        await Expect(TestId("chart-panel").Locator("figure[data-kind='curves']")).ToHaveAttributeAsync("data-series", "4");
        await ShotAsync("runs-table");

        await TestId("runs-filter").FillAsync("");
        await TestId("runs-filter").PressSequentiallyAsync("params.");
        await Expect(TestId("completions").Locator("li").First).ToContainTextAsync("params.depth");
        await ShotAsync("runs-filter-completion");

        await Page.GotoAsync("/compare?runs=" + string.Join(",", world.TrialIds));
        await Page.GetByLabel("Metric for parallel coordinates").SelectOptionAsync("loss");
        await Expect(TestId("parallel-coordinates").Locator("polyline")).ToHaveCountAsync(3);
        await ShotAsync("compare");

        await Page.GotoAsync("/lineage?direction=both&depth=3&node=" + Uri.EscapeDataString("artifact:reviews.csv@1"));
        await Expect(TestId("graph")).ToHaveAttributeAsync("data-ready", "true");
        await ShotAsync("lineage");

        await Page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await Page.GotoAsync($"/runs/{world.ProbeId}");
        await Expect(TestId("charts").Locator("figure.metric canvas")).ToHaveCountAsync(3);
        await ShotAsync("run-page-dark");

        // The header's notifications after a failed check and a failed run, arriving over the event stream.
        await Page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await Page.GotoAsync("/lineage?view=datasets&depth=3&node=" + Uri.EscapeDataString("artifact:reviews.csv@1"));
        await Expect(TestId("graph")).ToHaveAttributeAsync("data-ready", "true");
        await Expect(TestId("notifications")).ToHaveAttributeAsync("data-live", "on");
        var api = new ApiWriter(world.Server.Http);
        await api.PostAsync("/api/v1/datasets/houses/versions/2/validations", new { checks = new object[] { new { name = "size_positive", passed = false, details = "1 row" } } });
        await api.EndAsync(world.RunningId, "FAILED");
        await Expect(TestId("notification-count")).ToHaveTextAsync("2");
        await TestId("notifications").ClickAsync();
        await Expect(TestId("notification-list").Locator("li").First).ToContainTextAsync("Run live failed");
        await ShotAsync("notifications");
    }
}
