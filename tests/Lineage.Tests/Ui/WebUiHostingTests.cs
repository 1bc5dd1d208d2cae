using System.Net;
using System.Text.Json;
using Lineage.Tests.Support;

namespace Lineage.Tests.Ui;

/// <summary>How the server hosts the UI: files and SPA fallback at /, never in place of an API answer.</summary>
public sealed class WebUiHostingTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task the_ui_is_served_at_root_and_its_routes_fall_back_to_the_page()
    {
        foreach (var path in new[] { "/", "/experiments/1", "/runs/0123456789abcdef0123456789abcdef", "/lineage?node=artifact:x@1", "/models/churn", "/approvals", "/deployments", "/dashboards", "/alerts", "/webhooks", "/audit", "/no/such/page" })
        {
            using var res = await _server.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
            Assert.Equal("text/html", res.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<main id=\"app\">", await res.Content.ReadAsStringAsync());
        }
        var html = await _server.Http.GetStringAsync("/");
        var script = System.Text.RegularExpressions.Regex.Match(html, "src=\"(/assets/[^\"]+\\.js)\"").Groups[1].Value;
        using var js = await _server.Http.GetAsync(script);
        Assert.Equal(HttpStatusCode.OK, js.StatusCode);
        Assert.Equal("text/javascript", js.Content.Headers.ContentType?.MediaType);
        Assert.Contains("immutable", js.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task api_paths_and_missing_files_are_never_answered_with_the_page()
    {
        using (var res = await _server.Http.GetAsync("/api/v1/no-such-thing"))
        {
            Assert.Equal(HttpStatusCode.NotFound, res.StatusCode);
            var body = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("ENDPOINT_NOT_FOUND", body.GetProperty("error_code").GetString());
        }
        using (var res = await _server.Http.GetAsync("/api/v1/runs/0123456789abcdef0123456789abcdef"))
            Assert.Equal("RESOURCE_DOES_NOT_EXIST", JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement.GetProperty("error_code").GetString());
        using (var res = await _server.Http.PatchAsync("/api/v1/experiments", null))
            Assert.Equal(HttpStatusCode.MethodNotAllowed, res.StatusCode);
        using (var res = await _server.Http.PostAsync("/experiments/1", null))   // the page answers GET only
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, res.StatusCode);
            Assert.Equal("application/json", res.Content.Headers.ContentType?.MediaType);
        }
        using (var res = await _server.Http.GetAsync("/assets/missing-0000.js"))
            Assert.Equal(HttpStatusCode.NotFound, res.StatusCode);
        using (var res = await _server.Http.GetAsync("/../../etc/passwd.txt"))
            Assert.Equal(HttpStatusCode.NotFound, res.StatusCode);
        Assert.Contains("\"status\":\"ok\"", await _server.Http.GetStringAsync("/health"));
        Assert.Contains("\"openapi\"", await _server.Http.GetStringAsync("/openapi/v1.json"));
    }

    [Fact]
    public async Task without_a_built_ui_the_server_starts_and_says_how_to_build_it()
    {
        using var empty = new TempDir();
        await using var server = await TestServer.StartAsync(configure: o => o with { UiRoot = empty.Path });
        using var res = await server.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var text = await res.Content.ReadAsStringAsync();
        Assert.Contains("web UI is not built", text);
        Assert.Contains("scripts/build-web.sh", text);
        Assert.Contains("\"status\":\"ok\"", await server.Http.GetStringAsync("/health"));
    }
}
