using System.Diagnostics;
using Xunit.Abstractions;

namespace Lineage.Tests.Docs;

/// <summary>
/// Every ```bash block of README.md and docs/*.md runs, in order, in one bash process against a fresh
/// <c>lineage server</c> process (issue 17: the documentation's examples are tested). The conventions
/// (markers, directives, ```sh for what is not run) are in <see cref="DocExamples"/> and docs/architecture.md;
/// the harness's own failure cases in <see cref="DocExamplesHarnessTests"/>.
/// </summary>
public sealed class DocExamplesTests(ITestOutputHelper output)
{
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Lineage.slnx"))) return dir.FullName;
            throw new DirectoryNotFoundException("repository root (Lineage.slnx) not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>README.md and every docs/*.md present at run time, so a new document is covered without a test change.</summary>
    public static TheoryData<string> Documents()
    {
        var root = RepositoryRoot;
        var data = new TheoryData<string> { "README.md" };
        foreach (var file in Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(root, file).Replace('\\', '/'));
        return data;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public async Task every_bash_block_of_the_document_runs_in_order_against_a_fresh_server(string document)
    {
        var doc = DocExamples.Parse(document, await File.ReadAllTextAsync(Path.Combine(RepositoryRoot, document)));
        if (doc.Blocks.Count == 0) return; // nothing runnable (e.g. architecture.md); its ```sh/```text blocks are shown only

        var watch = Stopwatch.StartNew();
        var result = await DocRunner.RunAsync(doc);
        output.WriteLine($"{document}: {doc.Blocks.Count} blocks in {watch.Elapsed.TotalSeconds:0.0} s");
        output.WriteLine(result.Output);
        Assert.True(result.Passed, result.Report);
    }
}
