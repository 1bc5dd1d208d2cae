using Lineage.Tests.Support;

namespace Lineage.Tests.Docs;

/// <summary>
/// The harness of <see cref="DocExamplesTests"/> must be able to fail: small documents written here, run against one
/// shared server, show that an HTTP error, a failing command, a failure inside <c>$( )</c>, a wrong expected status
/// and a marker on a line without curl each fail the document, with the block and line named.
/// </summary>
public sealed class DocExamplesHarnessTests : IAsyncLifetime
{
    private TempDir _dir = null!;
    private ServerProcess _server = null!;

    public async Task InitializeAsync()
    {
        _dir = new TempDir();
        _server = await ServerProcess.StartAsync(_dir.File("lineage.db"), _dir.File("artifacts"));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    private Task<DocRunResult> RunAsync(DocExamples doc) => DocRunner.RunAsync(doc, _server);

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

        var inArgument = await RunAsync(DocExamples.Parse("c.md", "```bash\necho \"token: $(ls ./no-such-file)\"\necho after\n```\n"));
        Assert.False(inArgument.Passed);
        Assert.Contains("line 2", inArgument.Report);
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

}
