using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Lineage.Tests.Reliability;

/// <summary>One generated request: where the hostile value went is in <see cref="What"/>, for the failure report.</summary>
internal sealed record FuzzRequest(string Method, string Path, string Query, byte[]? Body, string? ContentType, string What)
{
    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(new HttpMethod(Method), new Uri(Path + Query, UriKind.Relative));
        if (Body is not null)
        {
            // A body over the limit is refused (413) before it is read: the client waits for that answer instead of sending it.
            if (Body.Length > 1_000_000) message.Headers.ExpectContinue = true;
            message.Content = new ByteArrayContent(Body);
            if (ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        }
        return message;
    }

    public override string ToString()
    {
        var body = Body is null ? "" : Encoding.UTF8.GetString(Body.AsSpan(0, Math.Min(Body.Length, 160)));
        return $"{Method} {Short(Path + Query)} [{What}] {ContentType} {body}";
    }

    private static string Short(string s) => s.Length > 200 ? s[..200] + "…" : s;
}

/// <summary>
/// Generates hostile requests for one route: real ids everywhere but in one place, which gets a hostile value.
/// Values are JSON text where they go into a body (so lone surrogates and NUL travel as escapes, as an attacker
/// would send them) and raw text where they go into a path or a query.
/// </summary>
internal static class FuzzRequests
{
    private static readonly string Long = new('x', 70_000);

    /// <summary>Hostile text for path segments and query values.</summary>
    private static readonly string[] Texts =
    [
        "", " ", "0", "-1", "1.5", "99999999999999999999999999", "-9223372036854775809", "1e309", "NaN", "Infinity",
        "..", "../../../../etc/passwd", "..%2F..%2Fetc", "a/../b", "%00", "a\u0000b", "\u0001\u001f", "\uFFFE", "😀ü€",
        "' OR '1'='1", "\"; DROP TABLE runs; --", "<script>alert(1)</script>", "${jndi:ldap://127.0.0.1/x}", "enc:v1:x:y",
        "MDoxOTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", "djE6OTk5OTk5OTk5OTk5OjAwMDAwMDAwMDAwMA==", "!!notbase64!!", Long[..5000],
        "NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT metrics.a > 1",
        "metrics.a >> 1", "params.x = 'unterminated", "((((((((((metrics.a > 1", "latest", "run:x", "artifact:x@-1", "x@99999999999999999999",
    ];

    /// <summary>Hostile JSON values (as JSON text) for body fields.</summary>
    private static readonly string[] Values =
    [
        "null", "true", "false", "0", "-1", "1.5", "9223372036854775808", "-9223372036854775809", "1e308", "123456789012345678901234567890",
        "\"\"", "\" \"", "\"\\ud800\"", "\"x\\udc00y\"", "\"a\\u0000b\"", "\"\\u0001\"", "\"../../etc/passwd\"", "\"enc:v1:x:y\"",
        "\"' OR 1=1 --\"", "\"NaN\"", "\"-Infinity\"", "\"9999999999999999999999\"", $"\"{Long}\"", "[]", "{}", "[1,2]", "[\"a\",null]",
        "{\"a\":{\"b\":[1,{\"c\":null}]}}", Nest(200), "\"😀\"", "{\"\\ud800\":1}", "[{\"key\":1,\"value\":[]}]",
    ];

    /// <summary>Hostile raw bodies.</summary>
    private static readonly byte[][] Bodies =
    [
        [], "null"u8.ToArray(), "[]"u8.ToArray(), "{"u8.ToArray(), "not json"u8.ToArray(), "{\"a\":1,\"a\":2}"u8.ToArray(),
        Encoding.ASCII.GetBytes(Nest(100_000)), [0xff, 0xfe, 0x00, 0x7b], "{\"name\":\"\\ud800\"}"u8.ToArray(), "\u0000"u8.ToArray(),
        Encoding.UTF8.GetBytes("{\"name\":\"" + new string('x', 5_000_000) + "\"}"), "ustar\0notatar"u8.ToArray(), "123"u8.ToArray(),
    ];

