using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Lineage.Tests.Support;
using Xunit.Abstractions;

namespace Lineage.Tests.Docs;

/// <summary>
/// Every ```bash block of README.md and docs/*.md runs, in order, in one bash process against a fresh
/// <c>lineage server</c> process (issue 17: the documentation's examples are tested). The conventions
/// (markers, directives, ```sh for what is not run) are in <see cref="DocExamples"/> and docs/architecture.md.
/// </summary>
public sealed partial class DocExamplesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan DocumentTimeout = TimeSpan.FromMinutes(3);

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
        var result = await RunAsync(doc);
        output.WriteLine($"{document}: {doc.Blocks.Count} blocks in {watch.Elapsed.TotalSeconds:0.0} s");
        output.WriteLine(result.Output);
        Assert.True(result.Passed, result.Report);
    }

    // The harness itself must be able to fail: these documents are built here, each against the same kind of server.

    [Fact]
    public async Task an_http_error_answer_fails_the_document_and_names_the_block_and_line()
    {
        var doc = DocExamples.Parse("synthetic.md", """
            # t

            ```bash
            curl -s $L/health
            ```

            ```bash
            echo first
            curl -s $L/api/v1/experiments/999
            echo never
            ```
            """);
        var result = await RunAsync(doc);
        Assert.False(result.Passed);
        Assert.Contains("synthetic.md, block 2 (starting at line 8), line 9", result.Report);
        Assert.Contains("curl -s $L/api/v1/experiments/999", result.Report);
        Assert.Contains("HTTP 404", result.Report);
        Assert.DoesNotContain("never\n", result.Output);
    }

    [Fact]
    public async Task a_failing_command_fails_the_document_and_an_error_inside_a_substitution_too()
    {
        var failing = await RunAsync(DocExamples.Parse("a.md", "```bash\nls ./no-such-file\necho after\n```\n"));
        Assert.False(failing.Passed);
        Assert.Contains("line 2", failing.Report);

        var substituted = await RunAsync(DocExamples.Parse("b.md", "```bash\nRUN=$(curl -s -X POST $L/api/v1/runs -H 'Content-Type: application/json' -d '{\"experimentId\":\"77\"}' | sed 's/x/y/')\necho \"$RUN\"\n```\n"));
        Assert.False(substituted.Passed);
        Assert.Contains("line 2", substituted.Report);
    }

    [Fact]
    public async Task an_expect_marker_checks_the_exact_status_and_must_sit_on_a_curl_line()
    {
        var expected = await RunAsync(DocExamples.Parse("ok.md", """
            ```bash
            curl -s $L/api/v1/experiments/999                # expect 404
            curl -s -X POST $L/api/v1/experiments -H 'Content-Type: application/json' \
                 -d '{"name":""}'                            # expect 400: a name is required
            curl -s $L/health
            ```
            """));
        Assert.True(expected.Passed, expected.Report);

        var wrongStatus = await RunAsync(DocExamples.Parse("wrong.md", "```bash\ncurl -s $L/health   # expect 404\n```\n"));
        Assert.False(wrongStatus.Passed);
        Assert.Contains("expected HTTP 404, got 200", wrongStatus.Report);

        var noCurl = await RunAsync(DocExamples.Parse("nocurl.md", "```bash\necho hi   # expect 404\n```\n"));
        Assert.False(noCurl.Passed);
        Assert.Contains("no curl ran", noCurl.Report);
    }

    [Fact]
    public void sh_and_text_blocks_are_not_run_and_directives_are_read()
    {
        var doc = DocExamples.Parse("d.md", """
            <!-- doc-test: server --key-file ./lineage-data/keys -->
            <!-- doc-test: before-server lineage keys new --key-file ./lineage-data/keys -->
            ```sh
            lineage server
            ```
            ```text
            output
            ```
            ```bash
            echo run
            ```
            """);
        Assert.Equal(["--key-file", "./lineage-data/keys"], doc.ServerArgs);
        Assert.Equal(["lineage keys new --key-file ./lineage-data/keys"], doc.BeforeServer);
        var block = Assert.Single(doc.Blocks);
        Assert.Equal(["echo run"], block.Lines);
        Assert.Equal(10, block.FirstLine);
        Assert.Throws<FormatException>(() => DocExamples.Parse("e.md", "<!-- doc-test: serve x -->\n"));
    }

    private sealed record RunResult(bool Passed, string Report, string Output);

    private static async Task<RunResult> RunAsync(DocExamples doc)
    {
        using var dir = new TempDir();
        var work = Directory.CreateDirectory(Path.Combine(dir.Path, "work")).FullName;
        var scratch = Directory.CreateDirectory(Path.Combine(dir.Path, "scratch")).FullName;
        var bin = Directory.CreateDirectory(Path.Combine(dir.Path, "bin")).FullName;
        var data = Directory.CreateDirectory(Path.Combine(work, "lineage-data")).FullName;
        var cli = WriteCliWrapper(bin);

        foreach (var command in doc.BeforeServer)
        {
            var (code, output) = await RunBashAsync($"export PATH='{bin}':\"$PATH\"\nset -euo pipefail\n{command}\n", work, TimeSpan.FromMinutes(1));
            if (code != 0) return new RunResult(false, $"{doc.RelativePath}: before-server command failed (exit {code}): {command}\n{output}", output);
        }

        await using var server = await ServerProcess.StartInAsync(work, Path.Combine(data, "lineage.db"), Path.Combine(data, "artifacts"), [.. doc.ServerArgs]);
        var script = doc.BuildScript(server.Address, cli, scratch);
        var scriptFile = Path.Combine(scratch, "doc.sh");
        await File.WriteAllTextAsync(scriptFile, script.Text);
        var (exit, log) = await RunBashAsync(null, work, DocumentTimeout, scriptFile);
        if (exit == 0 && log.Contains("__DOC_DONE__", StringComparison.Ordinal)) return new RunResult(true, "", log);
        return new RunResult(false, Explain(doc, script, exit, log, server.Output), log);
    }

    [GeneratedRegex(@"^== block (\d+) \(document line (\d+)\)$", RegexOptions.Multiline)]
    private static partial Regex BlockStart();

    [GeneratedRegex(@"^__DOC_FAIL__ line=(\d+) rc=(\d+) cmd=(.*)$", RegexOptions.Multiline)]
    private static partial Regex FailLine();

    private static string Explain(DocExamples doc, DocExamples.Script script, int exit, string log, string serverLog)
    {
        var report = new StringBuilder();
        var fail = FailLine().Matches(log).Select(m => (Line: int.Parse(m.Groups[1].Value), Rc: m.Groups[2].Value, Cmd: m.Groups[3].Value))
            .Select(f => (f.Rc, f.Cmd, Where: script.Locate(f.Line))).FirstOrDefault(f => f.Where is not null);
        if (fail.Where is { } where)
            report.Append($"{doc.RelativePath}, block {where.Block.Index} (starting at line {where.Block.FirstLine}), line {where.DocLine} failed (exit {fail.Rc}):\n")
                .Append($"    {where.Text.Trim()}\n    (command: {fail.Cmd})\n");
        else
        {
            var block = BlockStart().Matches(log).LastOrDefault();
            report.Append($"{doc.RelativePath}: the script stopped with exit {exit} before its end (timeout or a failure outside the blocks)")
                .Append(block is null ? ".\n" : $", in block {block.Groups[1].Value} (starting at line {block.Groups[2].Value}).\n");
        }
        var lines = log.Replace("\r", "").Split('\n');
        report.Append("--- output (last 60 lines) ---\n").AppendJoin('\n', lines.TakeLast(60)).Append('\n');
        var serverLines = serverLog.Split('\n');
        report.Append("--- server log (last 30 lines) ---\n").AppendJoin('\n', serverLines.TakeLast(30));
        return report.ToString();
    }

    /// <summary>A <c>lineage</c> executable on PATH: the CLI built next to this test assembly.</summary>
    private static string WriteCliWrapper(string bin)
    {
        var start = ServerProcess.LineageCommand();
        var command = string.Join(' ', new[] { start.FileName }.Concat(start.ArgumentList).Select(a => "'" + a + "'"));
        var path = Path.Combine(bin, "lineage");
        File.WriteAllText(path, $"#!/usr/bin/env bash\nexport DOTNET_gcServer=0\nexec {command} \"$@\"\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static async Task<(int Code, string Output)> RunBashAsync(string? stdin, string workingDirectory, TimeSpan timeout, string? scriptFile = null)
    {
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        start.ArgumentList.Add("--noprofile");
        start.ArgumentList.Add("--norc");
        if (scriptFile is not null) start.ArgumentList.Add(scriptFile);
        start.Environment["NO_COLOR"] = "1";
        start.Environment.Remove("LINEAGE_TOKEN");
        start.Environment.Remove("LINEAGE_SERVER_URL");
        start.Environment.Remove("MLFLOW_TRACKING_URI");
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Append(e.Data).Append('\n'); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            lock (output) output.Append($"doc-test: timed out after {timeout.TotalSeconds:0} s\n");
            return (-1, Snapshot());
        }
        return (process.ExitCode, Snapshot());

        string Snapshot()
        {
            lock (output) return output.ToString();
        }
    }
}
