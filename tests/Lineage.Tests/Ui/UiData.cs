using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Tests.Support;

namespace Lineage.Tests.Ui;

/// <summary>Writes test data through the native HTTP API, as a person's scripts would.</summary>
public sealed class ApiWriter(HttpClient http)
{
    public async Task<JsonNode> PostAsync(string path, object body)
    {
        using var res = await http.PostAsync(path, new StringContent(body is string s ? s : System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        var text = await res.Content.ReadAsStringAsync();
        if (!res.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path}: {(int)res.StatusCode} {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    public async Task PutAsync(string path, object body)
    {
        using var res = await http.PutAsync(path, new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        if (!res.IsSuccessStatusCode) throw new InvalidOperationException($"PUT {path}: {(int)res.StatusCode} {await res.Content.ReadAsStringAsync()}");
    }

    public async Task<string> ExperimentAsync(string name, string? description = null) =>
        (string)(await PostAsync("/api/v1/experiments", new { name, description, tags = new Dictionary<string, string> { ["team"] = "growth" } }))["id"]!;

    public async Task<string> RunAsync(string experimentId, string name, string? parent = null, string? user = null, Dictionary<string, string>? tags = null, long? startTime = null) =>
        (string)(await PostAsync("/api/v1/runs", new { experimentId, name, parentRunId = parent, user, tags, startTime }))["runId"]!;

    public Task BatchAsync(string runId, object batch) => PostAsync($"/api/v1/runs/{runId}/batch", batch);

    public Task EndAsync(string runId, string status) => PatchAsync($"/api/v1/runs/{runId}", new { status });

    public async Task PatchAsync(string path, object body)
    {
        using var req = new HttpRequestMessage(HttpMethod.Patch, path) { Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
        using var res = await http.SendAsync(req);
        if (!res.IsSuccessStatusCode) throw new InvalidOperationException($"PATCH {path}: {(int)res.StatusCode} {await res.Content.ReadAsStringAsync()}");
    }

    public async Task<JsonNode> UploadAsync(string name, string type, byte[] content, object? metadata = null, string? runId = null,
        string contentType = "application/octet-stream", string? project = null)
    {
        var q = $"name={Uri.EscapeDataString(name)}&type={type}";
        if (project is not null) q += "&project=" + Uri.EscapeDataString(project);
        if (metadata is not null) q += "&metadata=" + Uri.EscapeDataString(System.Text.Json.JsonSerializer.Serialize(metadata));
        if (runId is not null) q += "&runId=" + runId;
        var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var res = await http.PostAsync("/api/v1/artifacts/upload?" + q, body);
        var text = await res.Content.ReadAsStringAsync();
        if (!res.IsSuccessStatusCode) throw new InvalidOperationException($"upload {name}: {(int)res.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }
}

/// <summary>
/// A server with a small, known world, shared by the page tests:
/// experiment "churn" (a "sweep" parent with three trials, a failed "baseline"), artifacts with versions,
/// aliases and previewable files, and the chain sales v1 → trial-1 → churn-model v1 → evaluate → eval-report v1.
/// </summary>
public sealed class UiWorld : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;
    public ApiWriter Api { get; private set; } = null!;
    public string ExperimentId { get; private set; } = "";
    public string SweepId { get; private set; } = "";
    public List<string> TrialIds { get; } = [];
    public string BaselineId { get; private set; } = "";
    public string LongRunId { get; private set; } = "";

    /// <summary>A valid 1×1 PNG.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        Api = new ApiWriter(Server.Http);
        ExperimentId = await Api.ExperimentAsync("churn", "Churn prediction experiments");
        await Api.ExperimentAsync("fraud");

        var t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000;
        SweepId = await Api.RunAsync(ExperimentId, "sweep", user: "alice", startTime: t0);
        var lrs = new[] { "0.1", "0.01", "0.001" };
        for (var i = 0; i < 3; i++)
        {
            var id = await Api.RunAsync(ExperimentId, $"trial-{i + 1}", parent: SweepId, user: "alice", startTime: t0 + (i + 1) * 1000,
                tags: new() { ["lineage.host"] = "gpu-box-7", ["lineage.source.git.commit"] = "abc123", ["stage"] = "dev" });
            var points = Enumerable.Range(0, 50).Select(s => new { key = "loss", value = 1.0 / (s + 1) + i * 0.1, step = s })
                .Concat(Enumerable.Range(0, 50).Select(s => new { key = "accuracy", value = 0.5 + s * 0.008 - i * 0.05, step = s }));
            await Api.BatchAsync(id, new
            {
                @params = new[] { new { key = "lr", value = lrs[i] }, new { key = "depth", value = "6" }, new { key = "optimizer", value = i == 2 ? "sgd" : "adam" } },
                metrics = points,
            });
            await Api.EndAsync(id, "FINISHED");
            TrialIds.Add(id);
        }
        await Api.EndAsync(SweepId, "FINISHED");
        BaselineId = await Api.RunAsync(ExperimentId, "baseline", user: "bob", startTime: t0 + 10_000);
        await Api.BatchAsync(BaselineId, new { @params = new[] { new { key = "lr", value = "0.5" } }, metrics = new[] { new { key = "loss", value = 2.5, step = 0 } } });
        await Api.EndAsync(BaselineId, "FAILED");

        // Artifacts: two versions of a CSV dataset with a schema, an alias, files of every preview kind.
        await Api.UploadAsync("sales", "dataset", Encoding.UTF8.GetBytes("region,amount\nnorth,10\nsouth,20\n"),
            new { rows = 2, source = "warehouse", schema = new { region = "string", amount = "int" } });
        await Api.UploadAsync("sales", "dataset", Encoding.UTF8.GetBytes("region,amount,currency\nnorth,10,EUR\nsouth,20,EUR\neast,5,USD\n"),
            new { rows = 3, source = "warehouse", schema = new { region = "string", amount = "int", currency = "string" } });
        await Api.PutAsync("/api/v1/artifacts/sales/aliases/production", new { version = 1 });

        var trial1 = TrialIds[0];
        await Api.PostAsync($"/api/v1/runs/{trial1}/inputs", new { artifact = new { name = "sales", version = "1" }, role = "training_data" });
        await Api.UploadAsync("churn-model", "model", Encoding.UTF8.GetBytes("weights"), new { framework = "xgboost" }, trial1);
        await Api.UploadAsync("train-config", "config", Encoding.UTF8.GetBytes("{\"lr\":0.1,\"layers\":[64,32]}"), runId: trial1);
        await Api.UploadAsync("loss-plot", "report", Png, runId: trial1);
        await Api.UploadAsync("train-notes", "report", Encoding.UTF8.GetBytes("converged after 50 steps\nno warnings\n"), runId: trial1);
        await Api.UploadAsync("eval-bundle", "report", Tar(("summary.json", "{\"auc\":0.91}"), ("scores.csv", "id,score\n1,0.9\n2,0.4\n"), ("README.txt", "scores per customer\n")),
            contentType: "application/x-tar");
        var report = await Api.UploadAsync("eval-report", "report", Encoding.UTF8.GetBytes("auc: 0.91\n"));
        await Api.PostAsync("/api/v1/executions", new
        {
            type = "evaluation", name = "evaluate", state = "COMPLETE",
            inputs = new[] { new { artifact = new { name = "churn-model", version = "1" }, role = "model" } },
            outputs = new[] { new { artifact = new { name = "eval-report", version = (string)report["version"]!.ToString() }, role = "report" } },
        });
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private static byte[] Tar(params (string Path, string Text)[] files)
    {
        using var ms = new MemoryStream();
        using (var tar = new System.Formats.Tar.TarWriter(ms, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
            foreach (var (path, text) in files)
                tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, path)
                    { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
        return ms.ToArray();
    }
}
