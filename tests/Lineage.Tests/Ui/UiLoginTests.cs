using System.Net.Http.Headers;
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
public sealed class UiLoginTests(BrowserFixture browser) : IAsyncLifetime
{
    private TestServer _server = null!;
    private IPage _page = null!;
    private string _readerToken = "";

    public async Task InitializeAsync()
    {
        browser.PageErrors.Clear();
        _server = await TestServer.StartAsync();
        var gov = new GovernanceStore(_server.Server.Database);
        await gov.CreatePrincipalAsync("root", PrincipalKind.User, "root-password-123", serverAdmin: true, "test");
        await gov.CreatePrincipalAsync("rita", PrincipalKind.User, null, serverAdmin: false, "test");
        await gov.GrantAsync("rita", "default", Role.Reader, "test");
        _readerToken = (await gov.IssueTokenAsync("rita", null, TimeSpan.FromHours(1), "test")).Secret;
        var rootToken = (await gov.IssueTokenAsync("root", null, TimeSpan.FromHours(1), "test")).Secret;
        _server.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", rootToken);
        await new ApiWriter(_server.Http).ExperimentAsync("secured");
        await _server.Server.App.Services.GetRequiredService<Lineage.Server.Hosting.AuditWriter>().FlushAsync();
        _page = await browser.NewPageAsync(_server.Address);
    }

    public async Task DisposeAsync()
    {
        await _page.Context.CloseAsync();
        await _server.DisposeAsync();
        Assert.True(browser.PageErrors.Count == 0, "errors in the page: " + string.Join("\n", browser.PageErrors));
    }

    private ILocator TestId(string id) => _page.GetByTestId(id);

    [Fact]
    public async Task signing_in_with_a_password_or_a_token_opens_the_app_and_signing_out_forgets_it()
    {
        await _page.GotoAsync("/");
        await Expect(TestId("login")).ToBeVisibleAsync();
        await Expect(TestId("experiments")).ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(_page, "login");

        await TestId("login-user").FillAsync("root");
        await TestId("login-secret").FillAsync("not-the-password");
        await TestId("login-submit").ClickAsync();
        await Expect(TestId("login-error")).ToHaveTextAsync("Wrong user name, password or token.");

        await TestId("login-secret").FillAsync("root-password-123");
        await TestId("login-submit").ClickAsync();
        await Expect(TestId("experiments")).ToContainTextAsync("secured");
        await Expect(TestId("signed-in")).ToHaveTextAsync("Signed in as root");
        Assert.DoesNotContain("password", _page.Url);

        // The credential lives in this tab's sessionStorage: a reload stays signed in.
        await _page.GotoAsync("/audit");
        await Expect(TestId("audit").Locator("tbody tr").First).ToContainTextAsync("root");
        await _page.ReloadAsync();
        await Expect(TestId("audit")).ToBeVisibleAsync();

        await TestId("sign-out").ClickAsync();
        await Expect(TestId("login")).ToBeVisibleAsync();
        Assert.Null(await _page.EvaluateAsync<string?>("() => sessionStorage.getItem('lineage.credential')"));

        // A token alone signs in; a reader is told plainly that the audit log is for server admins.
        await TestId("login-secret").FillAsync(_readerToken);
        await TestId("login-submit").ClickAsync();
        await Expect(TestId("signed-in")).ToHaveTextAsync("Signed in as token");
        await Expect(TestId("audit")).ToHaveCountAsync(0);
        await Expect(TestId("error")).ToContainTextAsync("Not allowed");
        await Expect(TestId("error")).ToContainTextAsync("may not GET /api/v1/audit");
        await _page.GotoAsync("/");
        await Expect(TestId("experiments")).ToContainTextAsync("secured");
        await BrowserFixture.ScreenshotAsync(_page, "signed-in");
    }
}
