using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lineage.Server.Hosting;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lineage.Tests.Ui;

/// <summary>
/// The runs-and-curves world of issue 16, written through the native and MLflow APIs: experiment "curves" with
/// run "probe" (a one-point f1, a learning rate from 1e-4 down to 6e-9, loss with val_loss, an 1,800-character
/// param, an MLflow description and mlflow.* tags), three trials "a", "b", "c" with loss curves, a RUNNING run
/// started 90 s ago and a run created by the MLflow client with two logged files; an empty experiment; a
/// dataset named "reviews.csv" read by run "a"; an external artifact; a long artifact name for the audit log.
/// </summary>
public sealed class RunsWorld : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;
    public string ExperimentId { get; private set; } = "";
    public string EmptyExperimentId { get; private set; } = "";
    public string ProbeId { get; private set; } = "";
    public string RunningId { get; private set; } = "";
    /// <summary>A RUNNING run alone in experiment "live", for the live page test to log into.</summary>
    public string WatchedId { get; private set; } = "";
    public string MlflowRunId { get; private set; } = "";
    /// <summary>A run alone in experiment "editing" that the editor test renames and retags.</summary>
    public string EditableId { get; private set; } = "";
    public List<string> TrialIds { get; } = [];
    public static readonly string LongValue = string.Concat(Enumerable.Repeat("feature_", 223)) + "end";
    public const string Description = "Baseline with the new tokenizer.\nCompare against last week's run.";

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        var api = new ApiWriter(Server.Http);
        ExperimentId = await api.ExperimentAsync("curves");
        EmptyExperimentId = await api.ExperimentAsync("nothing-yet");
        var t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000;

        ProbeId = await api.RunAsync(ExperimentId, "probe", startTime: t0,
            tags: new() { ["mlflow.note.content"] = Description, ["mlflow.source.name"] = "train.py", ["owner"] = "dana" });
        var lr = Enumerable.Range(0, 30).Select(s => new { key = "lr", value = 1e-4 * Math.Pow(6e-5, s / 29.0), step = s, timestamp = t0 + s * 1000 });
        var loss = Enumerable.Range(0, 50).SelectMany(s => new[]
        {
            new { key = "loss", value = 1.0 / (s + 1), step = s, timestamp = t0 + s * 1000 },
            new { key = "val_loss", value = 1.2 / (s + 1) + 0.05, step = s, timestamp = t0 + s * 1000 },
        });
        await api.BatchAsync(ProbeId, new
        {
            @params = new[] { new { key = "features", value = LongValue }, new { key = "seed", value = "7" } },
            metrics = lr.Concat(loss).Append(new { key = "f1", value = 0.83, step = 0, timestamp = t0 + 60_000 }),
        });
        await api.EndAsync(ProbeId, "FINISHED");

        foreach (var (name, i) in new[] { "a", "b", "c" }.Select((n, i) => (n, i)))
        {
            var id = await api.RunAsync(ExperimentId, name, startTime: t0 + (i + 1) * 10_000);
            await api.BatchAsync(id, new
            {
                @params = new[] { new { key = "lr", value = (0.1 / Math.Pow(10, i)).ToString(System.Globalization.CultureInfo.InvariantCulture) }, new { key = "depth", value = "6" } },
                metrics = Enumerable.Range(0, 40).Select(s => new { key = "loss", value = (i + 1.0) / (s + 1), step = s, timestamp = t0 + s * 1000 })
                    .Append(new { key = "accuracy", value = 0.7 + i * 0.05, step = 0, timestamp = t0 }),
            });
            if (i == 0)   // a weight decay typed as text, a gradient norm logged as a number: one format on the compare page
                await api.BatchAsync(id, new { @params = new[] { new { key = "wd", value = "4.14e-06" } }, metrics = new[] { new { key = "grad_norm", value = 1.41e-6, step = 0 } } });
            await api.EndAsync(id, "FINISHED");
            TrialIds.Add(id);
        }
        RunningId = await api.RunAsync(ExperimentId, "live", startTime: DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 90_000);
        WatchedId = await api.RunAsync(await api.ExperimentAsync("live"), "watched");
        EditableId = await api.RunAsync(await api.ExperimentAsync("editing"), "draft", tags: new() { ["owner"] = "sam", ["stage"] = "dev" });
        await api.EndAsync(EditableId, "FINISHED");

        // A run made by the MLflow client, with files logged through the artifact proxy (mlflow.log_artifact).
        var created = await api.PostAsync("/api/2.0/mlflow/runs/create", new { experiment_id = ExperimentId, run_name = "mlflow-run", start_time = t0 + 50_000 });
        MlflowRunId = (string)created["run"]!["info"]!["run_id"]!;
        var root = ((string)created["run"]!["info"]!["artifact_uri"]!)["mlflow-artifacts:/".Length..];
        foreach (var (path, text) in new[] { ("notes.txt", "trained on 3 shards\n"), ("plots/summary.json", "{\"auc\":0.93}") })
        {
            using var res = await Server.Http.PutAsync($"/api/2.0/mlflow-artifacts/artifacts/{root}/{path}", new StringContent(text, Encoding.UTF8, "application/octet-stream"));
            res.EnsureSuccessStatusCode();
        }
        await api.PostAsync("/api/2.0/mlflow/runs/update", new { run_id = MlflowRunId, status = "FINISHED", end_time = t0 + 60_000 });

        await api.UploadAsync("reviews.csv", "dataset", Encoding.UTF8.GetBytes("id,stars\n1,5\n2,3\n"));
        await api.PostAsync($"/api/v1/runs/{TrialIds[0]}/inputs", new { artifact = new { name = "reviews.csv", version = "1" }, role = "training_data" });
        await api.UploadAsync("reviews-model", "model", Encoding.UTF8.GetBytes("weights"), runId: TrialIds[0]);
        // An evaluation step that read the dataset and failed.
        await api.PostAsync("/api/v1/executions", new
        {
            type = "evaluation", name = "eval-reviews", state = "FAILED",
            inputs = new[] { new { artifact = new { name = "reviews.csv", version = "1" }, role = "input" } },
        });
        await api.PostAsync("/api/v1/artifacts", new
        {
            name = "lake-orders", type = "dataset",
            external = new { uri = "https://lake.example.com/orders/2026-11.parquet", digest = new string('b', 64), size = 5_000_000 },
        });
        // A dataset with three versions; the third has recorded facts and one failed check.
        for (var v = 1; v <= 3; v++)
            await api.UploadAsync("houses", "dataset", Encoding.UTF8.GetBytes($"size,city\n{50 + v},Oslo\n120,Bergen\n"), metadata: new { rows = 2, build = v });
        await api.PutAsync("/api/v1/datasets/houses/versions/3", new
        {
            source = new { uri = "s3://lake/houses.csv", system = "s3" },
            columns = new object[] { new { name = "size", dtype = "double", nullable = false }, new { name = "city", dtype = "str" } },
            rowCount = 2,
            profile = new Dictionary<string, object> { ["size"] = new { missingPct = 0.0, min = 53.0, max = 120.0, mean = 86.5, distinctCount = 2 } },
        });
        await api.PostAsync("/api/v1/datasets/houses/versions/3/validations", new
        {
            checks = new object[] { new { name = "no_missing_size", passed = true }, new { name = "price_positive", passed = false, details = "2 rows with price <= 0" } },
        });
        var longName = "customer_churn_features_" + string.Concat(Enumerable.Repeat("segment_", 20)) + "v2";
        await api.UploadAsync(longName, "dataset", Encoding.UTF8.GetBytes("x\n1\n"));
        await api.PutAsync($"/api/v1/artifacts/{longName}/aliases/production", new { version = 1 });

        // An Airflow-like OpenLineage job: s3://lake raw/customers -> clean_customers -> s3://lake curated/customers_clean.
        await api.PostAsync("/api/v1/lineage", $$$$"""
            {"eventType":"COMPLETE","eventTime":"2026-11-30T10:00:00Z","producer":"https://example.com/airflow",
             "schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
             "run":{"runId":"{{{{Guid.NewGuid()}}}}"},"job":{"namespace":"airflow","name":"clean_customers"},
             "inputs":[{"namespace":"s3://lake","name":"raw/customers"}],
             "outputs":[{"namespace":"s3://lake","name":"curated/customers_clean","facets":{"schema":{
               "_producer":"https://example.com/airflow","_schemaURL":"https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
               "fields":[{"name":"id","type":"int"},{"name":"email","type":"string"}]}}}]}
            """);
        // A second run of the same job that failed.
        await api.PostAsync("/api/v1/lineage", $$"""
            {"eventType":"FAIL","eventTime":"2026-12-01T10:05:00Z","producer":"https://example.com/airflow",
             "schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
             "run":{"runId":"{{Guid.NewGuid()}}"},"job":{"namespace":"airflow","name":"clean_customers"},
             "inputs":[{"namespace":"s3://lake","name":"raw/customers"}]}
            """);
        await Server.Server.App.Services.GetRequiredService<AuditWriter>().FlushAsync();
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Issue 16 in headless Chromium: the bugs a data scientist hit, and runs and curves as they now look.</summary>
[Collection("browser")]
public sealed class UiRunsTests(BrowserFixture browser, RunsWorld world) : BrowserPageTests(browser), IClassFixture<RunsWorld>
{
    protected override Uri Address => world.Server.Address;

