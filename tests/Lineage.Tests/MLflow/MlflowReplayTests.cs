using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lineage.Tests.Support;

namespace Lineage.Tests.MLflow;

/// <summary>
/// Replays the recorded traffic of a real MLflow 2.12.2 server (tests/Lineage.Tests/Fixtures/mlflow, all
/// files merged and sorted by seq) against a real Lineage server over loopback, and compares every
/// answer: the status, and the JSON body field by field. Values that differ between recordings are
/// compared by shape (see the fixtures' README): run ids are mapped from the recording to ours as
/// they appear (and substituted into later requests), server-set timestamps and generated run names
/// must only have the right type, page tokens are mapped like ids, and lists MLflow does not order
/// (tags, params, latest metrics, dataset inputs) are compared as multisets.
/// </summary>
public abstract partial class MlflowReplayTests : IAsyncLifetime
{
    protected TestServer Server = null!;

    protected abstract bool Postgres { get; }

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Postgres);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>
    /// Where Lineage deliberately answers differently from MLflow 2.12.2: MLflow bugs (a 500 or an
    /// odd code for a client mistake), and the query language's extensions. Keyed by record name.
    /// </summary>
    public static readonly Dictionary<string, (int Status, string? ErrorCode, string Why)> Deviations = new()
    {
        ["search-runs-or-unsupported"] = (200, null, "OR is an extension of the filter language"),
        ["search-runs-in-on-param-unsupported"] = (200, null, "IN works on every field, params included"),
        ["search-experiments-unknown-comparator"] = (400, "INVALID_PARAMETER_VALUE", "MLflow answers 500 for a client mistake"),
        ["proxy-get-missing-file"] = (404, "RESOURCE_DOES_NOT_EXIST", "MLflow answers 500 for a missing artifact"),
        ["proxy-get-directory"] = (404, "RESOURCE_DOES_NOT_EXIST", "MLflow answers 500 (HTML) for a GET of a folder"),
        ["proxy-delete-file"] = (200, null, "MLflow answers 500 when deleting a single file; Lineage deletes it"),
        ["rename-experiment-to-existing"] = (400, "RESOURCE_ALREADY_EXISTS", "MLflow answers BAD_REQUEST with SQL text"),
        ["create-run-without-experiment-id"] = (400, "INVALID_PARAMETER_VALUE", "MLflow answers BAD_REQUEST with SQL text"),
        ["create-run-bad-experiment-id-type"] = (400, "INVALID_PARAMETER_VALUE", "MLflow answers 404 with a Python repr for a wrongly typed id"),
        ["update-run-bad-status"] = (400, "INVALID_PARAMETER_VALUE", "MLflow silently ignores an unknown status"),
        ["search-runs-bad-view-type"] = (400, "INVALID_PARAMETER_VALUE", "MLflow silently ignores an unknown run_view_type"),
        ["unknown-endpoint-delete-experiment-tag"] = (200, null, "delete-experiment-tag exists in later MLflow versions and is served here"),
        ["model-version-get-artifact-runs-uri-source"] = (200, null, "MLflow answers 500 for a version whose source is runs:/; Lineage serves the file"),
    };

    public static List<JsonNode> Records() =>
        Directory.GetFiles(Path.Combine(RecordedFixtures.Root, "mlflow"), "*.jsonl")
            .SelectMany(File.ReadLines)
            .Where(l => l.Trim().Length > 0)
            .Select(l => JsonNode.Parse(l)!)
            .OrderBy(r => (int)r["seq"]!)
            .ToList();

    [Fact]
    public async Task recorded_mlflow_2_12_traffic_replays_with_the_same_answers()
    {
        var records = Records();
        Assert.Equal(465, records.Count);
        var replay = new Replayer(Server.Http);
        var failures = new List<string>();
        var replayed = 0;
        foreach (var record in records)
        {
            replayed++;
            failures.AddRange(await replay.RunAsync(record));
        }
        Assert.True(failures.Count == 0, $"{failures.Count} differences in {replayed} replayed exchanges:\n" + string.Join("\n", failures.Take(60)));
        Assert.Equal(465, replayed);
    }

    /// <summary>Sends recorded requests with recorded ids replaced by ours, and compares answers.</summary>
    private sealed partial class Replayer(HttpClient http)
    {
        private readonly Dictionary<string, string> _ids = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);

        public async Task<List<string>> RunAsync(JsonNode record)
        {
            var seq = (int)record["seq"]!;
            var name = (string)record["name"]!;
            var req = record["request"]!;
            var expected = record["response"]!;
            var method = new HttpMethod((string)req["method"]!);
            var path = Map((string)req["path"]!);
            var query = req["query_string"] is { } qs ? "?" + Map((string)qs!) : "";
            // Sent as recorded: no client-side folding of "/../" (the server must refuse such paths itself).
            var uri = new Uri(http.BaseAddress!, path + query);
            using var message = new HttpRequestMessage(method,
                new Uri(uri.GetLeftPart(UriPartial.Authority) + path + query, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
            var contentType = (string?)req["headers"]?["Content-Type"];
            byte[]? body = null;
            if (req["json"] is { } json) body = Encoding.UTF8.GetBytes(Map(MapExperiments(json.DeepClone()).ToJsonString(Relaxed)));
            else if (req["body_base64"] is { } b64) body = Convert.FromBase64String((string)b64!);
            else if (req["body_len"] is { } len) body = Enumerable.Range(0, (int)len!).Select(i => (byte)(i * 31 % 251)).ToArray();
            if (body is not null || contentType is not null)
            {
                message.Content = new ByteArrayContent(body ?? []);
                if (contentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }

            using var response = await http.SendAsync(message);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            var where = $"#{seq} {name} {req["method"]} {req["path"]}";
            var failures = new List<string>();
            var status = (int)response.StatusCode;
            var expectedStatus = (int)expected["status"]!;
            JsonNode? actual = null;
            if (response.Content.Headers.ContentType?.MediaType == "application/json" && bytes.Length > 0)
                actual = JsonNode.Parse(bytes);

            if (Deviations.TryGetValue(name, out var deviation))
            {
                if (status != deviation.Status) failures.Add($"{where}: status {status}, expected {deviation.Status} ({deviation.Why}); body {Text(bytes)}");
                else if (deviation.ErrorCode is not null && (string?)actual?["error_code"] != deviation.ErrorCode)
                    failures.Add($"{where}: error_code {(string?)actual?["error_code"]}, expected {deviation.ErrorCode}");
                return failures;
            }
            if (status != expectedStatus)
            {
                failures.Add($"{where}: status {status}, expected {expectedStatus}; body {Text(bytes)}");
                return failures;
            }
            if (expected["json"] is { } expectedJson)
            {
                if (actual is null) failures.Add($"{where}: expected JSON, got {Text(bytes)}");
                else Compare(expectedJson, actual, "$", failures, where, parentKey: null);
            }
            else if (expected["body_base64"] is { } eb && IsFileDownload(req))
            {
                if (!Convert.FromBase64String((string)eb!).AsSpan().SequenceEqual(bytes)) failures.Add($"{where}: downloaded bytes differ: {Text(bytes)}");
            }
            else if (expected["body_len"] is { } elen && IsFileDownload(req))
            {
                if (bytes.Length != (int)elen!) failures.Add($"{where}: downloaded {bytes.Length} bytes, expected {(int)elen!}");
            }
            else if (expected["body_base64"] is null && expected["body_len"] is null && IsFileDownload(req) && status == 200 && bytes.Length != 0)
                failures.Add($"{where}: expected an empty file, got {bytes.Length} bytes");
            return failures;
        }

        private JsonNode MapExperiments(JsonNode json)
        {
            if (json is JsonObject o)
            {
                if (o["experiment_id"] is JsonValue v && v.GetValueKind() == JsonValueKind.String && _experiments.TryGetValue((string)v!, out var id))
                    o["experiment_id"] = id;
                if (o["experiment_ids"] is JsonArray ids)
                    for (var i = 0; i < ids.Count; i++)
                        if (ids[i] is JsonValue e && e.GetValueKind() == JsonValueKind.String && _experiments.TryGetValue((string)e!, out var mapped))
                            ids[i] = mapped;
            }
            return json;
        }

        private static bool IsFileDownload(JsonNode req) =>
            (string)req["method"]! == "GET" && (((string)req["path"]!).StartsWith("/api/2.0/mlflow-artifacts/artifacts/") || ((string)req["path"]!).StartsWith("/get-artifact")
                                                || ((string)req["path"]!).StartsWith("/model-versions/get-artifact"));

        private static string Text(byte[] bytes) => bytes.Length > 400 ? Encoding.UTF8.GetString(bytes, 0, 400) + "…" : Encoding.UTF8.GetString(bytes);

        private string Map(string text)
        {
            foreach (var (recorded, ours) in _ids) text = text.Replace(recorded, ours, StringComparison.Ordinal);
            foreach (var (recorded, ours) in _tokens) text = text.Replace(recorded, ours, StringComparison.Ordinal);
            // Experiment times in filters are the recording server's clock: shift them onto ours.
            if (_anchors.Count > 0)
                text = ServerTimeFilter().Replace(text, m => $"{m.Groups[1].Value}{OurTime(long.Parse(m.Groups[2].Value))}");
            return text;
        }

        /// <summary>
        /// Recorded experiment times → ours, interpolated between anchors (the same experiment's
        /// recorded and replayed creation and update times), so a time between two recorded events
        /// lands between the same two events here.
        /// </summary>
        private readonly SortedDictionary<long, long> _anchors = new();

        private long OurTime(long recorded)
        {
            var points = _anchors.ToList();
            var after = points.FindIndex(p => p.Key >= recorded);
            if (after < 0) return recorded + (points[^1].Value - points[^1].Key);
            if (after == 0) return recorded + (points[0].Value - points[0].Key);
            var (r0, o0) = (points[after - 1].Key, points[after - 1].Value);
            var (r1, o1) = (points[after].Key, points[after].Value);
            return o0 + (long)Math.Round((double)(recorded - r0) * (o1 - o0) / Math.Max(1, r1 - r0));
        }

        private readonly Dictionary<string, string> _experiments = new(StringComparer.Ordinal);

        private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        private static readonly HashSet<string> ServerTimes =
            ["creation_time", "last_update_time", "start_time", "end_time", "creation_timestamp", "last_updated_timestamp"];
        private static readonly HashSet<string> Unordered = ["tags", "params", "metrics", "dataset_inputs", "files", "aliases", "latest_versions"];

        private void Compare(JsonNode? expected, JsonNode? actual, string path, List<string> failures, string where, string? parentKey)
        {
            switch (expected)
            {
                case JsonObject eo:
                {
                    if (actual is not JsonObject ao)
                    {
                        failures.Add($"{where}: {path} expected an object, got {actual?.ToJsonString() ?? "nothing"}");
                        return;
                    }
                    // Error messages are free text; MLflow's mention SQLAlchemy and Python reprs.
                    var isError = eo.ContainsKey("error_code");
                    if (eo.ContainsKey("experiment_id") && !eo.ContainsKey("run_id"))
                        foreach (var time in new[] { "creation_time", "last_update_time" })
                            if (eo[time] is JsonValue rec && ao[time] is JsonValue ours)
                                _anchors.TryAdd(rec.GetValue<long>(), ours.GetValue<long>());
                    foreach (var (key, value) in eo)
                    {
                        if (isError && key == "message") continue;
                        if (!ao.ContainsKey(key)) failures.Add($"{where}: {path}.{key} missing (expected {value?.ToJsonString()})");
                        else Compare(value, ao[key], $"{path}.{key}", failures, where, key);
                    }
                    foreach (var (key, value) in ao)
                        if (!eo.ContainsKey(key)) failures.Add($"{where}: {path}.{key} unexpected ({value?.ToJsonString()})");
                    return;
                }
                case JsonArray ea:
                {
                    if (actual is not JsonArray aa || aa.Count != ea.Count)
                    {
                        failures.Add($"{where}: {path} expected {ea.Count} items, got {actual?.ToJsonString()}");
                        return;
                    }
                    if (parentKey is not null && Unordered.Contains(parentKey))
                    {
                        var unused = aa.ToList();
                        foreach (var e in ea)
                        {
                            var match = unused.FirstOrDefault(a => Matches(e, a));
                            if (match is null) failures.Add($"{where}: {path} has no item matching {e?.ToJsonString()} in {aa.ToJsonString()}");
                            else
                            {
                                Compare(e, match, $"{path}[?]", failures, where, null);
                                unused.Remove(match);
                            }
                        }
                        return;
                    }
                    for (var i = 0; i < ea.Count; i++) Compare(ea[i], aa[i], $"{path}[{i}]", failures, where, parentKey);
                    return;
                }
                case JsonValue ev:
                    CompareValue(ev, actual, path, failures, where, parentKey);
                    return;
            }
        }

        private bool Matches(JsonNode? e, JsonNode? a)
        {
            var probe = new List<string>();
            Compare(e, a, "", probe, "", null);
            return probe.Count == 0;
        }

        private void CompareValue(JsonValue ev, JsonNode? actual, string path, List<string> failures, string where, string? key)
        {
            var e = ev.GetValueKind();
            if (e == JsonValueKind.String)
            {
                var es = (string)ev!;
                var a = actual is JsonValue av && av.GetValueKind() == JsonValueKind.String ? (string)av! : null;
                if (a is null)
                {
                    failures.Add($"{where}: {path} expected string {es}, got {actual?.ToJsonString()}");
                    return;
                }
                if (RunId().IsMatch(es) && RunId().IsMatch(a) && (key is "run_id" or "run_uuid"))
                {
                    if (_ids.TryGetValue(es, out var known)) { if (known != a) failures.Add($"{where}: {path} is {a}, expected {known} (mapped from {es})"); }
                    else _ids[es] = a;
                    return;
                }
                // Experiment ids are handed out in order, but PostgreSQL's identity skips a number
                // after a refused duplicate: learn the mapping like run ids.
                if (key is "experiment_id" && long.TryParse(es, out _) && long.TryParse(a, out _))
                {
                    if (_experiments.TryGetValue(es, out var known)) { if (known != a) failures.Add($"{where}: {path} is {a}, expected {known} (mapped from {es})"); }
                    else _experiments[es] = a;
                    return;
                }
                if (key is "next_page_token")
                {
                    // GET searches carry the token percent-encoded in the query string ("=" as %3D).
                    _tokens[Uri.EscapeDataString(es)] = Uri.EscapeDataString(a);
                    _tokens[es] = a;
                    return;
                }
                var mapped = Map(es);
                if (mapped == a) return;
                if (GeneratedName().IsMatch(es) && GeneratedName().IsMatch(a)) return;
                // JSON inside a string (model history, dataset source/schema): compare structurally.
                if (es.StartsWith('[') || es.StartsWith('{'))
                {
                    try
                    {
                        var ej = JsonNode.Parse(mapped);
                        var aj = JsonNode.Parse(a);
                        Compare(ej, aj, path + "(json)", failures, where, null);
                        return;
                    }
                    catch (JsonException)
                    {
                    }
                }
                if (es is "NaN" or "Infinity" or "-Infinity" && es == a) return;
                failures.Add($"{where}: {path} is \"{Short(a)}\", expected \"{Short(mapped)}\"");
                return;
            }
            if (e == JsonValueKind.Number)
            {
                var ed = ev.GetValue<double>();
                if (actual is JsonValue an && an.GetValueKind() == JsonValueKind.Number)
                {
                    if (key is not null && ServerTimes.Contains(key)) return; // server clock: shape only
                    if (an.GetValue<double>() != ed) failures.Add($"{where}: {path} is {an.ToJsonString()}, expected {ev.ToJsonString()}");
                    return;
                }
                // MLflow's SQL store returns ±inf as ±DBL_MAX; Lineage keeps real infinities.
                if (actual is JsonValue inf && inf.GetValueKind() == JsonValueKind.String
                    && ((ed == double.MaxValue && (string)inf! == "Infinity") || (ed == double.MinValue && (string)inf! == "-Infinity")))
                    return;
                failures.Add($"{where}: {path} expected number {ev.ToJsonString()}, got {actual?.ToJsonString()}");
                return;
            }
            if (actual?.ToJsonString() != ev.ToJsonString())
                failures.Add($"{where}: {path} is {actual?.ToJsonString()}, expected {ev.ToJsonString()}");
        }

        private static string Short(string s) => s.Length > 120 ? s[..120] + "…" : s;

        [GeneratedRegex(@"((?:creation_time|last_update_time)\s*(?:>=|<=|>|<|=|!=)\s*)(\d{13})")]
        private static partial Regex ServerTimeFilter();

        [GeneratedRegex("^[0-9a-f]{32}$")]
        private static partial Regex RunId();

        [GeneratedRegex("^[a-z]+-[a-z]+-[0-9]+$")]
        private static partial Regex GeneratedName();
    }
}

public sealed class MlflowReplaySqliteTests : MlflowReplayTests
{
    protected override bool Postgres => false;
}

public sealed class MlflowReplayPostgresTests : MlflowReplayTests
{
    protected override bool Postgres => true;
}
