using System.Net.Http.Headers;
using Lineage.Core.Governance;
using Lineage.Storage.Governance;
using Lineage.Tests.Support;

namespace Lineage.Tests.Ui;

/// <summary>
/// Browser tests against a server of their own with authentication on: a server admin "root" exists and
/// <see cref="Server"/>'s HTTP client calls as root; <see cref="SeedAsync"/> adds what the tests need before the page opens.
/// </summary>
public abstract class SecuredBrowserPageTests(BrowserFixture browser) : BrowserPageTests(browser)
{
    protected TestServer Server { get; private set; } = null!;

    protected override Uri Address => Server.Address;

    /// <summary>Users, roles and data for the tests, written with the governance store and root's client.</summary>
    protected abstract Task SeedAsync(GovernanceStore gov);

    /// <summary>Root's password, for tests that sign in as root through the form; null: token only.</summary>
    protected virtual string? RootPassword => null;

    public override async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        var gov = new GovernanceStore(Server.Server.Database);
        await gov.CreatePrincipalAsync("root", PrincipalKind.User, RootPassword, serverAdmin: true, "test");
        var rootToken = (await gov.IssueTokenAsync("root", null, TimeSpan.FromHours(1), "test")).Secret;
        Server.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", rootToken);
        await SeedAsync(gov);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            await Server.DisposeAsync();
        }
    }
}