    /// <summary>Pixels of the plot canvas drawn in a colour (±24 per channel): a chart that draws nothing has none.</summary>
    private async Task<int> ColouredPixelsAsync(ILocator figure, int r, int g, int b) =>
        await figure.Locator("canvas").EvaluateAsync<int>(
            "(c, rgb) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;" +
            " for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]-rgb[0]) < 24 && Math.abs(d[i+1]-rgb[1]) < 24 && Math.abs(d[i+2]-rgb[2]) < 24 && d[i+3] > 200) n++; return n; }",
            new[] { r, g, b });

    [Fact]
    public async Task single_point_metric_draws_a_point_and_says_1_point()
    {
        await Page.GotoAsync($"/runs/{world.ProbeId}");
        var f1 = TestId("charts").Locator("figure[data-metric='f1']");
        await Expect(f1.Locator("figcaption")).ToContainTextAsync("1 point");
        await Expect(f1.Locator("figcaption")).Not.ToContainTextAsync("points");
        await Expect(f1.Locator("canvas")).ToHaveCountAsync(1);
        // The x-axis is a window around step 0, not 0–600; the point is drawn in the series' colour (#2563eb).
        var xTicks = (await f1.Locator(".chart").GetAttributeAsync("data-x-ticks"))!.Split('|');
        Assert.Contains("0", xTicks);
        Assert.DoesNotContain("600", xTicks);
        Assert.True(await ColouredPixelsAsync(f1, 37, 99, 235) > 20, "the single point is not drawn");
    }

    [Fact]
    public async Task tiny_metric_values_get_y_axis_labels_that_differ_linear_and_log()
    {
        await Page.GotoAsync($"/runs/{world.ProbeId}");
        var lr = TestId("charts").Locator("figure[data-metric='lr'] .chart");
        await Expect(lr).ToHaveAttributeAsync("data-y-ticks", new System.Text.RegularExpressions.Regex("e-"));
        var linear = (await lr.GetAttributeAsync("data-y-ticks"))!.Split('|');
        Assert.True(linear.Length >= 3, string.Join(" ", linear));
        Assert.Equal(linear.Length, linear.Distinct().Count());
        Assert.DoesNotContain(linear, l => l == "0" && linear.Count(x => x == "0") > 1);

        await TestId("log-scale").First.CheckAsync();
        lr = TestId("charts").Locator("figure[data-metric='lr'] .chart");
        await Expect(lr).ToHaveAttributeAsync("data-y-ticks", new System.Text.RegularExpressions.Regex("e-9|e-8"));
        var log = (await lr.GetAttributeAsync("data-y-ticks"))!.Split('|').Where(l => l.Length > 0).ToArray();
        Assert.Equal(log.Length, log.Distinct().Count());
    }

