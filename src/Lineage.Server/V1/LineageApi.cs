using System.Globalization;
using System.Text.Json;
using Lineage.Core.Artifacts;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Lineage;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Lineage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>Executions, contexts, run inputs and graph queries (closure, path, impact, provenance; JSON, DOT, Mermaid).</summary>
public static class LineageApi
{
    public static RouteGroupBuilder MapLineage(this RouteGroupBuilder api)
    {
        var executions = api.MapGroup("/executions").WithTags("Lineage");

        executions.MapPost("/", async (HttpContext ctx, LineageStore lineage, ArtifactStore artifacts) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.CreateExecutionRequest);
                var execution = await lineage.CreateExecutionAsync(body.Project, body.Type!, body.Name!,
                    body.State is null ? ExecutionState.Running : State(body.State), Raw(body.Properties),
                    await EventsAsync(body.Inputs, "inputs", artifacts), await EventsAsync(body.Outputs, "outputs", artifacts),
                    body.Contexts?.Select(c => Id(c, "contexts")).ToList());
                return Results.Json(execution.ToDto(), LineageJson.Default.ExecutionDto, statusCode: 201);
            })
            .Accepts<CreateExecutionRequest>("application/json").Produces<ExecutionDto>(201);

        executions.MapGet("/", async (HttpContext ctx, LineageStore lineage) =>
            {
                var q = ctx.Request;
                var context = q.QueryText("contextId");
                var page = await lineage.ListExecutionsAsync(q.QueryText("project"), q.QueryText("type"), context is null ? null : Id(context, "contextId"),
                    Validate.PageSize(q.QueryInt("limit")), q.QueryText("pageToken"));
                return Results.Json(new ExecutionListResponse(page.Items.Select(e => e.ToDto()).ToList(), page.NextPageToken),
                    LineageJson.Default.ExecutionListResponse);
            })
            .Produces<ExecutionListResponse>();

        executions.MapGet("/{id}", async (string id, LineageStore lineage) =>
                Results.Json((await lineage.GetExecutionAsync(Id(id, "id"))).ToDto(), LineageJson.Default.ExecutionDto))
            .Produces<ExecutionDto>();

        executions.MapPatch("/{id}", async (string id, HttpContext ctx, LineageStore lineage) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.UpdateExecutionRequest);
                var execution = await lineage.UpdateExecutionAsync(Id(id, "id"), State(body.State));
                return Results.Json(execution.ToDto(), LineageJson.Default.ExecutionDto);
            })
            .Accepts<UpdateExecutionRequest>("application/json").Produces<ExecutionDto>();

        executions.MapPost("/{id}/events", async (string id, HttpContext ctx, LineageStore lineage, ArtifactStore artifacts) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.AddEventsRequest);
                var execution = await lineage.AddEventsAsync(Id(id, "id"), await EventsAsync(body.Inputs, "inputs", artifacts),
                    await EventsAsync(body.Outputs, "outputs", artifacts));
                return Results.Json(execution.ToDto(), LineageJson.Default.ExecutionDto);
            })
            .Accepts<AddEventsRequest>("application/json").Produces<ExecutionDto>();

        api.MapPost("/runs/{runId}/inputs", async (string runId, HttpContext ctx, LineageStore lineage, ArtifactStore artifacts) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.EventRequest);
                var input = (await EventsAsync([body], "input", artifacts))[0];
                var execution = await lineage.LogRunInputAsync(runId, input.ArtifactId, input.Role);
                return Results.Json(execution.ToDto(), LineageJson.Default.ExecutionDto);
            })
            .WithTags("Lineage").Accepts<EventRequest>("application/json").Produces<ExecutionDto>();

        var contexts = api.MapGroup("/contexts").WithTags("Lineage");
        contexts.MapPost("/", async (HttpContext ctx, LineageStore lineage) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.CreateContextRequest);
                var context = await lineage.CreateContextAsync(body.Project, body.Type!, body.Name!,
                    body.ParentId is null ? null : Id(body.ParentId, "parentId"), Raw(body.Properties));
                return Results.Json(context.ToDto(), LineageJson.Default.ContextDto, statusCode: 201);
            })
            .Accepts<CreateContextRequest>("application/json").Produces<ContextDto>(201);

        contexts.MapGet("/", async (HttpContext ctx, LineageStore lineage) =>
            {
                var q = ctx.Request;
                var parent = q.QueryText("parentId");
                var page = await lineage.ListContextsAsync(q.QueryText("project"), q.QueryText("type"), parent is null ? null : Id(parent, "parentId"),
                    Validate.PageSize(q.QueryInt("limit")), q.QueryText("pageToken"));
                return Results.Json(new ContextListResponse(page.Items.Select(c => c.ToDto()).ToList(), page.NextPageToken),
                    LineageJson.Default.ContextListResponse);
            })
            .Produces<ContextListResponse>();

        contexts.MapGet("/{id}", async (string id, LineageStore lineage) => await MembersAsync(lineage, Id(id, "id")))
            .Produces<ContextMembersResponse>();

        contexts.MapPost("/{id}/members", async (string id, HttpContext ctx, LineageStore lineage, ArtifactStore artifacts) =>
            {
                var body = await ctx.Request.ReadJsonAsync(LineageJson.Default.ContextMembersRequest);
                var artifactIds = new List<long>();
                for (var i = 0; i < (body.Artifacts?.Count ?? 0); i++) artifactIds.Add(await ResolveAsync(body.Artifacts![i], $"artifacts[{i}]", artifacts));
                await lineage.AddToContextAsync(Id(id, "id"), body.Executions?.Select(e => Id(e, "executions")).ToList() ?? [], artifactIds);
                return await MembersAsync(lineage, Id(id, "id"));
            })
            .Accepts<ContextMembersRequest>("application/json").Produces<ContextMembersResponse>();

        var graph = api.MapGroup("/lineage").WithTags("Lineage");
        graph.MapGet("/graph", async (HttpContext ctx, LineageStore lineage, ArtifactStore artifacts) =>
            {
                var q = ctx.Request;
                var root = await NodeAsync(q.QueryText("node"), "node", q.QueryText("project"), lineage, artifacts);
                var direction = q.QueryText("direction")?.ToLowerInvariant() switch
                {
                    null or "both" => Direction.Both,
                    "upstream" => Direction.Upstream,
                    "downstream" => Direction.Downstream,
                    var other => throw LineageException.Invalid("direction", $"'direction' must be upstream, downstream or both, got '{other}'"),
                };
                var result = await lineage.GraphAsync(new GraphQuery(root, direction, q.QueryInt("depth") ?? 20,
                    q.QueryList("artifactType"), q.QueryList("executionType")));
                return Render(result, q.QueryText("format"));
            })
            .Produces<GraphResponse>();

        graph.MapGet("/path", async (HttpContext ctx, LineageStore lineage, ArtifactStore artifacts) =>
            {
                var q = ctx.Request;
                var from = await NodeAsync(q.QueryText("from"), "from", q.QueryText("project"), lineage, artifacts);
                var to = await NodeAsync(q.QueryText("to"), "to", q.QueryText("project"), lineage, artifacts);
                var (nodes, edges) = await lineage.PathAsync(from, to);
                return Render(new LineageGraph(nodes[0].Id, nodes, edges), q.QueryText("format"));
            })
            .Produces<GraphResponse>();

        graph.MapGet("/impact", async (HttpContext ctx, LineageStore lineage, ArtifactStore artifacts) =>
            {
                var q = ctx.Request;
                var node = await NodeAsync(q.QueryText("artifact") is { } a ? "artifact:" + a : null, "artifact", q.QueryText("project"), lineage, artifacts);
                var r = await lineage.ImpactAsync(node.Id);
                return Results.Json(new ImpactResponse(r.Root.ToString(), r.ModelVersions.Select(v => v.ToDto()).ToList(), r.Runs.ToList(),
                    r.Artifacts.Select(v => v.ToDto()).ToList(), r.Executions.Select(e => e.ToDto()).ToList()), LineageJson.Default.ImpactResponse);
            })
            .Produces<ImpactResponse>();

        graph.MapGet("/provenance", async (HttpContext ctx, LineageStore lineage, ArtifactStore artifacts) =>
            {
                var q = ctx.Request;
                var node = await NodeAsync(q.QueryText("artifact") is { } a ? "artifact:" + a : null, "artifact", q.QueryText("project"), lineage, artifacts);
                var r = await lineage.ProvenanceAsync(node.Id);
                return Results.Json(new ProvenanceResponse(r.Root.ToString(), r.Datasets.Select(v => v.ToDto()).ToList(), r.Code.Select(v => v.ToDto()).ToList(),
                    r.OtherArtifacts.Select(v => v.ToDto()).ToList(), r.Executions.Select(e => e.ToDto()).ToList(),
                    r.RunParams.ToDictionary(kv => kv.Key, kv => new Dictionary<string, string>(kv.Value))), LineageJson.Default.ProvenanceResponse);
            })
            .Produces<ProvenanceResponse>();

        return api;
    }

    private static IResult Render(LineageGraph graph, string? format) => format?.ToLowerInvariant() switch
    {
        null or "json" => Results.Json(new GraphResponse(graph.Root.ToString(),
            graph.Nodes.Select(n => new GraphNodeDto(n.Id.ToString(), n.Id.Kind.ToString().ToLowerInvariant(), n.Label, n.Type, n.Depth,
                n.State?.ToString().ToUpperInvariant(), n.RunId, n.Project)).ToList(),
            graph.Edges.Select(e => new GraphEdgeDto(e.From.ToString(), e.To.ToString(), e.Role)).ToList()), LineageJson.Default.GraphResponse),
        "dot" => Results.Text(GraphAlgorithms.ToDot(graph), "text/vnd.graphviz"),
        "mermaid" => Results.Text(GraphAlgorithms.ToMermaid(graph), "text/plain"),
        var other => throw LineageException.Invalid("format", $"'format' must be json, dot or mermaid, got '{other}'"),
    };

    private static async Task<IResult> MembersAsync(LineageStore lineage, long id)
    {
        var context = await lineage.GetContextAsync(id);
        var (executions, artifacts) = await lineage.ContextMembersAsync(id);
        return Results.Json(new ContextMembersResponse(context.ToDto(), executions.Select(e => e.ToDto()).ToList(), artifacts.Select(a => a.ToDto()).ToList()),
            LineageJson.Default.ContextMembersResponse);
    }

    /// <summary>
    /// A node reference: <c>artifact:&lt;id&gt;</c>, <c>artifact:&lt;name&gt;@&lt;version|latest|alias&gt;</c> (the name looked up in
    /// <paramref name="project"/>, else <c>default</c>), <c>execution:&lt;id&gt;</c> or <c>run:&lt;run id&gt;</c>.
    /// </summary>
    private static async Task<NodeId> NodeAsync(string? text, string field, string? project, LineageStore lineage, ArtifactStore artifacts)
    {
        if (text is null) throw LineageException.Invalid(field, $"'{field}' is required, e.g. artifact:sales@3, execution:12 or run:<run id>");
        var cut = text.IndexOf(':');
        var (kind, rest) = cut < 0 ? ("", text) : (text[..cut], text[(cut + 1)..]);
        switch (kind)
        {
            case "artifact":
                if (long.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return new NodeId(NodeKind.Artifact, id);
                var at = rest.LastIndexOf('@');
                var version = await artifacts.GetAsync(project, at < 0 ? rest : rest[..at], ArtifactRules.Ref(at < 0 ? "latest" : rest[(at + 1)..], field));
                return new NodeId(NodeKind.Artifact, version.Id);
            case "execution":
                return new NodeId(NodeKind.Execution, Id(rest, field));
            case "run":
                return new NodeId(NodeKind.Execution, (await lineage.ExecutionOfRunAsync(rest)).Id);
            default:
                throw LineageException.Invalid(field, $"'{text}' is not a node; use artifact:<name>@<version>, artifact:<id>, execution:<id> or run:<run id>");
        }
    }

    private static async Task<IReadOnlyList<EventInput>> EventsAsync(List<EventRequest>? events, string field, ArtifactStore artifacts)
    {
        var result = new List<EventInput>();
        for (var i = 0; i < (events?.Count ?? 0); i++)
        {
            var e = events![i] ?? throw LineageException.Invalid($"{field}[{i}]", "an event must be an object");
            var artifact = e.Artifact ?? throw LineageException.Invalid($"{field}[{i}].artifact", "'artifact' is required");
            result.Add(new EventInput(await ResolveAsync(artifact, $"{field}[{i}].artifact", artifacts), e.Role ?? (field.StartsWith("input") ? "input" : "output")));
        }
        return result;
    }

    private static async Task<long> ResolveAsync(ArtifactRefDto r, string field, ArtifactStore artifacts)
    {
        if (r.Id is not null) return Id(r.Id, field + ".id");
        if (r.Name is null) throw LineageException.Invalid(field, "give 'id', or 'name' with an optional 'version'");
        return (await artifacts.GetAsync(r.Project, r.Name, ArtifactRules.Ref(r.Version, field + ".version"))).Id;
    }

    private static long Id(string text, string field) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw LineageException.Invalid(field, $"'{field}' value '{Validate.Shorten(text)}' is not an id");

    private static ExecutionState State(string? text) =>
        Enum.TryParse<ExecutionState>(text, ignoreCase: true, out var state) && !int.TryParse(text, out _)
            ? state
            : throw LineageException.Invalid("state", $"'state' must be NEW, RUNNING, COMPLETE, FAILED, CACHED or CANCELED, got '{text}'");

    private static string? Raw(JsonElement? element) =>
        element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } e ? e.GetRawText() : null;
}
