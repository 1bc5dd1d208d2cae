using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;
using Lineage.Tests.Support;

namespace Lineage.Tests.Storage;

/// <summary>
/// The storage contract runs once per dialect from the same test code (Dapper-tests style):
/// each dialect's class only says how to open a fresh database.
/// </summary>
public abstract class StoreTestBase : IAsyncLifetime
{
    private readonly TempDir _dir = new();

    protected Database Db { get; set; } = null!;
    protected TrackingStore Store { get; private set; } = null!;
    protected string Target { get; private set; } = "";
    protected TempDir Dir => _dir;

    protected abstract string NewTarget(TempDir dir);

    public virtual async Task InitializeAsync()
    {
        Target = NewTarget(_dir);
        Db = await Database.OpenAsync(Target);
        Store = new TrackingStore(Db);
    }

    public virtual async Task DisposeAsync()
    {
        await Db.DisposeAsync();
        _dir.Dispose();
    }

    protected async Task ReopenAsync(bool upgrade = false)
    {
        await Db.DisposeAsync();
        Db = await Database.OpenAsync(Target, upgrade);
        Store = new TrackingStore(Db);
    }
}
