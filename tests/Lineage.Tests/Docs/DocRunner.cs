using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Lineage.Tests.Support;

namespace Lineage.Tests.Docs;

/// <summary>The outcome of running one document: passed, a report naming the failing block and line, and the whole output.</summary>
public sealed record DocRunResult(bool Passed, string Report, string Output);

/// <summary>
/// Runs a <see cref="DocExamples"/> document: a fresh folder (the examples' working folder, with the server's
/// <c>./lineage-data</c>), a <c>lineage</c> wrapper on PATH, a <c>lineage server</c> process (or a given one), and one
/// bash process for all blocks.
/// </summary>
public static partial class DocRunner
{
    // docs/cli.md (about 60 CLI process starts) took 76-108 s while the 2 shared cores ran at load average 25-42.
    private static readonly TimeSpan DocumentTimeout = TimeSpan.FromMinutes(4);

    /// <summary>Runs <paramref name="doc"/> against a fresh server, or against <paramref name="shared"/> when given (harness tests).</summary>
    public static async Task<DocRunResult> RunAsync(DocExamples doc, ServerProcess? shared = null)
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
            if (code != 0) return new DocRunResult(false, $"{doc.RelativePath}: before-server command failed (exit {code}): {command}\n{output}", output);
        }

        await using var own = shared is null
            ? await ServerProcess.StartInAsync(work, Path.Combine(data, "lineage.db"), Path.Combine(data, "artifacts"), [.. doc.ServerArgs])
            : null;
        var server = own ?? shared!;
        var script = doc.BuildScript(server.Address, cli, scratch);
        var scriptFile = Path.Combine(scratch, "doc.sh");
        await File.WriteAllTextAsync(scriptFile, script.Text);
        var (exit, log) = await RunBashAsync(null, work, DocumentTimeout, scriptFile);
        // A failure inside $( ) that is an argument of another command does not stop bash; its ERR trap line still fails the document.
        if (exit == 0 && log.Contains("__DOC_DONE__", StringComparison.Ordinal) && !FailLine().IsMatch(log)) return new DocRunResult(true, "", log);
        return new DocRunResult(false, Explain(doc, script, exit, log, server.Output), log);
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
                .Append($"    {where.Text.Trim()}\n")
                .Append(fail.Cmd.StartsWith("return ", StringComparison.Ordinal) ? "" : $"    (command: {fail.Cmd})\n");
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
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
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
