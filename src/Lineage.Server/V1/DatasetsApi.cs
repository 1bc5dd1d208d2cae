using Lineage.Core.Artifacts;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Registry;
using Lineage.Server.Http;
using Lineage.Storage.Lineage;
using Lineage.Storage.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>Datasets: facts of dataset artifact versions (source, schema, rows, profile), validations, schema diff, usage; declared schemas.</summary>
public static class DatasetsApi
{
    public static RouteGroupBuilder MapDatasets(this RouteGroupBuilder api)
    {
        var schemas = api.MapGroup("/dataset-schemas").WithTags("Datasets");
        schemas.MapPost("/", async (HttpContext ctx, DatasetStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.CreateSchemaRequest);
                var schema = await store.CreateSchemaAsync(body.Project, ArtifactRules.Name(body.Name), Columns(body.Columns));
                return Results.Json(schema.ToDto(), LineageJson.Default.DatasetSchemaDto, statusCode: 201);
            })
            .Accepts<CreateSchemaRequest>("application/json").Produces<DatasetSchemaDto>(201);
        schemas.MapGet("/{name}/versions/{version}", async (string name, string version, HttpContext ctx, DatasetStore store) =>
                Results.Json((await store.GetSchemaAsync(ctx.Request.QueryText("project"), name, ArtifactRules.Ref(version).Number)).ToDto(),
                    LineageJson.Default.DatasetSchemaDto))
            .Produces<DatasetSchemaDto>();

        var datasets = api.MapGroup("/datasets").WithTags("Datasets");
        datasets.MapPut("/{name}/versions/{reference}", async (string name, string reference, HttpContext ctx, DatasetStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.DatasetFactsRequest);
                var facts = new DatasetFactsInput(body.Source?.Uri, body.Source?.System, body.Source?.IngestedAt, body.Schema, Columns(body.Columns),
                    body.RowCount, body.Profile?.ToDictionary(p => p.Key, p => p.Value.ToProfile()));
                return Ok(await store.SetFactsAsync(ctx.Request.QueryText("project"), name, ArtifactRules.Ref(reference), facts));
            })
            .Accepts<DatasetFactsRequest>("application/json").Produces<DatasetVersionDto>();

        // Which dataset versions to flag as failed in lists and graphs: one request for a page, not one per version.
        datasets.MapGet("/failing", async (HttpContext ctx, DatasetStore store) =>
            {
                var failing = await store.FailingAsync(ctx.Request.QueryText("project"), ctx.Request.QueryInt("limit") ?? 1000);
                return Results.Json(new FailingDatasetsResponse(failing.Select(f => new FailingDatasetDto(f.Name, f.Version, f.FailedChecks)).ToList()),
                    LineageJson.Default.FailingDatasetsResponse);
            })
            .Produces<FailingDatasetsResponse>();

        datasets.MapGet("/{name}/versions/{reference}", async (string name, string reference, HttpContext ctx, DatasetStore store) =>
                Ok(await store.GetAsync(ctx.Request.QueryText("project"), name, ArtifactRules.Ref(reference))))
            .Produces<DatasetVersionDto>();

        datasets.MapPost("/{name}/versions/{reference}/validations", async (string name, string reference, HttpContext ctx, DatasetStore store) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.ValidationsRequest);
                var checks = (body.Checks ?? []).Select((c, i) => (c.Name ?? throw LineageException.Invalid($"checks[{i}].name", "'name' is required"),
                    c.Passed ?? throw LineageException.Invalid($"checks[{i}].passed", "'passed' is required"), c.Details)).ToList();
                return Ok(await store.AddValidationsAsync(ctx.Request.QueryText("project"), name, ArtifactRules.Ref(reference), checks));
            })
            .Accepts<ValidationsRequest>("application/json").Produces<DatasetVersionDto>();

        datasets.MapGet("/{name}/diff", async (string name, HttpContext ctx, DatasetStore store) =>
            {
                var q = ctx.Request;
                var diff = await store.DiffAsync(q.QueryText("project"), name, ArtifactRules.Ref(q.QueryText("from") ?? throw LineageException.Invalid("from", "'from' is required"), "from"),
                    ArtifactRules.Ref(q.QueryText("to") ?? "latest", "to"));
                return Results.Json(new SchemaDiffResponse(diff.Name, diff.From, diff.To,
                    diff.Changes.Select(c => new ColumnChangeDto(c.Column, c.Change, c.From, c.To)).ToList()), LineageJson.Default.SchemaDiffResponse);
            })
            .Produces<SchemaDiffResponse>();

        // Where is this dataset version used: the lineage graph's impact (runs, model versions, executions downstream).
        datasets.MapGet("/{name}/versions/{reference}/usage", async (string name, string reference, HttpContext ctx, DatasetStore store, LineageStore lineage) =>
            {
                var dataset = await store.GetAsync(ctx.Request.QueryText("project"), name, ArtifactRules.Ref(reference));
                var impact = await lineage.ImpactAsync(dataset.Artifact.Id);
                return Results.Json(new ImpactResponse(impact.Root.ToString(), impact.ModelVersions.Select(v => v.ToDto()).ToList(), impact.Runs.ToList(),
                    impact.Artifacts.Select(v => v.ToDto()).ToList(), impact.Executions.Select(e => e.ToDto()).ToList()), LineageJson.Default.ImpactResponse);
            })
            .Produces<ImpactResponse>();

        return api;
    }

    private static List<ColumnSpec> Columns(List<ColumnSpecDto>? columns) =>
        (columns ?? []).Select((c, i) => new ColumnSpec(c.Name ?? throw LineageException.Invalid($"columns[{i}].name", "'name' is required"),
            c.Dtype ?? throw LineageException.Invalid($"columns[{i}].dtype", "'dtype' is required"), c.Nullable ?? true)).ToList();

    private static IResult Ok(DatasetVersion d) => Results.Json(d.ToDto(), LineageJson.Default.DatasetVersionDto);
}
