using Lineage.Core.Governance;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lineage.Tests.Ui;

/// <summary>
/// The login page of a server with authentication on, with real users made in the governance store:
/// a 401 shows the form, a wrong password is said plainly, a right one opens the app and survives a reload,
/// a token alone works, a non-admin is told the audit log is not theirs, and signing out forgets the credential.
/// </summary>
[Collection("browser")]
public sealed class UiLoginTests(BrowserFixture browser) : SecuredBrowserPageTests(browser)
{
    private string _readerToken = "";

    protected override string? RootPassword => "root-password-123";

    protected override async Task SeedAsync(GovernanceStore gov)
    {
        await gov.CreatePrincipalAsync("rita", PrincipalKind.User, null, serverAdmin: false, "test");
        await gov.GrantAsync("rita", "default", Role.Reader, "test");
        _readerToken = (await gov.IssueTokenAsync("rita", null, TimeSpan.FromHours(1), "test")).Secret;
        await new ApiWriter(Server.Http).ExperimentAsync("secured");
        await Server.Server.App.Services.GetRequiredService<Lineage.Server.Hosting.AuditWriter>().FlushAsync();
    }

    [Fact]
    public async Task signed_in_image_previews_and_downloads_carry_the_credential()
    {
        await new ApiWriter(Server.Http).UploadAsync("secured-plot", "report", UiWorld.Png);
        await Page.GotoAsync("/artifacts/secured-plot");
        await TestId("login-user").FillAsync("root");
        await TestId("login-secret").FillAsync("root-password-123");
        await TestId("login-submit").ClickAsync();

        // An <img src> cannot send the Authorization header: the preview is fetched with it.
        await Expect(TestId("image-preview")).ToBeVisibleAsync();
        await Page.WaitForFunctionAsync("() => document.querySelector('[data-testid=image-preview]')?.naturalWidth === 1");

        var download = await Page.RunAndWaitForDownloadAsync(() => TestId("download").ClickAsync());
        var saved = Path.Combine(BrowserFixture.OutputDir, "secured-plot.png");
        await download.SaveAsAsync(saved);
        Assert.Equal(UiWorld.Png, await File.ReadAllBytesAsync(saved));
    }

    [Fact]
    public async Task signing_in_with_a_password_or_a_token_opens_the_app_and_signing_out_forgets_it()
    {
        await Page.GotoAsync("/");
        await Expect(TestId("login")).ToBeVisibleAsync();
        await Expect(TestId("experiments")).ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(Page, "login");

        await TestId("login-user").FillAsync("root");
        await TestId("login-secret").FillAsync("not-the-password");
        await TestId("login-submit").ClickAsync();
        await Expect(TestId("login-error")).ToHaveTextAsync("Wrong user name, password or token.");

        await TestId("login-secret").FillAsync("root-password-123");
        await TestId("login-submit").ClickAsync();
        await Expect(TestId("experiments")).ToContainTextAsync("secured");
        await Expect(TestId("signed-in")).ToHaveTextAsync("Signed in as root");
        Assert.DoesNotContain("password", Page.Url);

        // The credential lives in this tab's sessionStorage: a reload stays signed in.
        await Page.GotoAsync("/audit");
        await Expect(TestId("audit").Locator("tbody tr").First).ToContainTextAsync("root");
        await Page.ReloadAsync();
        await Expect(TestId("audit")).ToBeVisibleAsync();

        await TestId("sign-out").ClickAsync();
        await Expect(TestId("login")).ToBeVisibleAsync();
        Assert.Null(await Page.EvaluateAsync<string?>("() => sessionStorage.getItem('lineage.credential')"));

        // A token alone signs in; a reader is told plainly that the audit log is for server admins.
        await TestId("login-secret").FillAsync(_readerToken);
        await TestId("login-submit").ClickAsync();
        await Expect(TestId("signed-in")).ToHaveTextAsync("Signed in as token");
        await Expect(TestId("audit")).ToHaveCountAsync(0);
        await Expect(TestId("error")).ToContainTextAsync("Not allowed");
        await Expect(TestId("error")).ToContainTextAsync("may not GET /api/v1/audit");
        await Page.GotoAsync("/");
        await Expect(TestId("experiments")).ToContainTextAsync("secured");
        await BrowserFixture.ScreenshotAsync(Page, "signed-in");
    }
}
