using System.Net.Http.Headers;
using System.Text;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;

namespace Lineage.Client;

public sealed partial class LineageClient
{
    /// <summary>
    /// Ingests one OpenLineage RunEvent (its JSON text, sent as is) at <c>POST /api/v1/lineage</c>, the path
    /// OpenLineage clients use; with <paramref name="project"/> under <c>/projects/&lt;project&gt;</c> (docs/lineage.md).
    /// The server's ingestion is idempotent (a repeated event adds nothing); <paramref name="idempotencyKey"/>
    /// also makes a retried request return the first answer.
    /// </summary>
    public Task<OpenLineageIngestResponse> IngestOpenLineageAsync(string eventJson, string? project = null, string? idempotencyKey = null,
        CancellationToken ct = default)
    {
        var body = new ByteArrayContent(Encoding.UTF8.GetBytes(eventJson)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        var path = (project is null ? "" : $"projects/{Esc(project)}/") + "api/v1/lineage";
        return SendAsync(HttpMethod.Post, path, body, LineageJson.Default.OpenLineageIngestResponse, idempotencyKey, ct);
    }

    /// <summary>
    /// Ingests OpenLineage RunEvents (their JSON texts, sent as they are) in one request at <c>POST /api/v1/lineage/batch</c>, as
    /// NDJSON; at most <see cref="Lineage.Core.Tracking.Limits.MaxLineageBatchEvents"/> events (docs/openlineage.md). Each event is
    /// stored or rejected on its own: the answer has one result per event, in order (<c>accepted</c>, <c>repeat</c>, <c>error</c>
    /// with the error a single post would have got); a rejected event does not throw. A batch sent again answers <c>repeat</c>
    /// for each event stored, so retrying a failed request is safe. Throws <see cref="LineageApiException"/> when the whole
    /// batch is refused (too many events, too large, not allowed).
    /// </summary>
    public Task<OpenLineageBatchResponse> IngestOpenLineageBatchAsync(IEnumerable<string> eventJsons, string? project = null, CancellationToken ct = default)
    {
        var text = new StringBuilder();
        foreach (var e in eventJsons)
        {
            // NDJSON: one event per line. A pretty-printed event is put on one line (JSON allows no raw newline inside a string).
            text.Append(e.ReplaceLineEndings(" ")).Append('\n');
        }
        var body = new ByteArrayContent(Encoding.UTF8.GetBytes(text.ToString())) { Headers = { ContentType = new MediaTypeHeaderValue("application/x-ndjson") } };
        var path = (project is null ? "" : $"projects/{Esc(project)}/") + "api/v1/lineage/batch";
        return SendAsync(HttpMethod.Post, path, body, LineageJson.Default.OpenLineageBatchResponse, null, ct);
    }
}
