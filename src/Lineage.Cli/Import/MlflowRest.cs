using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Lineage.Client;
using Lineage.Core.Errors;

namespace Lineage.Cli.Import;

/// <summary>
/// A small client for MLflow's REST API (2.x and 3.x tracking servers, and Lineage's MLflow-compatible API). The importer
/// reads its source with it, and uses it on the target only for what is MLflow-shaped by nature: dataset inputs, files in
/// the artifact proxy, and model versions created from an MLflow source URI — Lineage's own mapping of those (docs/mlflow.md)
/// then applies exactly as if the MLflow client had logged them. Answers are <see cref="JsonNode"/>s: the two major
/// versions differ in optional fields, and protobuf JSON sends int64 as numbers or strings.
/// Errors are <see cref="LineageApiException"/>s, so one retry rule covers both ends.
/// </summary>
public sealed class MlflowRest : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _prefix;

    /// <param name="project">On a Lineage target: the project whose MLflow API to use (<c>/projects/&lt;name&gt;/api/2.0/…</c>).</param>
    public MlflowRest(Uri baseAddress, string? token = null, string? project = null, HttpMessageHandler? handler = null)
    {
        BaseAddress = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.Timeout = TimeSpan.FromMinutes(10);
        if (token is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _prefix = project is null or "default" ? "" : $"projects/{Uri.EscapeDataString(project)}/";
    }

    public Uri BaseAddress { get; }

    public Task<JsonNode> GetAsync(string route, CancellationToken ct, params (string Name, string? Value)[] query) =>
        SendAsync(HttpMethod.Get, $"{_prefix}api/2.0/mlflow/{route}{Query(query)}", null, null, ct);

    public Task<JsonNode> PostAsync(string route, JsonObject body, CancellationToken ct, string? idempotencyKey = null) =>
        SendAsync(HttpMethod.Post, $"{_prefix}api/2.0/mlflow/{route}", body, idempotencyKey, ct);

    /// <summary>Every page of a search, following <c>next_page_token</c>; <paramref name="items"/> names the list in each answer.</summary>
    public async Task<List<JsonNode>> SearchAllAsync(string route, JsonObject body, string items, CancellationToken ct)
    {
        var all = new List<JsonNode>();
        string? token = null;
        do
        {
            var page = (JsonObject)body.DeepClone();
            if (token is not null) page["page_token"] = token;
            var answer = await PostAsync(route, page, ct);
            if (answer[items] is JsonArray list) all.AddRange(list.Select(n => n!));
            token = Str(answer["next_page_token"]);
        } while (!string.IsNullOrEmpty(token));
        return all;
    }

    /// <summary>Every page of a GET search (the registry's searches are GET-only on MLflow).</summary>
    public async Task<List<JsonNode>> SearchAllGetAsync(string route, string items, CancellationToken ct, params (string Name, string? Value)[] query)
    {
        var all = new List<JsonNode>();
        string? token = null;
        do
        {
            var answer = await GetAsync(route, ct, [.. query, ("page_token", token)]);
            if (answer[items] is JsonArray list) all.AddRange(list.Select(n => n!));
            token = Str(answer["next_page_token"]);
        } while (!string.IsNullOrEmpty(token));
        return all;
    }

    /// <summary>A metric's whole history in logged order (servers that page it are followed; 2.x answers in one page).</summary>
    public async Task<List<HistoryPoint>> MetricHistoryAsync(string runId, string key, CancellationToken ct)
    {
        var all = new List<HistoryPoint>();
        string? token = null;
        do
        {
            token = await ReadHistoryAsync($"{_prefix}api/2.0/mlflow/metrics/get-history{Query([("run_id", runId), ("metric_key", key), ("page_token", token)])}",
                all, ct);
        } while (!string.IsNullOrEmpty(token));
        return all;
    }

    /// <summary>MLflow's cap on the points one <c>get-history-bulk</c> answer holds, and on the runs one request names.</summary>
    public const int BulkMaxPoints = 25_000, BulkMaxRuns = 100;

    /// <summary>
    /// One metric's history for many runs in one request (the UI's <c>/ajax-api/2.0/mlflow/metrics/get-history-bulk</c>,
    /// served by MLflow 2.x and 3.x). The answer holds at most <see cref="BulkMaxPoints"/> points in all, run by run in
    /// run-id order, so only runs that ended before the cut are complete: they are returned; the caller reads the
    /// others one by one. Null when the server does not serve the route.
    /// </summary>
    public async Task<Dictionary<string, List<HistoryPoint>>?> BulkHistoryAsync(IReadOnlyList<string> runIds, string key, CancellationToken ct)
    {
        var points = new List<HistoryPoint>();
        try
        {
            var query = runIds.Select(id => ("run_id", (string?)id)).Append(("metric_key", key)).Append(("max_results", BulkMaxPoints.ToString(CultureInfo.InvariantCulture)));
            await ReadHistoryAsync($"{_prefix}ajax-api/2.0/mlflow/metrics/get-history-bulk{Query([.. query])}", points, ct);
        }
        catch (LineageApiException ex) when (ex.HttpStatus is 404 or 405 or 501)
        {
            return null;
        }
        var byRun = new Dictionary<string, List<HistoryPoint>>(StringComparer.Ordinal);
        string? last = null;
        foreach (var p in points)
        {
            if (p.RunId is not { } run) continue;
            if (!byRun.TryGetValue(run, out var list)) byRun[run] = list = [];
            list.Add(p);
            last = run;
        }
        if (points.Count >= BulkMaxPoints && last is not null) byRun.Remove(last); // possibly cut short
        return byRun;
    }

    /// <summary>
    /// Reads a history answer (<c>{"metrics": [{key, value, step, timestamp, run_id}…], "next_page_token"}</c>) straight from
    /// its bytes into <paramref name="into"/>, returning the next page token. Histories are nearly all of an import's bytes:
    /// a tree of JSON nodes per point cost more than everything else the importer does.
    /// </summary>
    private async Task<string?> ReadHistoryAsync(string path, List<HistoryPoint> into, CancellationToken ct)
    {
        using var response = await SendRawAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(BaseAddress, path)), ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        try
        {
            return HistoryPoint.ReadAnswer(bytes, into);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or InvalidOperationException)
        {
            throw new LineageApiException(ErrorCode.InternalError, $"GET {BaseAddress}{path}: the answer is not a metric history ({ex.Message})",
                (int)response.StatusCode, inner: ex);
        }
    }

    /// <summary>Every file under a run's artifact root (recursive <c>artifacts/list</c>), with the root URI.</summary>
    public async Task<(string? Root, List<(string Path, long Size)> Files)> ListArtifactsAsync(string runId, CancellationToken ct)
    {
        var files = new List<(string, long)>();
        string? root = null;
        var folders = new Queue<string>([""]);
        while (folders.TryDequeue(out var folder))
        {
            var answer = await GetAsync("artifacts/list", ct, ("run_id", runId), ("path", folder.Length == 0 ? null : folder));
            root ??= Str(answer["root_uri"]);
            if (answer["files"] is not JsonArray list) continue;
            foreach (var f in list)
            {
                var path = Str(f!["path"])!;
                if (f["is_dir"]?.GetValue<bool>() == true) folders.Enqueue(path);
                else files.Add((path, Long(f["file_size"]) ?? 0));
            }
        }
        return (root, files);
    }

    /// <summary>
    /// Opens one artifact file of a run: through the artifact proxy when the root is <c>mlflow-artifacts:/</c>, else through
    /// the UI download route, which serves whatever store the server itself can read.
    /// </summary>
    public Task<HttpResponseMessage> OpenArtifactAsync(string runId, string? root, string path, CancellationToken ct)
    {
        var uri = root is not null && root.StartsWith(ProxyScheme, StringComparison.Ordinal)
            ? $"{_prefix}api/2.0/mlflow-artifacts/artifacts/{EscPath(root[ProxyScheme.Length..].Trim('/') + "/" + path)}"
            : $"get-artifact{Query([("path", path), ("run_uuid", runId)])}";
        return SendRawAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(BaseAddress, uri)), ct);
    }

    /// <summary>Stores one file in the artifact proxy under <paramref name="root"/> (a <c>mlflow-artifacts:/</c> URI).</summary>
    public async Task PutArtifactAsync(string root, string path, Stream content, long size, CancellationToken ct)
    {
        if (!root.StartsWith(ProxyScheme, StringComparison.Ordinal))
            throw LineageException.Invalid("artifact_uri", $"the target's artifact root '{root}' is not served by its artifact proxy");
        var request = new HttpRequestMessage(HttpMethod.Put,
            new Uri(BaseAddress, $"{_prefix}api/2.0/mlflow-artifacts/artifacts/{EscPath(root[ProxyScheme.Length..].Trim('/') + "/" + path)}"))
        {
            Content = new StreamContent(content) { Headers = { ContentLength = size, ContentType = new MediaTypeHeaderValue("application/octet-stream") } },
        };
        using var _ = await SendRawAsync(request, ct);
    }

    public const string ProxyScheme = "mlflow-artifacts:/";

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonObject? body, string? idempotencyKey, CancellationToken ct)
    {
        var request = new HttpRequestMessage(method, new Uri(BaseAddress, path));
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await SendRawAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            return JsonNode.Parse(text.Length == 0 ? "{}" : text) ?? new JsonObject();
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new LineageApiException(ErrorCode.InternalError, $"{method} {BaseAddress}{path}: the answer is not JSON ({ex.Message})",
                (int)response.StatusCode, inner: ex);
        }
    }

    /// <summary>Sends and returns a successful answer; a failure becomes a <see cref="LineageApiException"/> with MLflow's error code.</summary>
    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        {
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            }
            catch (HttpRequestException ex)
            {
                throw new LineageApiException(ErrorCode.Unavailable, $"cannot reach {BaseAddress}: {ex.Message}", null, inner: ex);
            }
            catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
            {
                throw new LineageApiException(ErrorCode.Unavailable, $"{request.Method} {request.RequestUri} timed out", null, inner: ex);
            }
            if (response.IsSuccessStatusCode) return response;
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(ct);
                string? code = null, message = null;
                try
                {
                    var error = JsonNode.Parse(text);
                    code = Str(error?["error_code"]);
                    message = Str(error?["message"]);
                }
                catch (System.Text.Json.JsonException)
                {
                }
                var status = (int)response.StatusCode;
                var mapped = ErrorCodes.FromWireName(code) ?? status switch
                {
                    404 => ErrorCode.ResourceDoesNotExist,
                    409 => ErrorCode.Conflict,
                    401 => ErrorCode.Unauthenticated,
                    403 => ErrorCode.PermissionDenied,
                    429 or >= 500 => ErrorCode.Unavailable,
                    _ => ErrorCode.InvalidParameterValue,
                };
                var shown = message ?? (text.Length <= 200 ? text : text[..200] + "...");
                throw new LineageApiException(mapped, $"{request.Method} {request.RequestUri!.AbsolutePath}: {status} {shown}", status);
            }
        }
    }

    private static string Query((string Name, string? Value)[] pairs)
    {
        var parts = pairs.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    private static string EscPath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    // ---- protobuf JSON readers ------------------------------------------------------------

    public static string? Str(JsonNode? node) => node is JsonValue v ? v.ToString() : null;

    /// <summary>int64 fields arrive as numbers (MLflow's Python) or strings (protobuf JSON); both are read.</summary>
    public static long? Long(JsonNode? node) =>
        node is JsonValue v && long.TryParse(v.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;

    /// <summary>A protobuf list of <c>{key, value}</c> as a dictionary (later entries win).</summary>
    public static Dictionary<string, string> KeyValues(JsonNode? list)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (list is JsonArray array)
            foreach (var kv in array)
                if (Str(kv?["key"]) is { } key) map[key] = Str(kv!["value"]) ?? "";
        return map;
    }

    public void Dispose() => _http.Dispose();
}
