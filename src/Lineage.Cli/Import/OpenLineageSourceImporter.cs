using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lineage.Client;
using Lineage.Core.Errors;
using static Lineage.Cli.Import.TransientRetry;

namespace Lineage.Cli.Import;

/// <summary>
/// <c>lineage import openlineage --from URL</c> (issue 12, part 2): replays the raw OpenLineage events a Marquez-compatible
/// server keeps (<c>GET /api/v1/events/lineage</c>, Marquez's paging: <c>after</c> ≤ eventTime &lt; <c>before</c>, <c>limit</c>,
/// <c>offset</c>, <c>sortDirection</c>) into the target's ingestion, oldest first.
/// <para>
/// Resumable: the position is a cursor — the millisecond of the last event sent and how many events of that millisecond were
/// sent — written to a state file after every event; the next page is asked for from that millisecond with that offset, so
/// the source's paging never has to be stable across a whole import, only within one millisecond. Idempotent: the target
/// recognises an event it holds (same run, type and time) and changes nothing, so events sent again after a crash between
/// sending and saving, or with <c>--restart</c>, are counted as repeats and not imported twice.
/// </para>
/// </summary>
public sealed class OpenLineageSourceImporter(LineageClient target, HttpClient source, Uri sourceUri, string? project, string statePath, int pageSize)
{
    /// <summary>How often a transient failure (no answer, 429, 5xx) of one request is tried before the import stops.</summary>

    public async Task<OpenLineageSourceReport> RunAsync(bool restart, Action<long, long> progress, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var identity = $"{sourceUri.AbsoluteUri.TrimEnd('/')} -> {target.BaseAddress.AbsoluteUri.TrimEnd('/')} project {project ?? "default"}";
        var state = restart ? null : await LoadAsync(statePath, identity, ct);
        var resumedAt = state?.Sent ?? 0;
        state ??= new SourceImportState(identity, null, 0, 0, []);
        var (read, imported, repeats) = (0L, 0L, 0L);
        var executions = new HashSet<string>(StringComparer.Ordinal);
        long? total = null;
        // Keys are made per import: a retry within it is answered from the target's idempotency store, while an event sent by
        // an earlier import is sent anew and recognised by the target as a repeat (a replayed answer would not say so).
        var nonce = Guid.NewGuid().ToString("N");
        while (true)
        {
            var offset = state.AtAfter;
            var page = await PageAsync(state.AfterMs, offset, ct);
            // The window from the cursor on holds what is left plus the events of the cursor's millisecond sent already.
            total ??= read + page.TotalCount - state.AtAfter;
            foreach (var e in page.Events)
            {
                read++;
                var raw = e.GetRawText();
                var key = "ol-import-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(nonce + raw)));
                try
                {
                    var answer = await Retry(() => target.IngestOpenLineageAsync(raw, project, key, ct), ct);
                    if (answer.Repeat) repeats++;
                    else imported++;
                    executions.Add(answer.ExecutionId);
                }
                catch (LineageApiException ex) when (!ex.IsTransient)
                {
                    state.Rejected.Add(new RejectedSourceEvent(Describe(e), ex.Code.WireName(), ex.Message));
                }
                // An event without a readable time stays in the cursor's millisecond: the source placed it there.
                var ms = EventTimeMs(e) ?? state.AfterMs;
                state = ms == state.AfterMs ? state with { AtAfter = state.AtAfter + 1, Sent = state.Sent + 1 }
                    : state with { AfterMs = ms, AtAfter = 1, Sent = state.Sent + 1 };
                await SaveAsync(statePath, state, ct);
                progress(read, Math.Max(read, total.Value));
            }
            // The end: an empty page, or one that reached the end of the window it counted (a source may cap the page size
            // below ours, so a short page alone does not say it; a count that includes events it does not list costs one more request).
            if (page.Events.Count == 0 || offset + page.Events.Count >= page.TotalCount) break;
        }
        return new OpenLineageSourceReport(sourceUri.AbsoluteUri.TrimEnd('/'), read, imported, repeats, resumedAt, executions.Count, state.Rejected,
            Math.Round(watch.Elapsed.TotalSeconds, 3), Path.GetFullPath(statePath));
    }

    private sealed record Page(List<JsonElement> Events, long TotalCount);

