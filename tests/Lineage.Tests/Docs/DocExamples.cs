using System.Text;
using System.Text.RegularExpressions;

namespace Lineage.Tests.Docs;

/// <summary>One <c>```bash</c> block of a markdown document: its lines and the 1-based document line of its first line.</summary>
public sealed record DocBlock(int Index, int FirstLine, IReadOnlyList<string> Lines);

/// <summary>
/// The runnable examples of one markdown document (README.md, docs/*.md), as <see cref="DocExamplesTests"/>
/// executes them. The conventions, also stated in docs/architecture.md ("Runnable documentation"):
/// <list type="bullet">
/// <item><c>```bash</c> blocks are executed, in document order, in one bash process with
/// <c>set -euo pipefail</c>, against a fresh server; <c>```sh</c> and <c>```text</c> blocks are shown, not run
/// (long-running servers, benchmarks, commands needing other hosts).</item>
/// <item>A trailing comment <c># expect NNN</c> on a line whose command runs curl says that this request is
/// meant to answer HTTP status NNN: the request must answer exactly that status (and the line must run a curl).
/// Every other curl fails the document on any 4xx/5xx (<c>--fail-with-body</c>).</item>
/// <item><c>&lt;!-- doc-test: server ARGS --&gt;</c> adds ARGS to the test server's <c>lineage server</c> command line;
/// <c>&lt;!-- doc-test: before-server COMMAND --&gt;</c> runs a bash COMMAND in the working folder before the server
/// starts (e.g. creating a key file the server option names).</item>
/// <item><c>http://127.0.0.1:5000</c> and <c>localhost:5000</c> in a block stand for the test server's address.</item>
/// </list>
/// </summary>
public sealed partial class DocExamples
{
    private DocExamples(string relativePath, IReadOnlyList<DocBlock> blocks, IReadOnlyList<string> serverArgs, IReadOnlyList<string> beforeServer)
    {
        RelativePath = relativePath;
        Blocks = blocks;
        ServerArgs = serverArgs;
        BeforeServer = beforeServer;
    }

    public string RelativePath { get; }
    public IReadOnlyList<DocBlock> Blocks { get; }
    public IReadOnlyList<string> ServerArgs { get; }
    public IReadOnlyList<string> BeforeServer { get; }

    [GeneratedRegex(@"^<!--\s*doc-test:\s*(server|before-server)\s+(.*?)\s*-->\s*$")]
    private static partial Regex Directive();

    [GeneratedRegex(@"^#\s*expect\s+(\d{3})\b")]
    private static partial Regex ExpectComment();

