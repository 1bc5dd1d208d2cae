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
}