    /// <summary>One page of the source's events from the cursor on, oldest first.</summary>
    private async Task<Page> PageAsync(long? afterMs, int offset, CancellationToken ct)
    {
        var query = new StringBuilder($"api/v1/events/lineage?sortDirection=asc&limit={pageSize}&offset={offset}");
        if (afterMs is { } ms)
            query.Append("&after=").Append(Uri.EscapeDataString(DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)));
        var uri = new Uri(sourceUri, query.ToString());
        return await Retry(async () =>
        {
            HttpResponseMessage response;
            try
            {
                response = await source.GetAsync(uri, ct);
            }
            catch (HttpRequestException ex)
            {
                throw new LineageApiException(ErrorCode.Unavailable, $"cannot reach {sourceUri}: {ex.Message}", null, inner: ex);
            }
            catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
            {
                throw new LineageApiException(ErrorCode.Unavailable, $"GET {uri} timed out", null, inner: ex);
            }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(ct);
                var status = (int)response.StatusCode;
                if (!response.IsSuccessStatusCode)
                    throw new LineageApiException(status switch
                    {
                        404 => ErrorCode.ResourceDoesNotExist,
                        401 => ErrorCode.Unauthenticated,
                        403 => ErrorCode.PermissionDenied,
                        429 or >= 500 => ErrorCode.Unavailable,
                        _ => ErrorCode.InvalidParameterValue,
                    }, $"GET {uri.AbsolutePath} on the source: {status} {(text.Length <= 200 ? text : text[..200] + "...")}" +
                       (status == 404 ? " (does the source serve Marquez's /api/v1/events/lineage?)" : ""), status);
                try
                {
                    using var document = JsonDocument.Parse(text);
                    var root = document.RootElement;
                    if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array)
                        throw new JsonException("no \"events\" list");
                    var total = root.TryGetProperty("totalCount", out var t) && t.TryGetInt64(out var n) ? n : events.GetArrayLength();
                    return new Page(events.EnumerateArray().Select(e => e.Clone()).ToList(), total);
                }
                catch (JsonException ex)
                {
                    throw new LineageApiException(ErrorCode.InvalidParameterValue,
                        $"GET {uri.AbsolutePath} on the source: the answer is not Marquez's {{\"events\": [...], \"totalCount\": N}} ({ex.Message})", status, inner: ex);
                }
            }
        }, ct);
    }

    /// <summary>The event's time as whole milliseconds (rounded down, as the target stores it), or null when it has none.</summary>
    private static long? EventTimeMs(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("eventTime", out var t) && t.ValueKind == JsonValueKind.String
        && DateTimeOffset.TryParse(t.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUnixTimeMilliseconds() : null;

    /// <summary>How a rejected event is named in the report: its run, type and time.</summary>
    private static string Describe(JsonElement e)
    {
        string? Text(JsonElement parent, string name) =>
            parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var run = e.ValueKind == JsonValueKind.Object && e.TryGetProperty("run", out var r) ? Text(r, "runId") : null;
        return $"run {run ?? "?"} {Text(e, "eventType") ?? "?"} at {Text(e, "eventTime") ?? "?"}";
    }

    private static async Task<SourceImportState?> LoadAsync(string path, string identity, CancellationToken ct)
    {
        if (!File.Exists(path)) return null;
        SourceImportState? state;
        try
        {
            state = JsonSerializer.Deserialize(await File.ReadAllTextAsync(path, ct), OpenLineageSourceJson.Default.SourceImportState);
        }
        catch (JsonException ex)
        {
            throw LineageException.Invalid("--state", $"'{path}' is not an import state file ({ex.Message}); delete it to start over");
        }
        if (state is null || state.Import != identity)
            throw LineageException.Invalid("--state", $"'{path}' belongs to another import ({state?.Import}); name another --state file");
        return state;
    }

    /// <summary>Written to a temp file and moved over the old one: an interruption never leaves half a state.</summary>
    private static async Task SaveAsync(string path, SourceImportState state, CancellationToken ct)
    {
        var temp = path + ".tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(state, OpenLineageSourceJson.Default.SourceImportState), ct);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>An HTTP client for the source, with its bearer token when one is given.</summary>
    public static HttpClient SourceClient(string? token)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}

/// <summary>
/// Where an import from a source stopped: the millisecond of the last event sent (<c>AfterMs</c>), how many events of that
/// millisecond were sent (the next page's offset), how many were sent in all, and the events the target rejected.
/// </summary>
public sealed record SourceImportState(string Import, long? AfterMs, int AtAfter, long Sent, List<RejectedSourceEvent> Rejected);

public sealed record RejectedSourceEvent(string Event, string Code, string Message);

/// <summary>The final report of <c>lineage import openlineage --from</c>.</summary>
public sealed record OpenLineageSourceReport(string Source, long Read, long Imported, long Repeats, long SentBefore, int Executions,
    List<RejectedSourceEvent> Rejected, double Seconds, string State);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SourceImportState))]
[JsonSerializable(typeof(OpenLineageSourceReport))]
internal sealed partial class OpenLineageSourceJson : JsonSerializerContext;