    public static DocExamples Parse(string relativePath, string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        var blocks = new List<DocBlock>();
        var serverArgs = new List<string>();
        var beforeServer = new List<string>();
        string? fence = null;
        List<string>? current = null;
        var first = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.Trim();
            if (fence is null)
            {
                if (trimmed.StartsWith("```", StringComparison.Ordinal))
                {
                    fence = trimmed;
                    if (trimmed == "```bash")
                    {
                        current = [];
                        first = i + 2; // 1-based line after the fence
                    }
                    continue;
                }
                var directive = Directive().Match(trimmed);
                if (directive.Success)
                {
                    if (directive.Groups[1].Value == "server") serverArgs.AddRange(SplitArgs(directive.Groups[2].Value));
                    else beforeServer.Add(directive.Groups[2].Value);
                }
                else if (trimmed.StartsWith("<!--", StringComparison.Ordinal) && trimmed.Contains("doc-test:", StringComparison.Ordinal))
                    throw new FormatException($"{relativePath}:{i + 1}: unknown doc-test directive: {trimmed}");
                continue;
            }
            if (trimmed == "```")
            {
                if (current is not null) blocks.Add(new DocBlock(blocks.Count + 1, first, current));
                fence = null;
                current = null;
                continue;
            }
            current?.Add(line);
        }
        if (fence is not null) throw new FormatException($"{relativePath}: a code block opened with {fence} is never closed");
        return new DocExamples(relativePath, blocks, serverArgs, beforeServer);
    }

    private static IEnumerable<string> SplitArgs(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// The bash script: the preamble, then each block verbatim (line for line, so a failing line number maps back
    /// to the document), with <c># expect NNN</c> lines wrapped in a status check on the same lines.
    /// </summary>
    public Script BuildScript(Uri server, string cliPath, string scratch)
    {
        var sb = new StringBuilder();
        var map = new List<(int ScriptLine, DocBlock Block)>();
        var lineCount = 0;
        void Emit(string text)
        {
            sb.Append(text).Append('\n');
            lineCount++;
        }
        foreach (var l in Preamble(server, cliPath, scratch).Split('\n')) Emit(l);
        var port = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var block in Blocks)
        {
            Emit($"__doc_block {block.Index} {block.FirstLine}");
            map.Add((lineCount + 1, block));
            var rewritten = RewriteExpectations(block);
            foreach (var l in rewritten)
                Emit(l.Replace("http://127.0.0.1:5000", $"http://127.0.0.1:{port}", StringComparison.Ordinal)
                      .Replace("localhost:5000", $"127.0.0.1:{port}", StringComparison.Ordinal));
        }
        Emit("__doc_done");
        return new Script(sb.ToString(), map);
    }

    /// <summary>Maps a line of the built script to (block, document line, document text), or null for the preamble.</summary>
    public sealed record Script(string Text, IReadOnlyList<(int ScriptLine, DocBlock Block)> Blocks)
    {
        public (DocBlock Block, int DocLine, string Text)? Locate(int scriptLine)
        {
            foreach (var (start, block) in Blocks.Reverse())
                if (scriptLine >= start)
                {
                    var offset = scriptLine - start;
                    return offset < block.Lines.Count ? (block, block.FirstLine + offset, block.Lines[offset]) : null;
                }
            return null;
        }
    }

    /// <summary>
    /// For each line ending in a <c># expect NNN</c> comment: the command it ends starts with
    /// <c>__doc_expect NNN;</c> (on its first line) and ends with <c>; __doc_expect_end</c> before the comment.
    /// </summary>
    private static List<string> RewriteExpectations(DocBlock block)
    {
        var lines = block.Lines.ToList();
        var commands = ShellLexer.Commands(lines);
        foreach (var (start, end, commentColumn) in commands)
        {
            if (commentColumn is not { } col) continue;
            var comment = lines[end][col..];
            var expect = ExpectComment().Match(comment);
            if (!expect.Success)
            {
                if (comment.Contains("expect", StringComparison.OrdinalIgnoreCase) && Regex.IsMatch(comment, @"#\s*expect\b"))
                    throw new FormatException($"block {block.Index}, line {block.FirstLine + end}: malformed marker '{comment}' (use '# expect NNN')");
                continue;
            }
            lines[end] = lines[end][..col].TrimEnd() + " ; __doc_expect_end " + comment;
            var indent = lines[start].Length - lines[start].TrimStart().Length;
            lines[start] = lines[start][..indent] + $"__doc_expect {expect.Groups[1].Value}; " + lines[start][indent..];
        }
        return lines;
    }

    private static string Preamble(Uri server, string cliPath, string scratch)
    {
        var url = server.ToString().TrimEnd('/');
        return $$"""
            # doc-test preamble (tests/Lineage.Tests/Docs/DocExamples.cs)
            exec 2>&1
            set -Eeuo pipefail
            shopt -s inherit_errexit
            __DOC_TMP='{{scratch}}'
            __doc_block_no=0
            __doc_fail() {
              local rc=$1 cmd=$2 n=${#FUNCNAME[@]}
              printf '\n__DOC_FAIL__ line=%s rc=%s cmd=%s\n' "${BASH_LINENO[$((n-2))]}" "$rc" "$cmd" >&2
            }
            trap '__doc_fail $? "$BASH_COMMAND"' ERR
            __doc_block() { __doc_block_no=$1; printf '\n== block %s (document line %s)\n' "$1" "$2"; }
            __doc_done() { printf '\n__DOC_DONE__\n'; }
            __doc_expect() { DOC_EXPECT=$1; rm -f "$__DOC_TMP/expect-used"; }
            __doc_expect_end() {
              if [ ! -e "$__DOC_TMP/expect-used" ]; then
                echo "doc-test: '# expect $DOC_EXPECT' is on a line where no curl ran" >&2; unset DOC_EXPECT; return 1
              fi
              unset DOC_EXPECT; rm -f "$__DOC_TMP/expect-used"
            }
            # curl: any HTTP error fails the document, unless the line says '# expect NNN' (then exactly NNN must come back).
            curl() {
              local hdr="$__DOC_TMP/headers.$BASHPID" body="$__DOC_TMP/body.$BASHPID" rc=0 status
              if [ -n "${DOC_EXPECT:-}" ]; then
                : > "$__DOC_TMP/expect-used"
                command curl -D "$hdr" "$@" | tee "$body" || rc=$?
                status=$(tr -d '\r' < "$hdr" 2>/dev/null | awk '/^HTTP\//{s=$2} END{print s}')
                if [ $rc -ne 0 ]; then echo >&2; echo "doc-test: curl exit $rc (HTTP ${status:-none}; expected $DOC_EXPECT)" >&2; return $rc; fi
                if [ "$status" != "$DOC_EXPECT" ]; then
                  echo >&2; echo "doc-test: expected HTTP $DOC_EXPECT, got ${status:-none}; body: $(head -c 2000 "$body")" >&2; return 1
                fi
              else
                command curl --fail-with-body --show-error -D "$hdr" "$@" | tee "$body" || rc=$?
                if [ $rc -ne 0 ]; then
                  status=$(tr -d '\r' < "$hdr" 2>/dev/null | awk '/^HTTP\//{s=$2} END{print s}')
                  echo >&2; echo "doc-test: curl exit $rc (HTTP ${status:-none}); body: $(head -c 2000 "$body")" >&2; return $rc
                fi
              fi
            }
            export L='{{url}}'
            export S='{{url}}/api/v1'
            export LINEAGE_SERVER_URL='{{url}}'
            export NO_COLOR=1
            export PATH='{{Path.GetDirectoryName(cliPath)}}':"$PATH"
            """;
    }
}