    private static readonly string[] ContentTypes =
        ["application/json", "text/plain", "application/x-tar", "application/octet-stream", "multipart/form-data; boundary=x", "application/json; charset=utf-16"];

    private static readonly string[] QueryNames =
    [
        "pageToken", "page_token", "limit", "max_results", "filter", "orderBy", "order_by", "key", "metric_key", "project", "depth", "format",
        "direction", "version", "path", "run_id", "run_uuid", "experiment_id", "experiment_ids", "name", "node", "artifact", "from", "to",
        "bucket", "type", "status", "lifecycle", "view_type", "nodeId", "offset", "since", "actor", "target", "digest", "live", "stages",
    ];

    private static string Nest(int depth) => new string('[', depth) + new string(']', depth);

    public static FuzzRequest Make(Random random, string method, string template, IReadOnlyDictionary<string, string> ids, JsonNode openApi)
    {
        var parameters = Regex.Matches(template, @"\{\*{0,2}([A-Za-z_]+)(?::[^}]*)?\}").Select(m => (Whole: m.Value, Name: m.Groups[1].Value)).ToList();
        var schema = BodySchema(openApi, method, template);
        var takesBody = method is "POST" or "PUT" or "PATCH" or "DELETE";
        // Where the hostile value goes: 0 a route parameter, 1 a query parameter, 2 a body field, 3 the raw body, 4 the Content-Type.
        var modes = new List<int> { 1 };
        if (parameters.Count > 0) modes.Add(0);
        if (takesBody) modes.AddRange([2, 2, 3, 4]);
        var mode = modes[random.Next(modes.Count)];

        var hostileParam = mode == 0 ? random.Next(parameters.Count) : -1;
        var path = template;
        var what = "";
        for (var i = 0; i < parameters.Count; i++)
        {
            var (whole, name) = parameters[i];
            string value;
            if (i == hostileParam)
            {
                // Kestrel itself refuses a NUL in the path (a bare 400 before the application runs): NUL goes into queries and bodies.
                var raw = Texts.Where(t => !t.Contains('\0')).ElementAt(random.Next(Texts.Length - 1));
                value = whole.Contains("**") ? string.Join('/', raw.Split('/').Select(Uri.EscapeDataString)) : Uri.EscapeDataString(raw);
                what = $"route {name}={Describe(raw)}";
            }
            else value = whole.Contains("**") ? "0/fz/file.txt" : Uri.EscapeDataString(RealValue(name, template, ids));
            path = path.Replace(whole, value);
        }

        var query = "";
        if (mode == 1)
        {
            var name = QueryNames[random.Next(QueryNames.Length)];
            var raw = Texts[random.Next(Texts.Length)];
            query = $"?{name}={Uri.EscapeDataString(raw)}";
            what = $"query {name}={Describe(raw)}";
        }

        byte[]? body = null;
        string? contentType = null;
        if (takesBody)
        {
            contentType = template.Contains("upload") || template.Contains("blobs") || template.Contains("mlflow-artifacts")
                ? "application/octet-stream" : "application/json";
            var baseBody = schema is null ? MlflowBase(ids) : Sample(openApi, schema, 0, ids) as JsonObject ?? new JsonObject();
            switch (mode)
            {
                case 2:
                    var keys = baseBody.Select(p => p.Key).Concat(["name", "run_id", "value", "tags", "metadata", "filter", "project"]).Distinct().ToList();
                    var key = keys[random.Next(keys.Count)];
                    var hostile = Values[random.Next(Values.Length)];
                    // A placeholder string replaced by raw JSON text, so escapes such as \ud800 reach the server as sent.
                    baseBody[key] = "\u0007HOSTILE\u0007";
                    body = Encoding.UTF8.GetBytes(baseBody.ToJsonString().Replace("\"\\u0007HOSTILE\\u0007\"", hostile));
                    what = $"body {key}={Describe(hostile)}";
                    contentType = "application/json";
                    break;
                case 3:
                    body = Bodies[random.Next(Bodies.Length)];
                    what = $"raw body of {body.Length:N0} bytes";
                    break;
                case 4:
                    body = Encoding.UTF8.GetBytes(baseBody.ToJsonString());
                    contentType = random.Next(4) == 0 ? null : ContentTypes[random.Next(ContentTypes.Length)];
                    what = $"content type {contentType ?? "(none)"}";
                    break;
                default:
                    body = Encoding.UTF8.GetBytes(baseBody.ToJsonString());
                    break;
            }
        }
        return new FuzzRequest(method, path, query, body, contentType, what);
    }

