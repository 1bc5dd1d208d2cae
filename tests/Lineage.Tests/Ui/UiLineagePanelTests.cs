using System.Text;
using System.Text.RegularExpressions;
using Lineage.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Lineage.Tests.Ui;

/// <summary>
/// Dataset "orders" v1 → step "rebuild" → v2 → v3; v2 has recorded facts (three columns, 3 rows) and a failed check, v1
/// failed a check and then passed it (fixed). Run "train-1" read v2 and produced "orders-model" v1; step "nightly-check"
/// read v2 three times (COMPLETE, FAILED, COMPLETE).
/// </summary>
public sealed class LineagePanelWorld : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;
    public string TrainId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        var api = new ApiWriter(Server.Http);
        for (var v = 1; v <= 3; v++)
            await api.UploadAsync("orders", "dataset", Encoding.UTF8.GetBytes($"id,amount,city\n{v},1.5,Oslo\n"));
        await api.PutAsync("/api/v1/datasets/orders/versions/2", new
        {
            source = new { uri = "s3://lake/orders.csv", system = "s3" },
            columns = new object[] { new { name = "id", dtype = "int", nullable = false }, new { name = "amount", dtype = "double" }, new { name = "city", dtype = "str" } },
            rowCount = 3,
        });
        await api.PostAsync("/api/v1/datasets/orders/versions/2/validations", new
        {
            checks = new object[] { new { name = "ids_unique", passed = true }, new { name = "amount_positive", passed = false, details = "1 row below 0" } },
        });
        await api.PostAsync("/api/v1/datasets/orders/versions/1/validations", new { checks = new object[] { new { name = "ids_unique", passed = false } } });
        await api.PostAsync("/api/v1/datasets/orders/versions/1/validations", new { checks = new object[] { new { name = "ids_unique", passed = true } } });

        await api.PostAsync("/api/v1/executions", new
        {
            type = "ingestion", name = "rebuild", state = "COMPLETE",
            inputs = new[] { new { artifact = new { name = "orders", version = "1" }, role = "input" } },
            outputs = new[] { new { artifact = new { name = "orders", version = "2" }, role = "output" } },
        });
        await api.PostAsync("/api/v1/executions", new
        {
            type = "ingestion", name = "append", state = "COMPLETE",
            inputs = new[] { new { artifact = new { name = "orders", version = "2" }, role = "input" } },
            outputs = new[] { new { artifact = new { name = "orders", version = "3" }, role = "output" } },
        });
        TrainId = await api.RunAsync(await api.ExperimentAsync("orders"), "train-1");
        await api.PostAsync($"/api/v1/runs/{TrainId}/inputs", new { artifact = new { name = "orders", version = "2" }, role = "training_data" });
        await api.UploadAsync("orders-model", "model", "weights"u8.ToArray(), runId: TrainId);
        await api.EndAsync(TrainId, "FINISHED");
        foreach (var end in new[] { "COMPLETE", "FAILED", "COMPLETE" })
        {
            var created = await api.PostAsync("/api/v1/executions", new
            {
                type = "validation", name = "nightly-check", state = "RUNNING",
                inputs = new[] { new { artifact = new { name = "orders", version = "2" }, role = "input" } },
            });
            await Task.Delay(120);
            await api.PatchAsync($"/api/v1/executions/{created["id"]}", new { state = end });
        }
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Issue 16, lineage as Marquez shows it: the node panel, the dataset-level view, failed checks flagged.</summary>
[Collection("browser")]
public sealed class UiLineagePanelTests(BrowserFixture browser, LineagePanelWorld world) : BrowserPageTests(browser), IClassFixture<LineagePanelWorld>
{
    protected override Uri Address => world.Server.Address;