    [Fact]
    public async Task run_page_draws_a_grid_of_charts_overlays_related_metrics_and_zooms_smooths_and_changes_the_x_axis()
    {
        await Page.GotoAsync($"/runs/{world.ProbeId}");
        var charts = TestId("charts");
        // loss and val_loss are one chart with two series; f1, loss, lr: three charts side by side in rows.
        await Expect(charts.Locator("figure.metric")).ToHaveCountAsync(3);
        var loss = charts.Locator("figure[data-metric='loss']");
        await Expect(loss).ToHaveAttributeAsync("data-series", "2");
        await Expect(loss.Locator(".u-legend")).ToContainTextAsync("val_loss");
        var boxes = new List<LocatorBoundingBoxResult>();
        foreach (var key in new[] { "f1", "loss", "lr" }) boxes.Add((await charts.Locator($"figure[data-metric='{key}']").BoundingBoxAsync())!);
        Assert.Equal(boxes[0].Y, boxes[1].Y, 1.0);       // same row
        Assert.True(boxes[1].X > boxes[0].X + boxes[0].Width - 1, "charts are stacked, not in a grid");
        Assert.True(boxes.Max(b => b.X + b.Width) <= 1400);

        // Hover: every series' value under the cursor, in this chart and (shared cursor) in the others.
        await Expect(TestId("no-artifacts")).ToBeVisibleAsync();   // the page is complete: no more layout changes
        await loss.ScrollIntoViewIfNeededAsync();
        var canvas = loss.Locator(".u-over");
        var box = (await canvas.BoundingBoxAsync())!;
        await Page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
        await Expect(loss.Locator(".u-legend .u-value").Nth(1)).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^0\.\d+"));
        await Expect(loss.Locator(".u-legend .u-value").Nth(2)).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^0\.\d+"));
        await Expect(charts.Locator("figure[data-metric='lr'] .u-legend .u-value").Nth(1)).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"e-"));
        await BrowserFixture.ScreenshotAsync(Page, "run-charts");

        // Zoom: a drag across the chart narrows the x range; a double-click resets it.
        var chart = loss.Locator(".chart");
        Assert.Equal("0", await chart.GetAttributeAsync("data-x-min"));
        await Page.Mouse.MoveAsync(box.X + box.Width * 0.4f, box.Y + 20);
        await Page.Mouse.DownAsync();
        await Page.Mouse.MoveAsync(box.X + box.Width * 0.7f, box.Y + 20, new() { Steps = 5 });
        await Page.Mouse.UpAsync();
        await Expect(chart).Not.ToHaveAttributeAsync("data-x-min", "0");
        Assert.True(double.Parse((await chart.GetAttributeAsync("data-x-min"))!, System.Globalization.CultureInfo.InvariantCulture) > 10);
        await Page.Mouse.DblClickAsync(box.X + box.Width / 2, box.Y + 20);
        await Expect(chart).ToHaveAttributeAsync("data-x-min", "0");

        // X by relative time (seconds since the run started) and by wall time.
        await TestId("x-axis").First.SelectOptionAsync("relative");
        await Expect(charts.Locator("figure[data-metric='loss'] .chart")).ToHaveAttributeAsync("data-x-ticks", new System.Text.RegularExpressions.Regex(@"\d+s"));
        await TestId("x-axis").First.SelectOptionAsync("wall");
        await Expect(charts.Locator("figure[data-metric='loss'] .chart")).ToHaveAttributeAsync("data-x-ticks", new System.Text.RegularExpressions.Regex(@"\d\d:\d\d:\d\d"));

        // Smoothing: the hovered value of a noisy-free 1/x curve moves once averaged.
        await TestId("x-axis").First.SelectOptionAsync("step");
        await Expect(charts.Locator("figure[data-metric='loss'] .chart")).Not.ToHaveAttributeAsync("data-x-ticks", new System.Text.RegularExpressions.Regex(":"));
        await Page.Mouse.MoveAsync(box.X + 30, box.Y + box.Height / 2);
        var raw = await charts.Locator("figure[data-metric='loss'] .u-legend .u-value").Nth(1).TextContentAsync();
        await TestId("smoothing").First.FillAsync("0.9");
        await TestId("smoothing").First.DispatchEventAsync("change");
        await Page.Mouse.MoveAsync(box.X + 31, box.Y + box.Height / 2);
        await Expect(charts.Locator("figure[data-metric='loss'] .u-legend .u-value").Nth(1)).Not.ToHaveTextAsync(raw!);
    }

    [Fact]
    public async Task mlflow_logged_files_are_listed_and_previewed_on_the_run_page()
    {
        await Page.GotoAsync($"/runs/{world.MlflowRunId}");
        var files = TestId("mlflow-files");
        await Expect(files.Locator("a[data-file]")).ToHaveTextAsync(["notes.txt", "plots/summary.json"]);
        await Expect(TestId("text-preview")).ToContainTextAsync("trained on 3 shards");
        await files.Locator("a[data-file='plots/summary.json']").ClickAsync();
        await Expect(TestId("json-preview")).ToContainTextAsync("\"auc\": 0.93");
        await Expect(Page.GetByText("This run produced no artifacts.")).ToHaveCountAsync(0);
        var download = await Page.RunAndWaitForDownloadAsync(() => files.Locator("li").First.Locator("a[download]").ClickAsync());
        var saved = Path.Combine(BrowserFixture.OutputDir, "mlflow-notes.txt");
        await download.SaveAsAsync(saved);
        Assert.Equal("trained on 3 shards\n", await File.ReadAllTextAsync(saved));

        // A run with neither logged files nor outputs still says so.
        await Page.GotoAsync($"/runs/{world.TrialIds[1]}");
        await Expect(TestId("no-artifacts")).ToHaveTextAsync("This run produced no artifacts.");
    }

    [Fact]
    public async Task mlflow_note_is_the_run_description_and_mlflow_tags_are_system_tags()
    {
        await Page.GotoAsync($"/runs/{world.ProbeId}");
        await Expect(TestId("run-description")).ToHaveTextAsync(RunsWorld.Description);
        await Expect(TestId("tags")).ToContainTextAsync("owner");
        await Expect(TestId("tags")).Not.ToContainTextAsync("mlflow.");
        await Expect(TestId("system-tags")).ToContainTextAsync("mlflow.source.name");
        await Expect(TestId("system-tags")).ToContainTextAsync("train.py");
        await Expect(TestId("system-tags")).Not.ToContainTextAsync("mlflow.note.content");
    }

    [Fact]
    public async Task malformed_run_id_shows_not_found_with_a_way_back()
    {
        await Page.GotoAsync("/runs/not-a-run-id");
        await Expect(TestId("not-found")).ToContainTextAsync("Not found");
        await Expect(TestId("not-found")).ToContainTextAsync("not-a-run-id");
        await Expect(Page.GetByText("Something went wrong")).ToHaveCountAsync(0);
        await TestId("not-found").GetByRole(AriaRole.Link, new() { Name = "Back to experiments" }).ClickAsync();
        await Expect(TestId("experiments")).ToContainTextAsync("curves");
    }

    [Fact]
    public async Task lineage_page_keeps_the_depth_from_the_address()
    {
        await Page.GotoAsync("/lineage?depth=4&node=" + Uri.EscapeDataString("artifact:reviews.csv@1"));
        await Expect(TestId("graph")).ToHaveAttributeAsync("data-ready", "true");
        await Expect(TestId("depth")).ToHaveValueAsync("4");
        await Expect(TestId("depth").Locator("option:checked")).ToHaveTextAsync("4 hops");
        await Page.GotoAsync("/lineage?depth=7&node=" + Uri.EscapeDataString("artifact:reviews.csv@1"));
        await Expect(TestId("depth")).ToHaveValueAsync("7");
    }

    [Fact]
    public async Task impact_highlighting_keeps_the_width_of_highlighted_nodes()
    {
        await Page.GotoAsync("/lineage?impact=1&depth=3&node=" + Uri.EscapeDataString("artifact:reviews.csv@1"));
        await Expect(TestId("impact")).ToContainTextAsync("reviews-model v1");
        var widths = await Page.EvaluateAsync<JsonElement>(
            "() => window.__lineageCy.nodes('.impact').map(n => ({ label: n.data('label'), drawn: n.width(), wanted: n.data('w') }))");
        Assert.True(widths.GetArrayLength() >= 2, widths.ToString());
        foreach (var n in widths.EnumerateArray())
        {
            Assert.Equal(n.GetProperty("wanted").GetDouble(), n.GetProperty("drawn").GetDouble(), 0.5);
            Assert.True(n.GetProperty("drawn").GetDouble() > 30, n.ToString());
        }
        await BrowserFixture.ScreenshotAsync(Page, "lineage-impact-widths");
    }

    [Fact]
    public async Task lineage_never_zooms_below_1_marks_failed_steps_colours_runs_and_evaluations_apart_and_names_impacted_runs()
    {
        await Page.SetViewportSizeAsync(900, 900);
        await Page.GotoAsync("/lineage?impact=1&depth=3&node=" + Uri.EscapeDataString("artifact:reviews.csv@1"));
        await Expect(TestId("graph")).ToHaveAttributeAsync("data-ready", "true");
        Assert.True(await Page.EvaluateAsync<double>("() => window.__lineageCy.zoom()") >= 1, "the graph was zoomed out below 1 to fit");
        var nodes = await Page.EvaluateAsync<JsonElement>(
            "() => window.__lineageCy.nodes().map(n => ({ type: n.data('type'), label: n.data('display'), failed: n.data('failed'), colour: n.data('colour'), border: n.style('border-color'), style: n.style('border-style') }))");
        var eval = nodes.EnumerateArray().Single(n => n.GetProperty("type").GetString() == "evaluation");
        Assert.Equal("yes", eval.GetProperty("failed").GetString());
        Assert.StartsWith("✕ ", eval.GetProperty("label").GetString());
        Assert.Equal("dashed", eval.GetProperty("style").GetString());
        var run = nodes.EnumerateArray().First(n => n.GetProperty("type").GetString() == "run");
        Assert.Equal("no", run.GetProperty("failed").GetString());
        Assert.NotEqual(run.GetProperty("colour").GetString(), eval.GetProperty("colour").GetString());
        // The impact panel names runs instead of listing their 32-character ids.
        await Expect(TestId("impact")).ToContainTextAsync("Runs (1)");
        var runLink = TestId("impact").Locator($"a[href^='/runs/{world.TrialIds[0]}']");
        await Expect(runLink).ToHaveTextAsync("a");
        await BrowserFixture.ScreenshotAsync(Page, "lineage-failed-step");

        // The empty lineage page: the graphs opened before in this browser, the project's artifacts, suggestions while typing.
        await Page.GotoAsync("/lineage");
        await Expect(TestId("recent-nodes").Locator("li").First).ToHaveTextAsync("reviews.csv v1");
        await Expect(TestId("lineage-artifacts")).ToContainTextAsync("houses v3");
        Assert.Contains("artifact:reviews.csv@1", await Page.Locator("datalist#node-suggestions option").EvaluateAllAsync<string[]>("os => os.map(o => o.value)"));
        await TestId("recent-nodes").GetByRole(AriaRole.Link, new() { Name = "reviews.csv v1" }).ClickAsync();
        await Expect(TestId("graph")).ToHaveAttributeAsync("data-ready", "true");
    }

    [Fact]
    public async Task reloading_an_artifact_whose_name_has_a_dot_serves_the_ui_not_json()
    {
        using (var res = await world.Server.Http.GetAsync("/artifacts/reviews.csv?project=default"))
        {
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
            Assert.Equal("text/html", res.Content.Headers.ContentType?.MediaType);
        }
        using (var res = await world.Server.Http.GetAsync("/models/churn.v2"))
            Assert.Equal("text/html", res.Content.Headers.ContentType?.MediaType);
        // Files stay files: a missing asset is still a 404, never the page.
        using (var res = await world.Server.Http.GetAsync("/assets/missing-0000.js"))
            Assert.Equal(HttpStatusCode.NotFound, res.StatusCode);
        using (var res = await world.Server.Http.GetAsync("/artifacts/a/b.js"))
            Assert.Equal(HttpStatusCode.NotFound, res.StatusCode);

        await Page.GotoAsync("/artifacts/reviews.csv?project=default");
        await Expect(Page.Locator("h1")).ToContainTextAsync("reviews.csv");
        await Expect(TestId("csv-preview").Locator("thead th")).ToHaveTextAsync(["id", "stars"]);
        // How many rows of how many, numbers right-aligned, per-column statistics.
        await Expect(TestId("csv-rows")).ToHaveTextAsync("showing 2 of 2 rows");
        await Expect(TestId("csv-stats").Locator("td")).ToHaveTextAsync(["min 1 · max 2 · mean 1.5", "min 3 · max 5 · mean 4"]);
        Assert.Equal("right", await TestId("csv-preview").Locator("tbody td").First.EvaluateAsync<string>("c => getComputedStyle(c).textAlign"));
        await Page.ReloadAsync();
        await Expect(TestId("versions").Locator("tbody tr")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task external_artifact_links_to_its_location_not_to_a_json_404()
    {
        await Page.GotoAsync("/artifacts/lake-orders?project=default");
        await Expect(TestId("external-location")).ToContainTextAsync("https://lake.example.com/orders/2026-11.parquet");
        await Expect(TestId("download")).ToHaveAttributeAsync("href", "https://lake.example.com/orders/2026-11.parquet");
        await Expect(Page.Locator("a[href*='/content']")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task long_param_values_are_cut_with_a_tooltip_and_do_not_widen_the_table()
    {
        await Page.GotoAsync($"/experiments/{world.ExperimentId}");
        await Page.Locator("details.columns summary").ClickAsync();
        await Page.Locator("input[data-column='param:features']").CheckAsync();
        await Page.Locator("details.columns summary").ClickAsync();
        var cell = TestId("runs-table").Locator($"tr[data-run='{world.ProbeId}'] td[title='{RunsWorld.LongValue}']");
        await Expect(cell).ToHaveCountAsync(1);
        // The value is cut to 16em (224 px) with an ellipsis: its box is narrower than its text.
        var cut = await cell.Locator("span.cut").EvaluateAsync<double[]>("s => [s.getBoundingClientRect().width, s.scrollWidth]");
        Assert.True(cut[0] <= 230, $"the long value is {cut[0]}px wide");
        Assert.True(cut[1] > 5 * cut[0], $"the long value is not cut ({cut[1]}px of text in {cut[0]}px)");
        var tableWidth = await TestId("runs-table").EvaluateAsync<double>("t => t.getBoundingClientRect().width");
        Assert.True(tableWidth <= 1400, $"the table is {tableWidth}px wide");
    }

    [Fact]
    public async Task runs_table_keeps_one_line_per_run_a_fixed_run_column_elapsed_time_for_running_runs_and_a_count()
    {
        await Page.SetViewportSizeAsync(900, 1000);
        await Page.GotoAsync($"/experiments/{world.ExperimentId}");
        var table = TestId("runs-table");
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(6);
        await Expect(TestId("run-count")).ToHaveTextAsync("6 runs on this page");
        // One line per run: every row as tall as the shortest. Rows queried and measured in one script: a locator's
        // EvaluateAll queries first and evaluates after, and a row the live stream replaced in between measured 0 px.
        var heights = await Page.EvaluateAsync<double[]>("() => [...document.querySelectorAll('[data-testid=runs-table] tbody tr')].map(r => r.getBoundingClientRect().height)");
        Assert.True(heights.Max() - heights.Min() < 2 && heights.Max() < 40, string.Join(",", heights));
        // RUNNING: how long it has been running (started 90 s ago).
        await Expect(table.Locator($"tr[data-run='{world.RunningId}'] [data-testid=elapsed]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+m \d+s …$"));
        // Numbers in one format: the lr params 0.1, 0.01, 0.001 right-aligned.
        await Expect(table.Locator($"tr[data-run='{world.TrialIds[2]}']")).ToContainTextAsync("0.001");

        // The run column stays put when the table scrolls sideways.
        var wrap = Page.Locator(".table-wrap").Filter(new() { Has = table });
        var name = table.Locator($"tr[data-run='{world.ProbeId}'] td.name");
        var before = (await name.BoundingBoxAsync())!.X;
        var scrolled = await wrap.EvaluateAsync<double>("w => { w.scrollLeft = 400; return w.scrollLeft; }");
        Assert.True(scrolled > 100, $"the table does not scroll sideways at 900px ({scrolled})");
        await Expect(name).ToBeVisibleAsync();
        Assert.Equal(before, (await name.BoundingBoxAsync())!.X, 1.0);
        await BrowserFixture.ScreenshotAsync(Page, "runs-table-dense");
    }

    [Fact]
    public async Task empty_experiment_says_no_runs_not_runs_1_to_0()
    {
        await Page.GotoAsync($"/experiments/{world.EmptyExperimentId}");
        await Expect(TestId("no-runs")).ToBeVisibleAsync();
        await Expect(TestId("page-label")).ToContainTextAsync("no runs");
        await Expect(TestId("page-label")).Not.ToContainTextAsync("1–0");
        await Expect(TestId("run-count")).ToHaveTextAsync("0 runs on this page");
    }

    [Fact]
    public async Task audit_page_fits_a_1400px_window()
    {
        await Page.GotoAsync("/audit");
        await Expect(TestId("audit")).ToContainTextAsync("segment_segment");
        var overflow = await Page.EvaluateAsync<double[]>("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]");
        Assert.True(overflow[0] <= overflow[1], $"the audit page is {overflow[0]}px wide in a {overflow[1]}px window");
        // Times stay on one line.
        Assert.Equal("nowrap", await TestId("audit").Locator("tbody tr td:nth-child(2)").First.EvaluateAsync<string>("c => getComputedStyle(c).whiteSpace"));
    }

    [Fact]
    public async Task chart_panel_plots_one_curve_per_selected_run_bars_of_latest_values_and_a_scatter_against_a_param()
    {
        await Page.GotoAsync($"/experiments/{world.ExperimentId}");
        var panel = TestId("chart-panel");
        // A metric logged once per run (accuracy at step 0) is drawn as bars: there is no curve to draw.
        await TestId("panel-metric").SelectOptionAsync("accuracy");
        await Expect(TestId("run-bars").Locator("rect")).ToHaveCountAsync(3);
        await TestId("panel-metric").SelectOptionAsync("loss");
        // Nothing ticked: every visible run that has the metric (probe, a, b, c).
        var curves = panel.Locator("figure[data-kind='curves']");
        await Expect(curves).ToHaveAttributeAsync("data-series", "4");
        await Expect(TestId("panel-note")).ToHaveTextAsync("6 visible runs");

        foreach (var id in world.TrialIds.Take(2))
            await Page.Locator($"tr[data-run='{id}'] td.sel input").CheckAsync();
        await Expect(curves).ToHaveAttributeAsync("data-series", "2");
        await Expect(TestId("panel-note")).ToHaveTextAsync("2 selected runs");
        await Expect(curves.Locator(".u-legend .u-series .u-label")).ToHaveTextAsync(["step", "b", "a"]);
        // Each curve is drawn: the two runs' colours are on the canvas.
        Assert.True(await ColouredPixelsAsync(curves, 37, 99, 235) > 20, "first run's curve missing");
        Assert.True(await ColouredPixelsAsync(curves, 220, 38, 38) > 20, "second run's curve missing");
        await BrowserFixture.ScreenshotAsync(Page, "runs-chart-panel");

        await TestId("panel-mode").SelectOptionAsync("bars");
        await Expect(TestId("run-bars").Locator("rect")).ToHaveCountAsync(2);
        await Expect(TestId("run-bars")).ToContainTextAsync("0.05"); // b's latest loss: 2/40

        await TestId("panel-metric").SelectOptionAsync("accuracy");
        await TestId("panel-mode").SelectOptionAsync("scatter");
        await TestId("panel-x").SelectOptionAsync("param:lr");
        await Expect(TestId("run-scatter").Locator("circle")).ToHaveCountAsync(2);
        await Expect(TestId("run-scatter").Locator($"circle[data-run='{world.TrialIds[1]}'] title")).ToHaveTextAsync("b: lr = 0.01, accuracy = 0.75");

        // Unticking everything plots the visible runs again: a, b, c have accuracy.
        foreach (var id in world.TrialIds.Take(2))
            await Page.Locator($"tr[data-run='{id}'] td.sel input").UncheckAsync();
        await Expect(TestId("run-scatter").Locator("circle")).ToHaveCountAsync(3);
    }

    [Fact]
    public async Task filter_box_completes_keys_of_the_whole_experiment_and_values_and_filters_as_you_type()
    {
        // The table shows run a only; the completion still knows every key of the experiment (seed: the probe's).
        await Page.GotoAsync($"/experiments/{world.ExperimentId}?filter=" + Uri.EscapeDataString("attributes.run_name = 'a'"));
        await Expect(TestId("runs-table").Locator("tbody tr")).ToHaveCountAsync(1);
        var box = TestId("runs-filter");
        var list = TestId("completions");
        await box.FillAsync("");
        await box.PressSequentiallyAsync("par");
        await Expect(list.Locator("li").First).ToContainTextAsync("params.");
        await box.PressAsync("Tab");
        await Expect(box).ToHaveValueAsync("params.");
        await Expect(list.Locator("li")).ToContainTextAsync(["params.depth", "params.features", "params.lr", "params.seed", "params.wd"]);
        await box.PressSequentiallyAsync("l");
        await Expect(list.Locator("li")).ToHaveTextAsync(["params.lr"]);
        await box.PressAsync("ArrowDown");
        await box.PressAsync("Enter");
        await Expect(box).ToHaveValueAsync("params.lr ");
        // Values of params.lr, from the server; the one taken is quoted.
        await box.PressSequentiallyAsync("= '");
        await Expect(list.Locator("li")).ToHaveTextAsync(["0.001", "0.01", "0.1"]);
        await box.PressAsync("ArrowDown");
        await box.PressAsync("Enter");
        await Expect(box).ToHaveValueAsync("params.lr = '0.001' ");
        // No Enter to apply: a pause in typing runs the filter, and the address keeps it.
        await Expect(TestId("runs-table").Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(TestId("runs-table").Locator("tbody tr").First).ToHaveAttributeAsync("data-run", world.TrialIds[2]);
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("filter=params.lr"));

        // Metric keys; an unfinished filter leaves the table as it was, marked as incomplete.
        await box.FillAsync("");
        await box.PressSequentiallyAsync("metrics.val");
        await Expect(list.Locator("li")).ToHaveTextAsync(["metrics.val_loss"]);
        await box.PressAsync("Escape");
        await Expect(list).ToBeHiddenAsync();
        await box.PressSequentiallyAsync("_loss <");
        await Expect(box).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("incomplete"));
        await Expect(TestId("runs-table").Locator("tbody tr")).ToHaveCountAsync(1);
        await box.PressSequentiallyAsync(" 1");
        await Expect(TestId("runs-table").Locator("tbody tr")).ToHaveCountAsync(1);   // only the probe has val_loss
        await Expect(TestId("runs-table").Locator("tbody tr").First).ToHaveAttributeAsync("data-run", world.ProbeId);
        await Expect(box).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex("incomplete"));
        await BrowserFixture.ScreenshotAsync(Page, "runs-filter-completion");
    }

    [Fact]
    public async Task dark_mode_follows_the_system_until_the_toggle_chooses_and_charts_take_the_theme_and_the_page_has_a_favicon()
    {
        var dark = "rgb(17, 24, 39)";
        var light = "rgb(255, 255, 255)";
        Task<string> Background() => Page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");
        var loss = TestId("charts").Locator("figure[data-metric='loss']");

        await Page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await Page.GotoAsync($"/runs/{world.ProbeId}");
        await Expect(loss.Locator("canvas")).ToHaveCountAsync(1);
        Assert.Equal(dark, await Background());
        await Expect(TestId("theme")).ToHaveTextAsync("◐ System");
        // The chart's axis labels are drawn in the dark theme's light text, none in the light theme's near-black.
        Assert.True(await ColouredPixelsAsync(loss, 229, 231, 235) > 20, "no light axis text on the dark chart");
        Assert.True(await ColouredPixelsAsync(loss, 17, 24, 39) < 5, "dark axis text on the dark chart");
        await BrowserFixture.ScreenshotAsync(Page, "run-page-dark");

        // The toggle: light over the system's dark, kept over a reload, charts redrawn in its colours.
        await TestId("theme").ClickAsync();
        await Expect(TestId("theme")).ToHaveTextAsync("☀ Light");
        Assert.Equal(light, await Background());
        await Expect(loss.Locator("canvas")).ToHaveCountAsync(1);
        Assert.True(await ColouredPixelsAsync(loss, 17, 24, 39) > 20, "no dark axis text on the light chart");
        await Page.ReloadAsync();
        await Expect(TestId("theme")).ToHaveTextAsync("☀ Light");
        Assert.Equal(light, await Background());

        // Dark over a light system; then back to following the system.
        await Page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await TestId("theme").ClickAsync();
        await Expect(TestId("theme")).ToHaveTextAsync("☾ Dark");
        Assert.Equal(dark, await Background());
        await TestId("theme").ClickAsync();
        await Expect(TestId("theme")).ToHaveTextAsync("◐ System");
        Assert.Equal(light, await Background());

        Assert.Equal("/favicon.svg", await Page.Locator("link[rel=icon]").GetAttributeAsync("href"));
        using var icon = await world.Server.Http.GetAsync("/favicon.svg");
        Assert.Equal(HttpStatusCode.OK, icon.StatusCode);
        Assert.Equal("image/svg+xml", icon.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<svg", await icon.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task artifacts_are_listed_one_row_per_name_and_a_datasets_facts_and_failed_checks_are_shown()
    {
        await Page.GotoAsync("/artifacts");
        var list = TestId("artifacts");
        var houses = list.Locator("tr[data-name='houses']");
        await Expect(houses).ToHaveCountAsync(1);
        await Expect(houses).ToHaveAttributeAsync("data-version", "3");
        await Expect(houses.GetByTestId("version-count")).ToHaveTextAsync("3 versions");
        await houses.GetByTestId("versions-toggle").ClickAsync();
        await Expect(list.Locator("tr[data-name='houses']")).ToHaveCountAsync(3);
        Assert.Equal(["3", "2", "1"], await list.Locator("tr[data-name='houses']").EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.version)"));
        // Producing runs by name: reviews-model was made by run "a".
        await Expect(list.Locator($"tr[data-name='reviews-model'] a[data-run='{world.TrialIds[0]}']")).ToHaveTextAsync("a");
        await list.Locator("tr[data-name='houses']").First.GetByTestId("versions-toggle").ClickAsync();
        await Expect(list.Locator("tr[data-name='houses']")).ToHaveCountAsync(1);

        await Page.GotoAsync("/artifacts/houses?project=default");
        var facts = TestId("dataset-facts");
        await Expect(facts).ToContainTextAsync("2 rows · 2 columns");
        await Expect(facts).ToContainTextAsync("s3://lake/houses.csv");
        await Expect(TestId("dataset-columns").Locator("tr[data-column='size'] td")).ToHaveTextAsync(["size", "double", "no", "0", "53", "120", "86.5", "2"]);
        await Expect(TestId("validation-failed")).ToHaveTextAsync(" 1 failed check");
        // The failed check comes first.
        await Expect(TestId("validations").Locator("tbody tr").First).ToHaveAttributeAsync("data-check", "price_positive");
        await Expect(TestId("validations").Locator("tbody tr").First).ToContainTextAsync("2 rows with price <= 0");
        // The metadata diff opens on this version against the one before it.
        await Expect(TestId("diff-a")).ToHaveValueAsync("2");
        await Expect(TestId("diff-b")).ToHaveValueAsync("3");
        await Page.GotoAsync("/artifacts/houses?project=default&v=2");
        await Expect(TestId("diff-a")).ToHaveValueAsync("1");
        await Expect(TestId("diff-b")).ToHaveValueAsync("2");
        await Expect(TestId("metadata-diff").Locator("tr[data-key='build']")).ToHaveAttributeAsync("data-change", "changed");
        // A dataset version without facts has no facts section.
        await Expect(TestId("dataset-facts")).ToBeEmptyAsync();
    }

    [Fact]
    public async Task run_name_description_and_tags_are_edited_on_the_run_page_and_a_refused_change_saves_nothing()
    {
        await Page.GotoAsync($"/runs/{world.EditableId}");
        await TestId("run-edit").Locator("summary").ClickAsync();
        await TestId("edit-name").FillAsync("final");
        await TestId("edit-description").FillAsync("Best so far.\nShip it.");
        var rows = TestId("run-edit").Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        await TestId("run-edit").Locator("tr[data-tag='stage']").GetByTestId("edit-tag-value").FillAsync("prod");
        await TestId("run-edit").Locator("tr[data-tag='owner']").GetByTestId("edit-tag-remove").ClickAsync();
        await TestId("edit-tag-add").ClickAsync();
        await rows.Last.GetByTestId("edit-tag-key").FillAsync("team/ml");
        await rows.Last.GetByTestId("edit-tag-value").FillAsync("vision");
        await TestId("edit-save").ClickAsync();

        await Expect(TestId("run-name")).ToContainTextAsync("final");
        await Expect(TestId("run-description")).ToHaveTextAsync("Best so far.\nShip it.");
        await Expect(TestId("tags")).ToContainTextAsync("prod");
        await Expect(TestId("tags")).ToContainTextAsync("team/ml");
        await Expect(TestId("tags")).Not.ToContainTextAsync("owner");
        var run = JsonDocument.Parse(await world.Server.Http.GetStringAsync($"/api/v1/runs/{world.EditableId}")).RootElement;
        Assert.Equal("final", run.GetProperty("name").GetString());
        var tags = run.GetProperty("tags");
        Assert.Equal("prod", tags.GetProperty("stage").GetString());
        Assert.Equal("vision", tags.GetProperty("team/ml").GetString());
        Assert.Equal("Best so far.\nShip it.", tags.GetProperty("mlflow.note.content").GetString());
        Assert.False(tags.TryGetProperty("owner", out _));

        // A key the server refuses: its message in the form, nothing saved.
        await TestId("run-edit").Locator("summary").ClickAsync();
        await TestId("edit-tag-add").ClickAsync();
        await rows.Last.GetByTestId("edit-tag-key").FillAsync("bad*key");
        await rows.Last.GetByTestId("edit-tag-value").FillAsync("x");
        await TestId("edit-save").ClickAsync();
        await Expect(TestId("edit-error")).ToContainTextAsync("tag bad*key:");
        await Expect(TestId("edit-error")).ToContainTextAsync("(nothing was saved)");
        var after = JsonDocument.Parse(await world.Server.Http.GetStringAsync($"/api/v1/runs/{world.EditableId}")).RootElement.GetProperty("tags");
        Assert.False(after.TryGetProperty("bad*key", out _));
        Assert.Equal(tags.EnumerateObject().Count(), after.EnumerateObject().Count());
    }

    [Fact]
    public async Task compare_marks_best_and_worst_hides_constant_params_uses_a_log_axis_for_learning_rate_and_one_number_format()
    {
        await Page.GotoAsync("/compare?runs=" + string.Join(",", world.TrialIds));
        var table = TestId("param-diff");
        // loss: lower is better (a 0.025 best, c 0.075 worst); accuracy: higher is better (c best, a worst).
        await Expect(table.Locator("tr[data-metric='loss'] td").Nth(0)).ToHaveAttributeAsync("data-mark", "best");
        await Expect(table.Locator("tr[data-metric='loss'] td").Nth(2)).ToHaveAttributeAsync("data-mark", "worst");
        await Expect(table.Locator("tr[data-metric='accuracy'] td").Nth(2)).ToHaveAttributeAsync("data-mark", "best");
        await Expect(table.Locator("tr[data-metric='accuracy'] td").Nth(0)).ToHaveAttributeAsync("data-mark", "worst");
        await Expect(table.Locator("tr[data-metric='accuracy'] td").Nth(1)).Not.ToHaveAttributeAsync("data-mark", new System.Text.RegularExpressions.Regex("."));
        // One number format for a param typed as text and a metric logged as a number.
        await Expect(table.Locator("tr[data-param='wd'] td").Nth(0)).ToHaveTextAsync("4.14e-6");
        await Expect(table.Locator("tr[data-metric='grad_norm'] td").Nth(0)).ToHaveTextAsync("1.41e-6");

        var pc = TestId("parallel-coordinates");
        await Page.GetByLabel("Metric for parallel coordinates").SelectOptionAsync("loss");
        // depth is 6 in every run: no axis; lr spans 0.1 … 0.001: a log axis, so 0.01 sits in the middle.
        await Expect(pc.Locator("text.axis-param")).ToHaveTextAsync(["lr", "wd"]);
        await Expect(TestId("constant-params")).ToContainTextAsync("1 param with the same value in every run not drawn");
        await Expect(pc.Locator("text.axis-scale")).ToHaveCountAsync(1);
        var ys = await pc.Locator("polyline").EvaluateAllAsync<double[]>("ls => ls.map(l => Number(l.getAttribute('points').split(' ')[0].split(',')[1]))");
        Assert.Equal((ys[0] + ys[2]) / 2, ys[1], 1.0);
        await Expect(TestId("colour-scale")).ToContainTextAsync("loss");
        await BrowserFixture.ScreenshotAsync(Page, "compare-marked");
    }

    [Fact]
    public async Task openlineage_datasets_are_labelled_by_name_with_their_namespace()
    {
        var list = await world.Server.Http.GetStringAsync("/api/v1/artifacts?type=dataset&limit=100");
        var name = JsonDocument.Parse(list).RootElement.GetProperty("artifacts").EnumerateArray()
            .Select(a => a.GetProperty("name").GetString()!).Single(n => n.Contains("customers_clean"));
        await Page.GotoAsync("/lineage?direction=upstream&depth=2&node=" + Uri.EscapeDataString($"artifact:{name}@1"));
        await Expect(TestId("graph")).ToHaveAttributeAsync("data-ready", "true");
        var drawn = await Page.EvaluateAsync<string[]>("() => window.__lineageCy.nodes().map(n => n.data('display')).sort()");
        Assert.Contains("curated/customers_clean v1\ns3://lake", drawn);
        Assert.Contains("raw/customers v1\ns3://lake", drawn);
        Assert.DoesNotContain(drawn, d => d.Contains("s3___lake"));
        await Expect(TestId("openlineage-name")).ToContainTextAsync("curated/customers_clean");
        await Expect(TestId("openlineage-name")).ToContainTextAsync("s3://lake");
        // The box fits its longest line.
        var width = await Page.EvaluateAsync<double>("() => window.__lineageCy.nodes().filter(n => n.data('olName') === 'curated/customers_clean')[0].width()");
        Assert.True(width >= "curated/customers_clean v1".Length * 6, $"{width}");
        await BrowserFixture.ScreenshotAsync(Page, "lineage-openlineage");
    }

    [Fact]
    public async Task an_openlineage_job_page_shows_its_run_history_and_a_datasets_node_panel_its_schema()
    {
        var list = await world.Server.Http.GetStringAsync("/api/v1/artifacts?type=dataset&limit=100");
        var name = JsonDocument.Parse(list).RootElement.GetProperty("artifacts").EnumerateArray()
            .Select(a => a.GetProperty("name").GetString()!).First(n => n.Contains("customers_clean"));
        await Page.GotoAsync("/lineage?direction=upstream&depth=2&node=" + Uri.EscapeDataString($"artifact:{name}@1"));
        await Expect(TestId("graph")).ToHaveAttributeAsync("data-ready", "true");
        // The dataset's schema facet and its facets, as Marquez shows them.
        await Expect(TestId("ol-fields")).ToContainTextAsync("email");
        await Expect(TestId("ol-fields").Locator("tr")).ToHaveCountAsync(2);
        await Expect(TestId("ol-facets")).ToContainTextAsync("schema");

        // The job's execution links to the job page.
        await Page.EvaluateAsync("() => window.__lineageCy.nodes().filter(n => n.data('kind') === 'execution')[0].emit('tap')");
        var jobLink = TestId("node-extras").GetByRole(AriaRole.Link, new() { Name = "Job page (run history)" });
        await Expect(jobLink).ToBeVisibleAsync();
        await jobLink.ClickAsync();
        await Expect(TestId("job-name")).ToContainTextAsync("clean_customers");
        await Expect(TestId("job-inputs")).ToContainTextAsync("raw/customers");
        await Expect(TestId("job-outputs")).ToContainTextAsync("curated/customers_clean");
        await Expect(TestId("job-runs").Locator("tbody tr")).ToHaveCountAsync(2);
        await Expect(TestId("job-runs").Locator("tr[data-state='FAILED']")).ToHaveCountAsync(1);
        await Expect(TestId("run-durations").Locator("rect")).ToHaveCountAsync(2);
        await Expect(TestId("run-durations").Locator("rect[data-state='FAILED']")).ToHaveAttributeAsync("fill", "#dc2626");
        // The page survives a reload (its address is the job's namespace and name).
        await Page.ReloadAsync();
        await Expect(TestId("job-runs").Locator("tbody tr")).ToHaveCountAsync(2);
        await BrowserFixture.ScreenshotAsync(Page, "openlineage-job");
    }

    [Fact]
    public async Task a_running_runs_page_shows_new_points_as_they_are_logged_and_its_end()
    {
        var api = new ApiWriter(world.Server.Http);
        await Page.GotoAsync($"/runs/{world.WatchedId}");
        await Expect(TestId("metrics")).ToHaveTextAsync("No metrics.");
        await Expect(TestId("run-name")).ToContainTextAsync("RUNNING");

        var logged = System.Diagnostics.Stopwatch.StartNew();
        await api.BatchAsync(world.WatchedId, new { metrics = new[] { new { key = "progress", value = 0.1, step = 0 } } });
        var figure = TestId("charts").Locator("figure[data-metric='progress']");
        await Expect(figure).ToHaveAttributeAsync("data-total-points", "1");
        BrowserFixture.RecordTiming($"live run page: first point shown {logged.ElapsedMilliseconds} ms after it was logged");

        logged.Restart();
        await api.BatchAsync(world.WatchedId, new { metrics = new[] { new { key = "progress", value = 0.2, step = 1 }, new { key = "progress", value = 0.3, step = 2 } } });
        await Expect(figure).ToHaveAttributeAsync("data-total-points", "3");
        BrowserFixture.RecordTiming($"live run page: new points shown {logged.ElapsedMilliseconds} ms after they were logged");
        await Expect(TestId("metrics")).ToContainTextAsync("0.3");

        await api.EndAsync(world.WatchedId, "FINISHED");
        await Expect(TestId("run-name")).ToContainTextAsync("FINISHED");
    }
}
