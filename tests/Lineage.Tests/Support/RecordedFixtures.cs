namespace Lineage.Tests.Support;

/// <summary>
/// Facts recorded from real systems that the tests replay: MLflow 2.12.2 traffic and the OpenLineage schema and
/// examples, carried in the repository under tests/Lineage.Tests/Fixtures (see its README for their origin).
/// </summary>
public static class RecordedFixtures
{
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Lineage.slnx")))
                {
                    var fixtures = Path.Combine(dir.FullName, "tests", "Lineage.Tests", "Fixtures");
                    return Directory.Exists(fixtures) ? fixtures : throw new DirectoryNotFoundException($"recorded fixtures not found at {fixtures}");
                }
            throw new DirectoryNotFoundException("repository root (Lineage.slnx) not found above " + AppContext.BaseDirectory);
        }
    }

    public static string OpenLineage(params string[] parts) => Path.Combine([Root, "openlineage", .. parts]);
}