    private async Task ClickNodeAsync(string label)
    {
        var pos = await Page.EvaluateAsync<System.Text.Json.JsonElement>(
            "l => { const n = window.__lineageCy.nodes().filter(x => x.data('label') === l)[0]; const p = n.renderedPosition(); return { x: p.x, y: p.y }; }", label);
        var box = (await TestId("graph").BoundingBoxAsync())!;
        await Page.Mouse.ClickAsync(box.X + pos.GetProperty("x").GetSingle(), box.Y + pos.GetProperty("y").GetSingle());
        await Expect(TestId("selected-node")).ToHaveTextAsync(label);
    }

    [Fact]
    public async Task a_dataset_versions_panel_shows_its_schema_checks_and_who_read_it_and_a_step_its_run_history()
    {
        await Page.GotoAsync("/lineage?depth=2&node=" + Uri.EscapeDataString("artifact:orders@2"));
        await Expect(TestId("graph")).ToHaveAttributeAsync("data-ready", "true");
        var panel = TestId("side-panel");
        await Expect(panel.GetByTestId("selected-node")).ToHaveTextAsync("orders v2");

        // Schema and facts, as recorded.
        var schema = panel.GetByTestId("node-schema");
        await Expect(schema.Locator("tr")).ToHaveCountAsync(3);
        await Expect(schema.Locator("tr").First).ToHaveTextAsync(new Regex(@"^id\s*int not null$"));
        await Expect(schema).ToContainTextAsync("amount");
        await Expect(panel.GetByTestId("node-facts")).ToHaveTextAsync("3 rows · source s3://lake/orders.csv");
        // Checks by their latest result, the failed one first; the version is flagged.
        await Expect(panel.GetByTestId("node-checks").Locator("li")).ToHaveCountAsync(2);
        await Expect(panel.GetByTestId("node-checks").Locator("li").First).ToHaveTextAsync("failed amount_positive 1 row below 0");
        await Expect(panel.GetByTestId("node-failed-checks")).ToContainTextAsync("✕ 1 failed check");

        // Who read it: the run (by name, linked) and the three checks with their states.
        var readers = panel.GetByTestId("node-consumers");
        await Expect(readers.Locator("li")).ToHaveCountAsync(5);
        await Expect(readers.Locator($"a[href='/runs/{world.TrainId}']")).ToHaveTextAsync("train-1");
        await Expect(readers.Locator("li[data-state='FAILED']")).ToHaveCountAsync(1);
        await Expect(readers).ToContainTextAsync("append");

        // In the graph, v2 looks failed (red dashed border, ✕); v1, whose check was fixed, and v3 do not.
        var nodes = await Page.EvaluateAsync<Dictionary<string, string>>(
            "() => Object.fromEntries(window.__lineageCy.nodes('[kind = \"artifact\"]').map(n => [n.data('label'), n.data('failed') + '|' + n.data('display') + '|' + n.style('border-style')]))");
        Assert.Equal("yes|✕ orders v2|dashed", nodes["orders v2"]);
        Assert.StartsWith("no|orders v1|", nodes["orders v1"]);
        Assert.StartsWith("no|orders v3|", nodes["orders v3"]);
        await BrowserFixture.ScreenshotAsync(Page, "lineage-node-panel");

        // A step: its state and how long it took, and the history of steps of its name (one failed of three).
        await Page.EvaluateAsync("() => window.__lineageCy.nodes().filter(n => n.data('label') === 'nightly-check')[0].emit('tap')");
        await Expect(panel.GetByTestId("selected-node")).ToHaveTextAsync("nightly-check");
        await Expect(panel.GetByTestId("node-state")).ToHaveTextAsync(new Regex(@"^(COMPLETE|FAILED) · (\d+ ms|\d+s)$"));
        var history = panel.GetByTestId("node-history");
        await Expect(history.Locator("rect")).ToHaveCountAsync(3);
        await Expect(history.Locator("rect[data-state='FAILED']")).ToHaveAttributeAsync("fill", "#dc2626");
        await Expect(history.Locator("tr")).ToHaveCountAsync(3);
        await Expect(panel).ToContainTextAsync("History of nightly-check (3, 1 failed)");
    }

