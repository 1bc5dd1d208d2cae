using Microsoft.Playwright;

namespace Lineage.Tests.Ui;

/// <summary>
/// A fresh browser page per test against <see cref="Address"/>; a script error in the page fails the test that caused it.
/// </summary>
public abstract class BrowserPageTests(BrowserFixture browser) : IAsyncLifetime
{
    protected IPage Page { get; private set; } = null!;

    /// <summary>The server the page opens (known once the class fixtures have started).</summary>
    protected abstract Uri Address { get; }

    public virtual async Task InitializeAsync()
    {
        browser.PageErrors.Clear();
        Page = await browser.NewPageAsync(Address);
    }

    public virtual async Task DisposeAsync()
    {
        await Page.Context.CloseAsync();
        Assert.True(browser.PageErrors.Count == 0, "errors in the page: " + string.Join("\n", browser.PageErrors));
    }

    protected ILocator TestId(string id) => Page.GetByTestId(id);
}