    private static string Describe(string raw) => raw.Length > 40 ? $"{raw[..20]}…({raw.Length:N0} chars)" : raw;

    /// <summary>A real value for a route parameter, so the request reaches past the lookup.</summary>
    private static string RealValue(string name, string template, IReadOnlyDictionary<string, string> ids) => name switch
    {
        "runId" or "run_id" => ids["runId"],
        "name" => template.Contains("/models") ? "fzmodel" : template.Contains("/environments") ? "fzenv" : "fzdata",
        "version" => "1",
        "alias" => "latest",
        "digest" => new string('a', 64),
        "id" when template.Contains("/executions") => ids["executionId"],
        "id" when template.Contains("/contexts") => ids["contextId"],
        "id" when template.Contains("/deployments") => ids["deploymentId"],
        "id" when template.Contains("/experiments") => ids["experimentId"],
        "id" when template.Contains("/artifacts") => ids["artifactId"],
        "id" => "1",
        "experimentId" => ids["experimentId"],
        "environment" => "fzenv",
        "ns" or "namespace" => "default",
        "job" => "fzjob",
        "key" => "loss",
        _ => "fz",
    };

    /// <summary>The body MLflow's routes take, with real ids; the hostile value replaces one field.</summary>
    private static JsonObject MlflowBase(IReadOnlyDictionary<string, string> ids) => new()
    {
        ["name"] = "fzmodel", ["experiment_id"] = ids["experimentId"], ["run_id"] = ids["runId"], ["key"] = "k", ["value"] = "v",
        ["version"] = "1", ["max_results"] = 10, ["experiment_ids"] = new JsonArray(ids["experimentId"]),
    };

    private static JsonNode? BodySchema(JsonNode openApi, string method, string template)
    {
        var normalized = Regex.Replace(template, @"\{\*{0,2}([A-Za-z_]+)(?::[^}]*)?\}", "{$1}").TrimEnd('/');
        foreach (var (path, item) in openApi["paths"]!.AsObject())
            if (path.TrimEnd('/') == normalized && item?[method.ToLowerInvariant()]?["requestBody"]?["content"] is JsonObject content)
                return content.FirstOrDefault(c => c.Key.Contains("json")).Value?["schema"];
        return null;
    }

    /// <summary>A plausible value for a schema (objects with every property), so only the hostile field is wrong.</summary>
    private static JsonNode? Sample(JsonNode openApi, JsonNode schema, int depth, IReadOnlyDictionary<string, string> ids)
    {
        if (schema["$ref"] is { } reference)
            schema = openApi["components"]!["schemas"]![((string)reference!).Split('/')[^1]]!;
        if (depth > 4) return null;
        var type = schema["type"] switch
        {
            JsonArray types => types.Select(t => (string?)t).FirstOrDefault(t => t != "null"),
            JsonValue v => (string?)v,
            _ => schema["properties"] is not null ? "object" : null,
        };
        return type switch
        {
            "object" => new JsonObject((schema["properties"]?.AsObject() ?? [])
                .Select(p => KeyValuePair.Create(p.Key, p.Key switch
                {
                    "experimentId" => JsonValue.Create(ids["experimentId"]),
                    "runId" => JsonValue.Create(ids["runId"]),
                    _ => Sample(openApi, p.Value!, depth + 1, ids),
                }))),
            "array" => schema["items"] is { } items ? new JsonArray(Sample(openApi, items, depth + 1, ids)) : new JsonArray(),
            "integer" => 1,
            "number" => 1.5,
            "boolean" => true,
            "string" => "fz",
            _ => null,
        };
    }
}
