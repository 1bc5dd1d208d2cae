using System.Text;
using System.Text.RegularExpressions;
using Lineage.Core.Governance;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lineage.Tests.Ui;

/// <summary>
/// Two projects written through the API, each with an experiment and a run, an artifact, a model with one version,
/// a pending promotion request and a deployment: <c>default</c> (forecast, default-data, default-model, production)
/// and <c>vision</c> (detector, vision-data, vision-model, edge).
/// </summary>
public sealed class ProjectsWorld : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;
    public string VisionExperimentId { get; private set; } = "";
    public string VisionRunId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        var api = new ApiWriter(Server.Http);
        await api.PostAsync("/api/v1/projects", new { name = "vision", description = "Image models" });
        foreach (var (project, experiment, prefix, environment) in new[] { ("default", "forecast", "default", "production"), ("vision", "detector", "vision", "edge") })
        {
            var experimentId = (string)(await api.PostAsync("/api/v1/experiments", new { project, name = experiment }))["id"]!;
            var runId = await api.RunAsync(experimentId, $"{experiment}-run");
            await api.UploadAsync($"{prefix}-data", "dataset", Encoding.UTF8.GetBytes("label,count\ncat,3\ndog,5\n"), runId: runId, project: project);
            await api.PostAsync("/api/v1/models", new { project, name = $"{prefix}-model" });
            await api.PostAsync($"/api/v1/models/{prefix}-model/versions?project={project}", new { artifact = new { project, name = $"{prefix}-data", version = "1" } });
            await api.PostAsync($"/api/v1/models/{prefix}-model/promotions?project={project}", new { version = 1, alias = "champion", comment = $"{prefix} is ready" });
            await api.PostAsync("/api/v1/deployments", new { project, environment, model = $"{prefix}-model", version = 1 });
            if (project == "vision") (VisionExperimentId, VisionRunId) = (experimentId, runId);
        }
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>The project picker: every list page in the chosen project, kept in the address and in localStorage; entity pages follow theirs.</summary>
[Collection("browser")]
public sealed class UiProjectsTests(BrowserFixture browser, ProjectsWorld world) : BrowserPageTests(browser), IClassFixture<ProjectsWorld>
{
    protected override Uri Address => world.Server.Address;

    private ILocator Picker => TestId("project-picker");

    private static Regex InProject(string name) => new($"[?&]project={name}(&|$)");

    private Task OpenSection(string nav) => Page.Locator($"header nav a[data-nav='{nav}']").ClickAsync();

    [Fact]
    public async Task the_picker_lists_both_projects_and_switching_shows_only_the_chosen_projects_lists()
    {
        await Page.GotoAsync("/");
        await Expect(Picker.Locator("option")).ToHaveTextAsync(["default", "vision"]);
        await Expect(Picker).ToHaveValueAsync("default");
        await Expect(Page).ToHaveURLAsync(InProject("default"));
        await Expect(TestId("experiments")).ToContainTextAsync("forecast");
        await Expect(TestId("experiments")).Not.ToContainTextAsync("detector");

        await Picker.SelectOptionAsync("vision");
        await Expect(Page).ToHaveURLAsync(InProject("vision"));
        await Expect(TestId("experiments")).ToContainTextAsync("detector");
        await Expect(TestId("experiments")).Not.ToContainTextAsync("forecast");
        await BrowserFixture.ScreenshotAsync(Page, "project-picker");

        // The choice is in the address: a reload keeps it.
        await Page.ReloadAsync();
        await Expect(Picker).ToHaveValueAsync("vision");
        await Expect(TestId("experiments")).ToContainTextAsync("detector");
        await Expect(TestId("experiments")).Not.ToContainTextAsync("forecast");

        // Navigation between list pages keeps it, and each list shows only the chosen project's things.
        await OpenSection("artifacts");
        await Expect(Page).ToHaveURLAsync(InProject("vision"));
        await Expect(TestId("artifacts")).ToContainTextAsync("vision-data");
        await Expect(TestId("artifacts")).Not.ToContainTextAsync("default-data");

        await OpenSection("models");
        await Expect(Page).ToHaveURLAsync(InProject("vision"));
        await Expect(TestId("models")).ToContainTextAsync("vision-model");
        await Expect(TestId("models")).Not.ToContainTextAsync("default-model");

        await OpenSection("approvals");
        await Expect(TestId("pending")).ToContainTextAsync("vision-model");
        await Expect(TestId("pending")).Not.ToContainTextAsync("default-model");

        await OpenSection("deployments");
        await Expect(TestId("live")).ToContainTextAsync("edge");
        await Expect(TestId("live")).Not.ToContainTextAsync("production");

        await OpenSection("dashboards");
        await Expect(TestId("pick-model").Locator("option")).ToHaveTextAsync(["vision-model"]);

        // The model page (found by name in the project) and its artifact link stay in the project.
        await OpenSection("models");
        await TestId("models").GetByRole(AriaRole.Link, new() { Name = "vision-model" }).ClickAsync();
        await Expect(TestId("model-name")).ToHaveTextAsync("vision-model");
        await Expect(TestId("entity-project")).ToHaveTextAsync("project vision");
        await TestId("versions").GetByRole(AriaRole.Link, new() { Name = "vision-data v1" }).ClickAsync();
        await Expect(TestId("entity-project")).ToHaveTextAsync("project vision");
        await Expect(TestId("csv-preview")).ToContainTextAsync("dog");

        await OpenSection("experiments");
        await Expect(Picker).ToHaveValueAsync("vision");
        await Expect(TestId("experiments")).ToContainTextAsync("detector");

        // localStorage keeps it as the default for next time: an address without a project opens in it.
        await Page.GotoAsync("/models");
        await Expect(Page).ToHaveURLAsync(InProject("vision"));
        await Expect(TestId("models")).ToContainTextAsync("vision-model");
        await Expect(TestId("models")).Not.ToContainTextAsync("default-model");
    }

