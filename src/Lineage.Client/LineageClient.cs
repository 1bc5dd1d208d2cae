using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;

namespace Lineage.Client;

/// <summary>
/// Typed client for the native API (<c>/api/v1</c>). Thread-safe; create one per server and
/// reuse it. Every failure is a <see cref="LineageApiException"/> with the server's error code.
/// For tracking a training job use <see cref="StartRunAsync"/>, which buffers logging.
/// </summary>
public sealed partial class LineageClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <param name="baseAddress">Server root, e.g. <c>http://127.0.0.1:5000</c>.</param>
    /// <param name="http">Optional HttpClient to use (its BaseAddress is ignored); the caller keeps ownership.</param>
    public LineageClient(Uri baseAddress, HttpClient? http = null)
    {
        BaseAddress = new Uri(baseAddress.ToString().TrimEnd('/') + "/");
        _ownsHttp = http is null;
        // No overall timeout on the HttpClient: transfers of large artifacts take as long as they take.
        // Ordinary calls get RequestTimeout each (see SendRawAsync).
        _http = http ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public LineageClient(string baseAddress) : this(new Uri(baseAddress)) { }

    public Uri BaseAddress { get; }

    /// <summary>API token sent as <c>Authorization: Bearer</c> (servers with authentication on); default <c>$LINEAGE_TOKEN</c>.</summary>
    public string? Token { get; init; } = Environment.GetEnvironmentVariable("LINEAGE_TOKEN") is { Length: > 0 } token ? token : null;
    /// <summary>
    /// Who an open server (no users) records as the actor of changes and approvals (the <c>Lineage-User</c>
    /// header). Defaults to the OS user. A server with authentication uses the token's principal instead.
    /// </summary>
    public string User { get; init; } = Environment.UserName;

    /// <summary>Limit for one API call other than content transfers.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(100);

    // ---- health -----------------------------------------------------------------------

    public Task<HealthResponse> HealthAsync(CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "health", null, LineageJson.Default.HealthResponse, ct: ct);

    public Task<HealthResponse> ReadyAsync(CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "ready", null, LineageJson.Default.HealthResponse, ct: ct);

    // ---- projects ---------------------------------------------------------------------

    public Task<ProjectDto> CreateProjectAsync(string name, string? description = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/projects", Json(new CreateProjectRequest(name, description), LineageJson.Default.CreateProjectRequest),
            LineageJson.Default.ProjectDto, ct: ct);

    public async Task<IReadOnlyList<ProjectDto>> ListProjectsAsync(CancellationToken ct = default) =>
        (await SendAsync(HttpMethod.Get, "api/v1/projects", null, LineageJson.Default.ProjectListResponse, ct: ct)).Projects;

    // ---- experiments ------------------------------------------------------------------

    public Task<ExperimentDto> CreateExperimentAsync(string name, string? project = null, string? description = null,
        IDictionary<string, string>? tags = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/experiments",
            Json(new CreateExperimentRequest(name, project, description, tags is null ? null : new(tags)), LineageJson.Default.CreateExperimentRequest),
            LineageJson.Default.ExperimentDto, ct: ct);

    public Task<ExperimentDto> GetExperimentAsync(string id, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/experiments/{Esc(id)}", null, LineageJson.Default.ExperimentDto, ct: ct);

    public Task<ExperimentDto> GetExperimentByNameAsync(string name, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/experiments/by-name" + QueryString(("name", name), ("project", project)), null,
            LineageJson.Default.ExperimentDto, ct: ct);

    /// <param name="lifecycle">active (default), deleted or all.</param>
    public Task<ExperimentListResponse> ListExperimentsAsync(string? project = null, string? lifecycle = null, string? nameContains = null,
        int? limit = null, string? pageToken = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/experiments" + QueryString(("project", project), ("lifecycle", lifecycle),
                ("nameContains", nameContains), ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("pageToken", pageToken)),
            null, LineageJson.Default.ExperimentListResponse, ct: ct);

    public Task<ExperimentDto> UpdateExperimentAsync(string id, string? name = null, string? description = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Patch, $"api/v1/experiments/{Esc(id)}",
            Json(new UpdateExperimentRequest(name, description), LineageJson.Default.UpdateExperimentRequest), LineageJson.Default.ExperimentDto, ct: ct);

    public Task<ExperimentDto> DeleteExperimentAsync(string id, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/experiments/{Esc(id)}", null, LineageJson.Default.ExperimentDto, ct: ct);

    public Task<ExperimentDto> RestoreExperimentAsync(string id, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/experiments/{Esc(id)}/restore", null, LineageJson.Default.ExperimentDto, ct: ct);

    public Task SetExperimentTagAsync(string id, string key, string value, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/experiments/{Esc(id)}/tags", Json(new SetTagRequest(key, value), LineageJson.Default.SetTagRequest), ct: ct);

    public Task DeleteExperimentTagAsync(string id, string key, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/experiments/{Esc(id)}/tags/{EscPath(key)}", null, ct: ct);

    // ---- runs -------------------------------------------------------------------------

    public Task<RunDto> CreateRunAsync(CreateRunRequest request, string? idempotencyKey = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/runs", Json(request, LineageJson.Default.CreateRunRequest), LineageJson.Default.RunDto, idempotencyKey, ct);

    public Task<RunDto> GetRunAsync(string runId, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/runs/{Esc(runId)}", null, LineageJson.Default.RunDto, ct: ct);

    /// <param name="experimentIds">Runs of these experiments (all experiments when empty).</param>
    /// <param name="lifecycle">active (default), deleted or all.</param>
    public Task<RunListResponse> ListRunsAsync(IEnumerable<string>? experimentIds = null, string? status = null, string? lifecycle = null,
        string? parentRunId = null, string? user = null, int? limit = null, string? pageToken = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/runs" + QueryString(
                ("experimentId", experimentIds is null ? null : string.Join(',', experimentIds)), ("status", status), ("lifecycle", lifecycle),
                ("parentRunId", parentRunId), ("user", user), ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("pageToken", pageToken)),
            null, LineageJson.Default.RunListResponse, ct: ct);

    public Task<RunDto> UpdateRunAsync(string runId, UpdateRunRequest update, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Patch, $"api/v1/runs/{Esc(runId)}", Json(update, LineageJson.Default.UpdateRunRequest), LineageJson.Default.RunDto, ct: ct);

    public Task<RunDto> DeleteRunAsync(string runId, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/runs/{Esc(runId)}", null, LineageJson.Default.RunDto, ct: ct);

    public Task<RunDto> RestoreRunAsync(string runId, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/runs/{Esc(runId)}/restore", null, LineageJson.Default.RunDto, ct: ct);

    public Task LogMetricAsync(string runId, string key, double value, long step = 0, long? timestamp = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/runs/{Esc(runId)}/metrics",
            Json(new LogMetricRequest(key, value, step, timestamp), LineageJson.Default.LogMetricRequest), ct: ct);

    public Task LogParamAsync(string runId, string key, string value, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/runs/{Esc(runId)}/params", Json(new LogParamRequest(key, value), LineageJson.Default.LogParamRequest), ct: ct);

    public Task SetTagAsync(string runId, string key, string value, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/runs/{Esc(runId)}/tags", Json(new SetTagRequest(key, value), LineageJson.Default.SetTagRequest), ct: ct);

    public Task DeleteTagAsync(string runId, string key, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/runs/{Esc(runId)}/tags/{EscPath(key)}", null, ct: ct);

    /// <summary>
    /// Writes metrics, params and tags in one all-or-nothing request (at most 10,000 / 1,000 / 1,000).
    /// With an idempotency key the call is safe to retry: the server applies it once.
    /// </summary>
    public Task<BatchResponse> LogBatchAsync(string runId, BatchRequest batch, string? idempotencyKey = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/runs/{Esc(runId)}/batch", Json(batch, LineageJson.Default.BatchRequest),
            LineageJson.Default.BatchResponse, idempotencyKey, ct);

    /// <summary>One page of a metric's history in logged order (at most 100,000 points per page).</summary>
    public Task<MetricHistoryResponse> GetMetricHistoryAsync(string runId, string key, int? limit = null, string? pageToken = null,
        CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/runs/{Esc(runId)}/metrics/history" + QueryString(("key", key),
                ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("pageToken", pageToken)),
            null, LineageJson.Default.MetricHistoryResponse, ct: ct);

    /// <summary>The whole history of a metric, following pages.</summary>
    public async Task<List<HistoryPointDto>> GetFullMetricHistoryAsync(string runId, string key, CancellationToken ct = default)
    {
        var all = new List<HistoryPointDto>();
        string? token = null;
        do
        {
            var page = await GetMetricHistoryAsync(runId, key, 100_000, token, ct);
            all.AddRange(page.Points);
            token = page.NextPageToken;
        } while (token is not null);
        return all;
    }

    // ---- transport: every URL and error is built here ------------------------------------

    private static HttpContent Json<T>(T value, JsonTypeInfo<T> type) =>
        new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, type))
        {
            Headers = { ContentType = new MediaTypeHeaderValue("application/json") },
        };

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? body, JsonTypeInfo<T> resultType,
        string? idempotencyKey = null, CancellationToken ct = default, bool transfer = false)
    {
        using var response = await SendRawAsync(method, path, body, idempotencyKey, ct, transfer);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            return await JsonSerializer.DeserializeAsync(stream, resultType, ct)
                   ?? throw new LineageApiException(ErrorCode.InternalError, $"{method} {path}: empty answer", (int)response.StatusCode);
        }
        catch (JsonException ex)
        {
            throw new LineageApiException(ErrorCode.InternalError, $"{method} {path}: the answer is not the expected JSON ({ex.Message})",
                (int)response.StatusCode, inner: ex);
        }
    }

    private async Task SendAsync(HttpMethod method, string path, HttpContent? body, string? idempotencyKey = null, CancellationToken ct = default)
    {
        using var _ = await SendRawAsync(method, path, body, idempotencyKey, ct);
    }

    /// <summary>Who is calling: the token when there is one, else the OS user (trusted only by open servers).</summary>
    private void Authorize(HttpRequestMessage request)
    {
        request.Headers.Add("Lineage-User", User);
        if (Token is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, HttpContent? body, string? idempotencyKey,
        CancellationToken ct, bool transfer = false)
    {
        using var request = new HttpRequestMessage(method, new Uri(BaseAddress, path)) { Content = body };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        Authorize(request);
        HttpResponseMessage response;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (!transfer) timeout.CancelAfter(RequestTimeout);
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (HttpRequestException ex)
        {
            throw new LineageApiException(ErrorCode.Unavailable, $"cannot reach the Lineage server at {BaseAddress}: {ex.Message}", null, inner: ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new LineageApiException(ErrorCode.Unavailable, $"{method} {path} timed out after {RequestTimeout.TotalSeconds:0}s", null, inner: ex);
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            ErrorResponse? error = null;
            try
            {
                error = JsonSerializer.Deserialize(text, LineageJson.Default.ErrorResponse);
            }
            catch (JsonException)
            {
            }
            var code = ErrorCodes.FromWireName(error?.ErrorCode) ?? StatusToCode((int)response.StatusCode);
            throw new LineageApiException(code, error?.Message ?? $"{method} {path} answered {(int)response.StatusCode}: {Shorten(text)}",
                (int)response.StatusCode, error?.Field);
        }
    }

    private static ErrorCode StatusToCode(int status) => status switch
    {
        400 => ErrorCode.InvalidParameterValue,
        401 => ErrorCode.Unauthenticated,
        403 => ErrorCode.PermissionDenied,
        404 => ErrorCode.ResourceDoesNotExist,
        409 => ErrorCode.Conflict,
        413 => ErrorCode.PayloadTooLarge,
        429 => ErrorCode.RateLimited,
        503 => ErrorCode.Unavailable,
        _ => ErrorCode.InternalError,
    };

    private static string Esc(string segment) => Uri.EscapeDataString(segment);

    /// <summary>Keys may contain '/': escape each segment, keep the separators (routes take the rest of the path).</summary>
    private static string EscPath(string key) => string.Join('/', key.Split('/').Select(Uri.EscapeDataString));

    private static string QueryString(params (string Name, string? Value)[] pairs)
    {
        var sb = new StringBuilder();
        foreach (var (name, value) in pairs)
        {
            if (value is null) continue;
            sb.Append(sb.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
        return sb.ToString();
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }
}
