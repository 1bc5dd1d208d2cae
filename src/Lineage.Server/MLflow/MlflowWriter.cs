using System.Globalization;
using System.Text.Json;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.MLflow;

/// <summary>
/// MLflow answers written straight from the store's records to the response with <see cref="Utf8JsonWriter"/>, for the
/// reads whose answers are large (a page of 400 runs with all their data is ~600 KB): no wire objects per run, metric,
/// param and tag in between (issue 15). The bytes are exactly what <see cref="MlflowJson"/> writes for the same answer
/// (snake_case names, fields at their default left out, NaN/±Infinity as strings, the serializer's default escaping);
/// the MLflow fixture tests hold both to that.
/// </summary>
internal static class MlflowWriter
{

    private static readonly JsonEncodedText Runs = JsonEncodedText.Encode("runs");
    private static readonly JsonEncodedText NextPageToken = JsonEncodedText.Encode("next_page_token");
    private static readonly JsonEncodedText Info = JsonEncodedText.Encode("info");
    private static readonly JsonEncodedText Data = JsonEncodedText.Encode("data");
    private static readonly JsonEncodedText Inputs = JsonEncodedText.Encode("inputs");
    private static readonly JsonEncodedText DatasetInputs = JsonEncodedText.Encode("dataset_inputs");
    private static readonly JsonEncodedText Dataset = JsonEncodedText.Encode("dataset");
    private static readonly JsonEncodedText RunUuid = JsonEncodedText.Encode("run_uuid");
    private static readonly JsonEncodedText ExperimentId = JsonEncodedText.Encode("experiment_id");
    private static readonly JsonEncodedText RunName = JsonEncodedText.Encode("run_name");
    private static readonly JsonEncodedText UserId = JsonEncodedText.Encode("user_id");
    private static readonly JsonEncodedText Status = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText StartTime = JsonEncodedText.Encode("start_time");
    private static readonly JsonEncodedText EndTime = JsonEncodedText.Encode("end_time");
    private static readonly JsonEncodedText ArtifactUri = JsonEncodedText.Encode("artifact_uri");
    private static readonly JsonEncodedText LifecycleStage = JsonEncodedText.Encode("lifecycle_stage");
    private static readonly JsonEncodedText RunIdName = JsonEncodedText.Encode("run_id");
    private static readonly JsonEncodedText Metrics = JsonEncodedText.Encode("metrics");
    private static readonly JsonEncodedText Params = JsonEncodedText.Encode("params");
    private static readonly JsonEncodedText Tags = JsonEncodedText.Encode("tags");
    private static readonly JsonEncodedText Key = JsonEncodedText.Encode("key");
    private static readonly JsonEncodedText Value = JsonEncodedText.Encode("value");
    private static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText Step = JsonEncodedText.Encode("step");
    private static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText Digest = JsonEncodedText.Encode("digest");
    private static readonly JsonEncodedText SourceType = JsonEncodedText.Encode("source_type");
    private static readonly JsonEncodedText Source = JsonEncodedText.Encode("source");
    private static readonly JsonEncodedText Schema = JsonEncodedText.Encode("schema");
    private static readonly JsonEncodedText Profile = JsonEncodedText.Encode("profile");
    private static readonly JsonEncodedText Active = JsonEncodedText.Encode("active");
    private static readonly JsonEncodedText Deleted = JsonEncodedText.Encode("deleted");

    /// <summary><c>runs/search</c>: <c>{"runs": […], "next_page_token": "…"}</c>, each run as <see cref="MlflowViews.ToMl(RunView, bool)"/> maps it.</summary>
    public static IResult SearchRuns(IReadOnlyList<RunView> runs, string? nextPageToken) => new JsonAnswer(async (json, ct) =>
    {
        json.WriteStartObject();
        if (runs.Count > 0)
        {
            json.WriteStartArray(Runs);
            foreach (var run in runs)
            {
                WriteRun(json, run);
                if (json.BytesPending > JsonAnswer.FlushAt) await json.FlushAsync(ct);
            }
            json.WriteEndArray();
        }
        if (nextPageToken is not null) json.WriteString(NextPageToken, nextPageToken);
        json.WriteEndObject();
    });

    private static void WriteRun(Utf8JsonWriter json, RunView v)
    {
        var i = v.Run.Info;
        json.WriteStartObject();
        json.WriteStartObject(Info);
        json.WriteString(RunUuid, i.RunId);
        json.WriteString(ExperimentId, i.ExperimentId.ToString(CultureInfo.InvariantCulture));
        json.WriteString(RunName, i.Name ?? "");
        json.WriteString(UserId, i.User ?? "");
        json.WriteString(Status, MlflowViews.StatusName(i.Status));
        json.WriteNumber(StartTime, i.StartTime);
        if (i.EndTime is { } end) json.WriteNumber(EndTime, end);
        json.WriteString(ArtifactUri, v.ArtifactUri);
        json.WriteString(LifecycleStage, i.Lifecycle == Lifecycle.Deleted ? Deleted : Active);
        json.WriteString(RunIdName, i.RunId);
        json.WriteEndObject();

        json.WriteStartObject(Data);
        if (v.Run.LatestMetrics.Count > 0)
        {
            json.WriteStartArray(Metrics);
            foreach (var m in v.Run.LatestMetrics)
            {
                json.WriteStartObject();
                json.WriteString(Key, m.Key);
                json.WritePropertyName(Value);
                JsonAnswer.WriteDoubleValue(json, m.Value);
                json.WriteNumber(Timestamp, m.Timestamp);
                json.WriteNumber(Step, m.Step);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        WritePairs(json, Params, v.Run.Params);
        WritePairs(json, Tags, v.Run.Tags);
        json.WriteEndObject();

        json.WriteStartObject(Inputs);
        if (v.Inputs.Count > 0)
        {
            json.WriteStartArray(DatasetInputs);
            foreach (var d in v.Inputs)
            {
                json.WriteStartObject();
                if (d.Tags.Count > 0)
                {
                    json.WriteStartArray(Tags);
                    foreach (var t in d.Tags) WritePair(json, t.Key, t.Value);
                    json.WriteEndArray();
                }
                json.WriteStartObject(Dataset);
                json.WriteString(Name, d.Name);
                json.WriteString(Digest, d.Digest);
                json.WriteString(SourceType, d.SourceType);
                json.WriteString(Source, d.Source);
                if (d.Schema is not null) json.WriteString(Schema, d.Schema);
                if (d.Profile is not null) json.WriteString(Profile, d.Profile);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WritePairs(Utf8JsonWriter json, JsonEncodedText name, IReadOnlyDictionary<string, string> pairs)
    {
        if (pairs.Count == 0) return;
        json.WriteStartArray(name);
        foreach (var (key, value) in pairs) WritePair(json, key, value);
        json.WriteEndArray();
    }

    private static void WritePair(Utf8JsonWriter json, string key, string value)
    {
        json.WriteStartObject();
        json.WriteString(Key, key);
        json.WriteString(Value, value);
        json.WriteEndObject();
    }
}