/// <summary>
/// Just enough of bash's lexing to find where each command of a block starts and ends (quotes, <c>$( )</c>,
/// backslash-newline) and where its trailing comment begins. Not a shell parser; heredocs are not supported.
/// </summary>
internal static class ShellLexer
{
    public static List<(int Start, int End, int? CommentColumn)> Commands(IReadOnlyList<string> lines)
    {
        var result = new List<(int, int, int?)>();
        var stack = new Stack<char>(); // '\'' single, '"' double, '(' command substitution or subshell
        var start = -1;
        for (var li = 0; li < lines.Count; li++)
        {
            var line = lines[li];
            if (start < 0)
            {
                if (line.Trim().Length == 0) continue;
                start = li;
            }
            int? comment = null;
            var continued = false;
            for (var i = 0; i < line.Length; i++)
            {
                var c = line[i];
                var top = stack.Count > 0 ? stack.Peek() : '\0';
                if (top == '\'')
                {
                    if (c == '\'') stack.Pop();
                    continue;
                }
                if (c == '\\')
                {
                    if (i == line.Length - 1) continued = true;
                    i++;
                    continue;
                }
                if (top == '"')
                {
                    if (c == '"') stack.Pop();
                    else if (c == '$' && i + 1 < line.Length && line[i + 1] == '(') { stack.Push('('); i++; }
                    continue;
                }
                switch (c)
                {
                    case '\'': stack.Push('\''); break;
                    case '"': stack.Push('"'); break;
                    case '(': stack.Push('('); break;
                    case ')': if (top == '(') stack.Pop(); break;
                    case '#' when i == 0 || char.IsWhiteSpace(line[i - 1]) || line[i - 1] == ';':
                        comment = i;
                        i = line.Length;
                        break;
                }
            }
            if (stack.Count == 0 && !continued)
            {
                result.Add((start, li, comment));
                start = -1;
            }
        }
        return result;
    }
}
