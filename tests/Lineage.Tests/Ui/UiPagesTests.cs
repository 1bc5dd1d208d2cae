using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lineage.Tests.Ui;

/// <summary>
/// Every page of the web UI in real headless Chromium, against a real server holding data written
/// through the API: what a person would see, clicks included. Screenshots go to ui-output/.
/// </summary>
[Collection("browser")]
public sealed class UiPagesTests(BrowserFixture browser, UiWorld world) : BrowserPageTests(browser), IClassFixture<UiWorld>
{
    protected override Uri Address => world.Server.Address;

    [Fact]
    public async Task experimentsPage_lists_experiments_and_opens_one()
    {
        await Page.GotoAsync("/");
        var table = TestId("experiments");
        await Expect(table).ToContainTextAsync("churn");
        await Expect(table).ToContainTextAsync("fraud");
        await Expect(table).ToContainTextAsync("team=growth");
        await BrowserFixture.ScreenshotAsync(Page, "experiments");

        await Page.GetByRole(AriaRole.Link, new() { Name = "churn" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/experiments/{world.ExperimentId}$"));
        await Expect(Page.Locator("h1")).ToContainTextAsync("churn");
    }

    [Fact]
    public async Task runs_table_shows_chosen_columns_sorts_nests_children_and_filters()
    {
        await Page.GotoAsync($"/experiments/{world.ExperimentId}");
        var table = TestId("runs-table");
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(5);
        // Metric and param columns chosen by default from what the runs have.
        await Expect(table.Locator("thead")).ToContainTextAsync("loss");
        await Expect(table.Locator("thead")).ToContainTextAsync("lr");

        // Nested runs: the three trials sit under "sweep", indented, and collapse with it.
        var sweepRow = table.Locator($"tr[data-run='{world.SweepId}']");
        await Expect(sweepRow).ToHaveAttributeAsync("data-depth", "0");
        foreach (var id in world.TrialIds)
            await Expect(table.Locator($"tr[data-run='{id}']")).ToHaveAttributeAsync("data-depth", "1");
        await sweepRow.GetByTestId("twisty").ClickAsync();
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(2);
        await sweepRow.GetByTestId("twisty").ClickAsync();
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(5);

        // Sorting by a param column: the server orders every run by it (ascending, then descending); children stay under their parent.
        await table.Locator("th[data-col='param:lr']").ClickAsync();
        var childNames = table.Locator("tr[data-depth='1'] td.name a");
        await Expect(childNames).ToHaveTextAsync(["trial-3", "trial-2", "trial-1"]);
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("sort=param%3Alr"));
        await table.Locator("th[data-col='param:lr']").ClickAsync();
        await Expect(childNames).ToHaveTextAsync(["trial-1", "trial-2", "trial-3"]);
        // Runs without the param come last in both directions; the sweep parent has none.
        await Expect(table.Locator("tbody tr").First).ToContainTextAsync("baseline");
        await table.Locator("th[data-col='attr:start']").ClickAsync();
        await Expect(table.Locator("tbody tr td.name a").First).ToHaveTextAsync("sweep");

        // Choosing a tag column adds it.
        await Page.Locator("details.columns summary").ClickAsync();
        await Page.Locator("input[data-column='tag:stage']").CheckAsync();
        await Expect(table.Locator("thead")).ToContainTextAsync("stage");
        await Expect(table.Locator($"tr[data-run='{world.TrialIds[0]}']")).ToContainTextAsync("dev");
        await BrowserFixture.ScreenshotAsync(Page, "runs-table");

        // The filter box speaks the query language, answered by the server over all runs.
        await TestId("runs-filter").FillAsync("status = 'FAILED'");
        await TestId("runs-filter").PressAsync("Enter");
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(table).ToContainTextAsync("baseline");
        await TestId("runs-filter").FillAsync("user_id = 'alice' and status = 'FINISHED'");
        await TestId("runs-filter").PressAsync("Enter");
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(4);
        await TestId("runs-filter").FillAsync("metrics.accuracy > 0.85 or params.optimizer = 'sgd'");
        await TestId("runs-filter").PressAsync("Enter");
        await Expect(table.Locator("td.name a")).ToHaveCountAsync(2); // trial-1 (accuracy 0.892) and trial-3 (sgd)
        await Expect(table).ToContainTextAsync("trial-1");
        await Expect(table).ToContainTextAsync("trial-3");
    }

    [Fact]
    public async Task bad_filters_show_the_parsers_message_with_the_text_from_the_bad_token_marked()
    {
        await Page.GotoAsync($"/experiments/{world.ExperimentId}?filter=" + Uri.EscapeDataString("status = 'FAILED' and metrics.loss >> 1"));
        await Expect(TestId("filter-error")).ToContainTextAsync("invalid filter at position 35: invalid comparator '>>'");
        await Expect(TestId("filter-error").Locator("mark")).ToHaveTextAsync(">> 1");
        await Expect(TestId("runs-table")).ToHaveCountAsync(0);

        await Page.GotoAsync($"/experiments/{world.ExperimentId}?filter=" + Uri.EscapeDataString("status = FAILED"));
        await Expect(TestId("filter-error")).ToContainTextAsync("position 9");
        await Expect(TestId("filter-error").Locator("mark")).ToHaveTextAsync("FAILED");
        await BrowserFixture.ScreenshotAsync(Page, "runs-filter-error");
    }

    [Fact]
    public async Task runPage_shows_params_tags_system_tags_charts_inputs_outputs_and_previews()
    {
        var trial = world.TrialIds[0];
        await Page.GotoAsync($"/runs/{trial}");
        await Expect(TestId("run-name")).ToContainTextAsync("trial-1");
        await Expect(TestId("run-name")).ToContainTextAsync("FINISHED");
        await Expect(TestId("params")).ToContainTextAsync("lr");
        await Expect(TestId("params")).ToContainTextAsync("0.1");
        await Expect(TestId("tags")).ToContainTextAsync("stage");
        await Expect(TestId("tags")).Not.ToContainTextAsync("lineage.host");
        await Expect(TestId("system-tags")).ToContainTextAsync("lineage.host");
        await Expect(TestId("system-tags")).ToContainTextAsync("gpu-box-7");

        // One chart per metric, drawn from the full history (50 points each).
        var charts = TestId("charts").Locator("figure.metric");
        await Expect(charts).ToHaveCountAsync(2);
        await Expect(TestId("charts").Locator("figure[data-metric='loss']")).ToHaveAttributeAsync("data-total-points", "50");
        await Expect(TestId("charts").Locator("figure[data-metric='loss'] canvas")).ToHaveCountAsync(1);

        await Expect(TestId("inputs")).ToContainTextAsync("sales v1");
        await Expect(TestId("inputs")).ToContainTextAsync("training_data");
        await Expect(TestId("outputs")).ToContainTextAsync("churn-model v1");
        await Expect(TestId("outputs")).ToContainTextAsync("train-config v1");

        // Artifact browser: JSON pretty-printed, image shown, text as text.
        await Page.GetByRole(AriaRole.Button, new() { Name = "train-config v1" }).ClickAsync();
        await Expect(TestId("json-preview")).ToContainTextAsync("\"layers\": [");
        await Page.GetByRole(AriaRole.Button, new() { Name = "loss-plot v1" }).ClickAsync();
        await Expect(TestId("image-preview")).ToBeVisibleAsync();
        // Visible comes before decoded: wait for the pixels rather than reading them once.
        await Page.WaitForFunctionAsync("() => document.querySelector('[data-testid=image-preview]')?.naturalWidth === 1");
        await Page.GetByRole(AriaRole.Button, new() { Name = "train-notes v1" }).ClickAsync();
        await Expect(TestId("text-preview")).ToContainTextAsync("converged after 50 steps");
        await BrowserFixture.ScreenshotAsync(Page, "run-page");

        // The parent shows its children.
        await Page.GotoAsync($"/runs/{world.SweepId}");
        await Expect(TestId("child-runs").Locator("li")).ToHaveCountAsync(3);
    }

    [Fact]
    public async Task compare_highlights_param_differences_overlays_metrics_and_draws_parallel_coordinates()
    {
        await Page.GotoAsync($"/experiments/{world.ExperimentId}");
        foreach (var id in world.TrialIds)
            await Page.Locator($"tr[data-run='{id}'] input[type=checkbox]").CheckAsync();
        await TestId("compare-selected").ClickAsync();
        await Expect(Page.Locator("h1")).ToHaveTextAsync("Compare runs");

        var diff = TestId("param-diff");
        await Expect(diff.Locator("tr[data-param='lr']")).ToHaveClassAsync("differs");
        await Expect(diff.Locator("tr[data-param='optimizer']")).ToHaveClassAsync("differs");
        await Expect(diff.Locator("tr[data-param='depth']")).ToHaveClassAsync("same");
        await Page.GetByLabel("Only differences").CheckAsync();
        await Expect(diff.Locator("tr[data-param='depth']")).ToBeHiddenAsync();

        var overlay = TestId("overlay-charts").Locator("figure[data-metric='loss']");
        await Expect(overlay).ToHaveAttributeAsync("data-series", "3");
        await Expect(overlay.Locator(".u-legend")).ToContainTextAsync("trial-3");

        var pc = TestId("parallel-coordinates");
        await Expect(pc.Locator("polyline")).ToHaveCountAsync(3);
        // depth is 6 in every trial: no axis for it. lr spans two decades: a log axis.
        await Expect(pc.Locator("text.axis-param")).ToHaveTextAsync(["lr", "optimizer"]);
        await Expect(pc.Locator("text.axis-scale")).ToHaveCountAsync(1);
        await Expect(pc.Locator("text.axis-metric")).ToHaveTextAsync("accuracy");
        await Page.GetByLabel("Metric for parallel coordinates").SelectOptionAsync("loss");
        await Expect(pc.Locator("text.axis-metric")).ToHaveTextAsync("loss");
        await BrowserFixture.ScreenshotAsync(Page, "compare");
    }

    [Fact]
    public async Task artifactPage_shows_versions_aliases_metadata_csv_preview_and_metadata_diff()
    {
        await Page.GotoAsync("/artifacts");
        await Expect(TestId("artifacts")).ToContainTextAsync("sales");
        await Page.GetByRole(AriaRole.Link, new() { Name = "sales", Exact = true }).First.ClickAsync();

        var versions = TestId("versions");
        await Expect(versions.Locator("tbody tr")).ToHaveCountAsync(2);
        await Expect(versions.Locator("tr[data-version='1']")).ToContainTextAsync("production");
        await Expect(versions.Locator("tr[data-version='2']")).ToContainTextAsync("latest");
        await Expect(TestId("metadata")).ToContainTextAsync("\"currency\": \"string\"");
        // CSV as a table.
        await Expect(TestId("csv-preview").Locator("thead th")).ToHaveTextAsync(["region", "amount", "currency"]);
        await Expect(TestId("csv-preview").Locator("tbody tr")).ToHaveCountAsync(3);
        await Expect(TestId("download")).ToHaveAttributeAsync("href", "/api/v1/artifacts/sales/versions/2/content?project=default");

        // Diff v1 vs v2: rows and schema.currency changed/added, source unchanged.
        var diff = TestId("metadata-diff");
        await Expect(diff.Locator("tr[data-key='rows']")).ToHaveAttributeAsync("data-change", "changed");
        await Expect(diff.Locator("tr[data-key='schema.currency']")).ToHaveAttributeAsync("data-change", "added");
        await Expect(diff.Locator("tr[data-key='source']")).ToHaveAttributeAsync("data-change", "same");
        await Expect(TestId("alias-history")).ToContainTextAsync("production");
        await BrowserFixture.ScreenshotAsync(Page, "artifact");

        await Page.GotoAsync("/artifacts/sales?v=production");
        await Expect(TestId("version-detail").Locator("h2")).ToContainTextAsync("Version 1");

        // A directory version: its files, each previewable; the first is shown.
        await Page.GotoAsync("/artifacts/eval-bundle");
        var browserPane = TestId("artifact-browser");
        await Expect(browserPane.Locator("a[data-file]")).ToHaveTextAsync(["README.txt", "scores.csv", "summary.json"]);
        await Expect(TestId("text-preview")).ToContainTextAsync("scores per customer");
        await browserPane.Locator("a[data-file='scores.csv']").ClickAsync();
        await Expect(TestId("csv-preview").Locator("tbody tr")).ToHaveCountAsync(2);
        await browserPane.Locator("a[data-file='summary.json']").ClickAsync();
        await Expect(TestId("json-preview")).ToContainTextAsync("\"auc\": 0.91");
        await Expect(browserPane.GetByText("Download all (zip)")).ToHaveAttributeAsync("href", "/api/v1/artifacts/eval-bundle/versions/1/content?project=default&format=zip");
        await BrowserFixture.ScreenshotAsync(Page, "artifact-directory");
    }

    [Fact]
    public async Task lineage_graph_expands_on_click_highlights_a_path_shows_impact_and_exports()
    {
        await Page.GotoAsync("/lineage?node=" + Uri.EscapeDataString("artifact:sales@1"));
        var graph = TestId("graph");
        await Expect(graph).ToHaveAttributeAsync("data-ready", "true");
        Assert.Equal(["sales v1", "trial-1"], await LabelsAsync());
        await Expect(TestId("legend")).ToContainTextAsync("dataset");
        await Expect(TestId("legend")).ToContainTextAsync("run");

        // Click the run: its outputs appear. Click the model: the evaluation appears.
        await ClickNodeAsync("trial-1");
        await Expect(graph).ToHaveAttributeAsync("data-nodes", "6");
        Assert.Contains("churn-model v1", await LabelsAsync());
        await ClickNodeAsync("churn-model v1");
        await Expect(graph).ToHaveAttributeAsync("data-nodes", "7");
        await ClickNodeAsync("evaluate");
        await Expect(graph).ToHaveAttributeAsync("data-nodes", "8");
        Assert.Contains("eval-report v1", await LabelsAsync());
        await Expect(TestId("selected-node")).ToHaveTextAsync("evaluate");
        // Types have their own colours.
        var colours = await Page.EvaluateAsync<string[]>("() => ['sales v1','churn-model v1','trial-1'].map(l => window.__lineageCy.nodes().filter(n => n.data('label') === l)[0].data('colour'))");
        Assert.Equal(3, colours.Distinct().Count());
        await BrowserFixture.ScreenshotAsync(Page, "lineage-expanded");

        // The find box selects (and expands) a node by its label.
        await TestId("find-node").FillAsync("train-config v1");
        await TestId("find-node").DispatchEventAsync("change");
        await Expect(TestId("selected-node")).ToHaveTextAsync("train-config v1");

        // Path between two nodes.
        await ClickNodeAsync("sales v1");
        await TestId("path-from").ClickAsync();
        await ClickNodeAsync("eval-report v1");
        await Expect(TestId("path-result")).ToHaveTextAsync("Path: sales v1 → trial-1 → churn-model v1 → evaluate → eval-report v1");
        var onPath = await Page.EvaluateAsync<int>("() => window.__lineageCy.nodes('.path').length");
        Assert.Equal(5, onPath);
        await BrowserFixture.ScreenshotAsync(Page, "lineage-path");

        // Exports.
        var png = await Page.RunAndWaitForDownloadAsync(() => TestId("export-png").ClickAsync());
        Assert.Equal("lineage.png", png.SuggestedFilename);
        var pngPath = Path.Combine(BrowserFixture.OutputDir, "lineage-export.png");
        await png.SaveAsAsync(pngPath);
        Assert.Equal([0x89, 0x50, 0x4e, 0x47], File.ReadAllBytes(pngPath).Take(4).ToArray());
        var svg = await Page.RunAndWaitForDownloadAsync(() => TestId("export-svg").ClickAsync());
        var svgPath = Path.Combine(BrowserFixture.OutputDir, "lineage-export.svg");
        await svg.SaveAsAsync(svgPath);
        var svgText = await File.ReadAllTextAsync(svgPath);
        Assert.StartsWith("<svg", svgText);
        Assert.Contains("eval-report v1", svgText);
        Assert.Equal(8, System.Text.RegularExpressions.Regex.Matches(svgText, "<text ").Count);

        // Impact of the dataset: the model, the run and everything downstream.
        await Page.GotoAsync("/lineage?impact=1&node=" + Uri.EscapeDataString("artifact:sales@1"));
        var impact = TestId("impact");
        await Expect(impact).ToContainTextAsync("Model versions (1)");
        await Expect(impact).ToContainTextAsync("churn-model v1");
        // The run by its name, linked by its id.
        await Expect(impact.Locator($"a[href^='/runs/{world.TrialIds[0]}']")).ToHaveTextAsync("trial-1");
        await Expect(impact).ToContainTextAsync("eval-report v1");
        await BrowserFixture.ScreenshotAsync(Page, "lineage-impact");
    }

    [Fact]
    public async Task missing_entities_show_a_not_foundPage_never_a_stack_trace()
    {
        var missing = new[]
        {
            ("/runs/0123456789abcdef0123456789abcdef", "run"),
            ("/experiments/987654", "experiment"),
            ("/artifacts/no-such-artifact", "no-such-artifact"),
            ("/no/such/page", "no page"),
        };
        foreach (var (path, words) in missing)
        {
            var res = await Page.GotoAsync(path);
            Assert.Equal(200, res!.Status);  // the app shell; the page says what is missing
            await Expect(TestId("not-found")).ToContainTextAsync("Not found");
            await Expect(TestId("not-found")).ToContainTextAsync(words);
            var text = await Page.Locator("body").InnerTextAsync();
            Assert.DoesNotContain("   at ", text);
            Assert.DoesNotContain("Exception", text);
        }
        await BrowserFixture.ScreenshotAsync(Page, "not-found");

        // A bad lineage node gives the server's message, in the page.
        await Page.GotoAsync("/lineage?node=" + Uri.EscapeDataString("artifact:nothing@1"));
        await Expect(TestId("error-line")).ToContainTextAsync("nothing");
    }

    private async Task<string[]> LabelsAsync() =>
        (await Page.EvaluateAsync<string[]>("() => window.__lineageCy.nodes().map(n => n.data('label'))")).Order().ToArray();

    /// <summary>A real mouse click on the node's drawn position in the canvas.</summary>
    private async Task ClickNodeAsync(string label)
    {
        var pos = await Page.EvaluateAsync<JsonElement>(
            "l => { const n = window.__lineageCy.nodes().filter(x => x.data('label') === l)[0]; const p = n.renderedPosition(); return { x: p.x, y: p.y }; }", label);
        var box = (await TestId("graph").BoundingBoxAsync())!;
        await Page.Mouse.ClickAsync(box.X + pos.GetProperty("x").GetSingle(), box.Y + pos.GetProperty("y").GetSingle());
        await Expect(TestId("selected-node")).ToHaveTextAsync(label);
    }
}
