namespace Lineage.Tests.Support;

/// <summary>The shared fixtures folder (../shared/fixtures next to the checkout).</summary>
public static class SharedFixtures
{
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Lineage.slnx")))
                {
                    var shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "fixtures"));
                    return Directory.Exists(shared) ? shared : throw new DirectoryNotFoundException($"shared fixtures not found at {shared}");
                }
            throw new DirectoryNotFoundException("repository root (Lineage.slnx) not found above " + AppContext.BaseDirectory);
        }
    }

    public static string OpenLineage(params string[] parts) => Path.Combine([Root, "openlineage", .. parts]);
}
