using System.Text.Json;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Core.OpenLineage;
using Lineage.Server.Http;
using Lineage.Storage.OpenLineage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Lineage.Server.V1;

/// <summary>
/// OpenLineage ingestion at the path OpenLineage clients use for Marquez: <c>POST /api/v1/lineage</c>; and
/// <c>POST /api/v1/lineage/batch</c> for producers that buffer (docs/openlineage.md).
/// </summary>
public static class OpenLineageApi
{
    private const string NdJson = "application/x-ndjson";

    public static RouteGroupBuilder MapOpenLineage(this RouteGroupBuilder api)
    {
        api.MapPost("/lineage", async (HttpContext ctx, OpenLineageStore store) =>
            {
                JsonDocument document;
                try
                {
                    document = await JsonDocument.ParseAsync(ctx.Request.Body, new JsonDocumentOptions { AllowDuplicateProperties = false }, ctx.RequestAborted);
                }
                catch (JsonException ex)
                {
                    throw LineageException.Invalid("body", $"the request body is not valid JSON (or repeats a key): {ex.Message.Split(" Path:")[0]}");
                }
                using (document)
                {
                    var result = await store.IngestAsync(RunEventParser.Parse(document.RootElement), document.RootElement.GetRawText());
                    return Results.Json(new OpenLineageIngestResponse(result.ExecutionId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        result.Inputs.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(),
                        result.Outputs.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(), result.Repeat),
                        LineageJson.Default.OpenLineageIngestResponse, statusCode: 201);
                }
            })
            .WithTags("OpenLineage").Accepts<JsonElement>("application/json").Produces<OpenLineageIngestResponse>(201);

        // Each event is its own write: a bad one is rejected alone. They are queued together, so the writers commit them
        // in groups (group commit) and a batch costs a few commits, not one per event.
        api.MapPost("/lineage/batch", async (HttpContext ctx, OpenLineageStore store) =>
            {
                if (Idempotency.KeyOf(ctx) is not null)
                    throw LineageException.Invalid(Idempotency.Header,
                        "a batch takes no Idempotency-Key: events are idempotent by run, type and time, so a batch sent again answers 'repeat' for each event stored");
                var events = await ReadBatchAsync(ctx);
                var ingesting = events.Select(e => e.Error is null ? store.IngestAsync(e.Event!, e.Raw) : null).ToList();
                var results = new List<OpenLineageBatchResult>(events.Count);
                for (var i = 0; i < events.Count; i++)
                {
                    try
                    {
                        if (events[i].Error is { } invalid) throw invalid;
                        var r = await ingesting[i]!;
                        results.Add(new OpenLineageBatchResult(i, r.Repeat ? "repeat" : "accepted", Id(r.ExecutionId),
                            r.Inputs.Select(Id).ToList(), r.Outputs.Select(Id).ToList()));
                    }
                    catch (LineageException ex)
                    {
                        results.Add(new OpenLineageBatchResult(i, "error", Error: new ErrorResponse(ex.Code.WireName(), ex.Message, ex.Field)));
                    }
                }
                var accepted = results.Count(r => r.Status == "accepted");
                var repeats = results.Count(r => r.Status == "repeat");
                return Results.Json(new OpenLineageBatchResponse(accepted, repeats, results.Count - accepted - repeats, results),
                    LineageJson.Default.OpenLineageBatchResponse);
            })
            .WithTags("OpenLineage").Accepts<JsonElement>("application/json", NdJson).Produces<OpenLineageBatchResponse>();
        return api;
    }

    private static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An event of a batch: parsed, or the error that rejects it alone.</summary>
    private sealed record BatchEvent(OlRunEvent? Event, string Raw, LineageException? Error);

    /// <summary>
    /// The events of a batch, each parsed on its own. A body that is not a JSON array (or NDJSON), or holds more than
    /// <see cref="Limits.MaxLineageBatchEvents"/> events, rejects the whole batch before anything is written.
    /// </summary>
    private static async Task<List<BatchEvent>> ReadBatchAsync(HttpContext ctx)
    {
        var ndjson = MediaTypeHeaderValue.TryParse(ctx.Request.ContentType, out var type)
                     && string.Equals(type.MediaType.Value, NdJson, StringComparison.OrdinalIgnoreCase);
        if (!ndjson && !ctx.Request.HasJsonContentType())
            throw new LineageException(ErrorCode.UnsupportedMediaType,
                $"POST {ctx.Request.Path} takes a JSON array of OpenLineage events (Content-Type: application/json) or one event per line ({NdJson}), " +
                $"not '{ctx.Request.ContentType ?? "(none)"}'");
        using var body = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(body, ctx.RequestAborted);
        var bytes = new ReadOnlyMemory<byte>(body.GetBuffer(), 0, (int)body.Length);
        var events = new List<BatchEvent>();
        if (ndjson)
        {
            var line = 0;
            while (!bytes.IsEmpty)
            {
                line++;
                var end = bytes.Span.IndexOf((byte)'\n');
                var text = end < 0 ? bytes : bytes[..end];
                bytes = end < 0 ? ReadOnlyMemory<byte>.Empty : bytes[(end + 1)..];
                if (text.Span.Trim(" \t\r"u8).IsEmpty) continue;
                CheckCount(events.Count + 1);
                try
                {
                    using var document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowDuplicateProperties = false });
                    events.Add(Parse(document.RootElement));
                }
                catch (JsonException ex)
                {
                    events.Add(new BatchEvent(null, "", LineageException.Invalid("body",
                        $"line {line} is not valid JSON (or repeats a key): {ex.Message.Split(" Path:")[0]}")));
                }
            }
            return events;
        }
        JsonDocument batch;
        try
        {
            batch = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            throw LineageException.Invalid("body", $"the request body is not valid JSON (or repeats a key): {ex.Message.Split(" Path:")[0]}");
        }
        using (batch)
        {
            if (batch.RootElement.ValueKind != JsonValueKind.Array)
                throw LineageException.Invalid("body", $"the body must be a JSON array of OpenLineage events (or one event per line, Content-Type: {NdJson})");
            CheckCount(batch.RootElement.GetArrayLength());
            foreach (var element in batch.RootElement.EnumerateArray()) events.Add(Parse(element));
        }
        return events;

        static BatchEvent Parse(JsonElement e)
        {
            try
            {
                return new BatchEvent(RunEventParser.Parse(e), e.GetRawText(), null);
            }
            catch (LineageException ex)
            {
                return new BatchEvent(null, "", ex);
            }
        }

        static void CheckCount(int count)
        {
            if (count > Limits.MaxLineageBatchEvents)
                throw LineageException.Invalid("body", $"a batch holds at most {Limits.MaxLineageBatchEvents:N0} events: split it into smaller batches");
        }
    }
}
