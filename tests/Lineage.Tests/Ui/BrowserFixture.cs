using Lineage.Server.Http;
using Microsoft.Playwright;

namespace Lineage.Tests.Ui;

/// <summary>
/// One headless Debian Chromium (<c>/usr/bin/chromium</c>, or <c>LINEAGE_CHROMIUM</c>) driven by Playwright for
/// .NET, shared by the UI tests. Playwright's own browser download is never used (there is no internet here):
/// a missing Chromium or an unbuilt web UI fails every UI test with the command that fixes it, never a skip.
/// Each launch gets a fresh temporary profile (Playwright creates a new user-data-dir per launch).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Screenshots, downloads and the timing log of this run: <c>ui-output/</c> under the test output folder.</summary>
    public static string OutputDir { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "ui-output")).FullName;

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("LINEAGE_CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(chromium))
            throw new InvalidOperationException(
                $"Chromium not found at {chromium}: the UI tests need a real browser. Install it with " +
                "`apt-get install chromium chromium-driver` (scripts/test.sh does this) or set LINEAGE_CHROMIUM.");
        if (!File.Exists(Path.Combine(WebUi.DefaultRoot, "index.html")))
            throw new InvalidOperationException(
                $"the web UI is not built ({WebUi.DefaultRoot}/index.html missing): run scripts/build-web.sh, then rebuild the tests.");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
    }

    public async Task<IPage> NewPageAsync(Uri baseAddress)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        // A page error (an exception in the UI's code) must fail the test that caused it.
        page.PageError += (_, message) => PageErrors.Add(message);
        return page;
    }

    public List<string> PageErrors { get; } = [];

    public static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(OutputDir, name + ".png"), FullPage = true });

    /// <summary>Appends a measured figure to <c>ui-output/timings.txt</c> (the doc's numbers come from there).</summary>
    public static void RecordTiming(string line)
    {
        lock (typeof(BrowserFixture))
            File.AppendAllText(Path.Combine(OutputDir, "timings.txt"), $"{DateTime.UtcNow:O} {line}{Environment.NewLine}");
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        _playwright?.Dispose();
    }
}

[CollectionDefinition("browser")]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>;
