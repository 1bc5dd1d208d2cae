using System.Text.RegularExpressions;
using Lineage.Tests.Docs;

namespace Lineage.Tests.Ui;

/// <summary>
/// The web UI's module layout (issue 11 §6): no module imports the entry point (main.ts), so there is no import
/// cycle through it, and only api.ts talks to the server (one place builds URLs, adds the credential and turns
/// failures into ApiError).
/// </summary>
public sealed partial class WebSourceLayoutTests
{
    private static readonly string Src = Path.Combine(DocExamplesTests.RepositoryRoot, "web", "src");

    private static IEnumerable<(string File, string Text)> Modules() =>
        Directory.EnumerateFiles(Src, "*.ts", SearchOption.AllDirectories)
            .Select(f => (Path.GetRelativePath(Src, f).Replace('\\', '/'), File.ReadAllText(f)));

    [GeneratedRegex(@"from\s+'(\.{1,2}/)+main'")]
    private static partial Regex ImportsMain();

    [GeneratedRegex(@"\bfetch\(")]
    private static partial Regex Fetches();

    [Fact]
    public void no_module_imports_the_entry_point()
    {
        var modules = Modules().ToList();
        Assert.True(modules.Count > 10, $"web/src has {modules.Count} modules");
        Assert.Empty(modules.Where(m => ImportsMain().IsMatch(m.Text)).Select(m => m.File));
    }

    [Fact]
    public void only_api_ts_fetches()
    {
        Assert.Equal(["api.ts"], Modules().Where(m => Fetches().IsMatch(m.Text)).Select(m => m.File).ToArray());
    }
}