    [Fact]
    public async Task a_run_or_an_experiment_of_another_project_shows_its_project_and_the_picker_follows()
    {
        await Page.GotoAsync("/");
        await Expect(Picker).ToHaveValueAsync("default");

        await Page.GotoAsync($"/runs/{world.VisionRunId}");
        await Expect(TestId("run-name")).ToContainTextAsync("detector-run");
        await Expect(TestId("entity-project")).ToHaveTextAsync("project vision");
        await Expect(Picker).ToHaveValueAsync("vision");
        // The run's output, read by name in the run's project.
        await Expect(TestId("outputs")).ToContainTextAsync("vision-data v1");
        await Expect(TestId("csv-preview")).ToContainTextAsync("cat");

        await Page.Locator("p.crumbs").GetByRole(AriaRole.Link, new() { Name = "detector" }).ClickAsync();
        await Expect(TestId("runs-table")).ToContainTextAsync("detector-run");
        await Expect(TestId("entity-project")).ToHaveTextAsync("project vision");

        await OpenSection("experiments");
        await Expect(Page).ToHaveURLAsync(InProject("vision"));
        await Expect(TestId("experiments")).ToContainTextAsync("detector");
        await Expect(TestId("experiments")).Not.ToContainTextAsync("forecast");

        // Back to default through the picker; its experiment page says so.
        await Picker.SelectOptionAsync("default");
        await Expect(TestId("experiments")).ToContainTextAsync("forecast");
        await TestId("experiments").GetByRole(AriaRole.Link, new() { Name = "forecast" }).ClickAsync();
        await Expect(TestId("entity-project")).ToHaveTextAsync("project default");
        await Expect(Picker).ToHaveValueAsync("default");
    }
}

/// <summary>With authentication on, the picker lists only the projects where the signed-in principal holds a role.</summary>
[Collection("browser")]
public sealed class UiProjectsLoginTests(BrowserFixture browser) : SecuredBrowserPageTests(browser)
{
    protected override async Task SeedAsync(GovernanceStore gov)
    {
        await gov.CreatePrincipalAsync("vera", PrincipalKind.User, "vera-password-123", serverAdmin: false, "test");
        var api = new ApiWriter(Server.Http);
        await api.PostAsync("/api/v1/projects", new { name = "vision" });
        await api.PostAsync("/api/v1/projects", new { name = "audio" });
        await api.PostAsync("/api/v1/experiments", new { project = "default", name = "forecast" });
        await api.PostAsync("/api/v1/experiments", new { project = "vision", name = "detector" });
        await gov.GrantAsync("vera", "vision", Role.Reader, "test");
    }

    [Fact]
    public async Task a_user_with_a_role_in_one_project_sees_only_that_project_and_works_in_it()
    {
        await Page.GotoAsync("/");
        await TestId("login-user").FillAsync("vera");
        await TestId("login-secret").FillAsync("vera-password-123");
        await TestId("login-submit").ClickAsync();

        await Expect(TestId("project-picker").Locator("option")).ToHaveTextAsync(["vision"]);
        await Expect(TestId("project-picker")).ToHaveValueAsync("vision");
        await Expect(Page).ToHaveURLAsync(new Regex("[?&]project=vision(&|$)"));
        await Expect(TestId("experiments")).ToContainTextAsync("detector");
        await Expect(TestId("experiments")).Not.ToContainTextAsync("forecast");
    }
}
