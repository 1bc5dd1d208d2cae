using System.Text.Json;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.OpenLineage;
using Lineage.Server.Http;
using Lineage.Storage.OpenLineage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>OpenLineage ingestion at the path OpenLineage clients use for Marquez: <c>POST /api/v1/lineage</c>.</summary>
public static class OpenLineageApi
{
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
        return api;
    }
}
