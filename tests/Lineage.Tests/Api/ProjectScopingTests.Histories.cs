using System.Net;
using System.Text.Json.Nodes;

namespace Lineage.Tests.Api;

public partial class ProjectScopingTests
{
    [Fact]
    public async Task many_run_metric_histories_treat_a_run_of_project_b_as_missing()
    {
        var body = (string second) => $$"""{"key":"loss","runIds":["{{_aRun}}","{{second}}"],"maxPoints":10}""";
        var hidden = await Send("POST", "/api/v1/runs/metrics/history", body(_bRun), "readerA");
        var absent = await Send("POST", "/api/v1/runs/metrics/history", body(MissingRun), "readerA");
        Assert.Equal(HttpStatusCode.NotFound, hidden.Status);
        Assert.DoesNotContain("0.5", hidden.Text);
        Assert.Equal(WithoutId((string)JsonNode.Parse(absent.Text)!["message"]!, MissingRun), WithoutId((string)JsonNode.Parse(hidden.Text)!["message"]!, _bRun));
        var own = await Ok("POST", "/api/v1/runs/metrics/history", $$"""{"key":"loss","runIds":["{{_aRun}}"]}""", "readerA");
        Assert.Equal(0.5, (double)own["series"]![0]!["points"]![0]!["value"]!);
        Assert.Equal(2, ((JsonArray)(await Ok("POST", "/api/v1/runs/metrics/history", body(_bRun), "root"))["series"]!).Count);
    }
}