    [Fact]
    public async Task the_dataset_view_draws_one_node_per_dataset_with_its_versions_inside_and_toggles_back()
    {
        await Page.GotoAsync("/lineage?depth=2&node=" + Uri.EscapeDataString("artifact:orders@2"));
        var graph = TestId("graph");
        await Expect(graph).ToHaveAttributeAsync("data-ready", "true");
        await Expect(graph).ToHaveAttributeAsync("data-view", "versions");
        // orders v1, v2, v3, rebuild, append, train-1, orders-model v1, three nightly-checks.
        await Expect(graph).ToHaveAttributeAsync("data-nodes", "10");

        await TestId("view-datasets").ClickAsync();
        await Expect(graph).ToHaveAttributeAsync("data-view", "datasets");
        await Expect(Page).ToHaveURLAsync(new Regex("view=datasets"));
        // The three versions of orders are one node.
        await Expect(graph).ToHaveAttributeAsync("data-nodes", "8");
        var orders = await Page.EvaluateAsync<string[]>(
            "() => { const n = window.__lineageCy.nodes().filter(x => x.data('label') === 'orders')[0]; return [n.data('level'), String(n.data('versions')), n.data('display'), n.data('failed')]; }");
        Assert.Equal(["dataset", "3", "✕ orders\n3 versions: v1, v2, v3", "yes"], orders);
        await Expect(TestId("view-datasets")).ToHaveAttributeAsync("aria-pressed", "true");

        await ClickNodeAsync("orders");
        var versions = TestId("dataset-versions").Locator("li");
        await Expect(versions).ToHaveCountAsync(3);
        await Expect(versions.First).ToHaveAttributeAsync("data-version", "3");
        await Expect(TestId("dataset-versions").Locator("li[data-version='2']")).ToContainTextAsync("✕ 1 failed");
        await Expect(TestId("dataset-versions").Locator("li[data-version='1']")).Not.ToContainTextAsync("failed");
        await BrowserFixture.ScreenshotAsync(Page, "lineage-datasets-view");

        // A reload keeps the view; back to versions, the versions are nodes again.
        await Page.ReloadAsync();
        await Expect(graph).ToHaveAttributeAsync("data-view", "datasets");
        await Expect(graph).ToHaveAttributeAsync("data-nodes", "8");
        await TestId("view-versions").ClickAsync();
        await Expect(graph).ToHaveAttributeAsync("data-nodes", "10");
        await Expect(Page).Not.ToHaveURLAsync(new Regex("view=datasets"));
    }

    [Fact]
    public async Task failed_checks_are_flagged_in_the_artifacts_list_and_the_versions_table()
    {
        await Page.GotoAsync("/artifacts");
        var list = TestId("artifacts");
        var orders = list.Locator("tr[data-name='orders'][data-version='3']");
        await Expect(orders).ToBeVisibleAsync();
        // The latest version (v3) has no checks: no flag. Unfolded, v2 is flagged; v1's failure was fixed.
        await Expect(orders.GetByTestId("failed-checks")).ToHaveCountAsync(0);
        await orders.GetByTestId("versions-toggle").ClickAsync();
        await Expect(list.Locator("tr[data-name='orders'][data-version='2']").GetByTestId("failed-checks")).ToHaveTextAsync("✕ 1 failed");
        await Expect(list.Locator("tr[data-name='orders'][data-version='1']")).ToBeVisibleAsync();
        await Expect(list.Locator("tr[data-name='orders'][data-version='1']").GetByTestId("failed-checks")).ToHaveCountAsync(0);
        await Expect(list.GetByTestId("failed-checks")).ToHaveCountAsync(1);

        await Page.GotoAsync("/artifacts/orders");
        var versions = TestId("versions");
        await Expect(versions.Locator("tr[data-version='2']").GetByTestId("failed-checks")).ToHaveTextAsync("✕ 1 failed");
        await Expect(versions.GetByTestId("failed-checks")).ToHaveCountAsync(1);
    }
}
