using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Query;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.Events;
using Lineage.Storage.Query;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>
/// <c>/api/v1/search/{runs,experiments,artifacts}</c>: the query language (docs/query.md) on the native
/// API. <c>filter</c> is one expression; <c>orderBy</c> may repeat (<c>orderBy=metrics.acc DESC&amp;orderBy=start_time</c>).
/// A bad filter is 400 INVALID_PARAMETER_VALUE whose message names the position of the bad token.
/// </summary>
public static class SearchApi
{
    /// <summary>The runs search's answer header: the newest event id before the page was read (docs/events.md).</summary>
    public const string EventsHeadHeader = "Lineage-Events-Head";

    public static RouteGroupBuilder MapSearch(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/search").WithTags("Search");

        group.MapGet("/runs", async (HttpContext ctx, SearchStore search, EventStore events) =>
            {
                var r = ctx.Request;
                var ids = r.QueryList("experimentId").Select(id => Validate.ExperimentId(id, "experimentId")).ToList();
                if (ids.Count == 0) throw LineageException.Invalid("experimentId", "give at least one experimentId (repeat it for several experiments)");
                // Read before the page's snapshot: a stream opened after this id replays every change the page may
                // miss (and perhaps a few it has, harmlessly), so a live page need not read its runs a second time.
                ctx.Response.Headers[EventsHeadHeader] = (await events.HeadAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture);
                var page = await search.SearchRunsAsync(ids, Validate.Lifecycle(r.QueryText("lifecycle")), Parse(r, SearchTarget.Runs),
                    r.QueryInt("limit"), r.QueryText("pageToken"));
                return Results.Json(new RunListResponse(page.Items.Select(v => v.Run.ToDto()).ToList(), page.NextPageToken),
                    LineageJson.Default.RunListResponse);
            })
            .Produces<RunListResponse>();

        group.MapGet("/experiments", async (HttpContext ctx, SearchStore search) =>
            {
                var r = ctx.Request;
                var page = await search.SearchExperimentsAsync(Validate.Lifecycle(r.QueryText("lifecycle")), Parse(r, SearchTarget.Experiments),
                    r.QueryInt("limit"), r.QueryText("pageToken"));
                return Results.Json(new ExperimentListResponse(page.Items.Select(v => v.Experiment.ToDto()).ToList(), page.NextPageToken),
                    LineageJson.Default.ExperimentListResponse);
            })
            .Produces<ExperimentListResponse>();

        group.MapGet("/artifacts", async (HttpContext ctx, SearchStore search) =>
            {
                var r = ctx.Request;
                var page = await search.SearchArtifactsAsync(r.QueryText("project"), Validate.Lifecycle(r.QueryText("lifecycle")),
                    Parse(r, SearchTarget.Artifacts), r.QueryInt("limit"), r.QueryText("pageToken"));
                return Results.Json(new ArtifactListResponse(page.Items.Select(v => v.ToDto()).ToList(), page.NextPageToken),
                    LineageJson.Default.ArtifactListResponse);
            })
            .Produces<ArtifactListResponse>();
        return api;
    }

    private static SearchQuery Parse(HttpRequest r, SearchTarget target) =>
        QueryParser.Parse(target, r.QueryText("filter"),
            r.Query.TryGetValue("orderBy", out var order) ? order.Where(o => !string.IsNullOrWhiteSpace(o)).Select(o => o!) : null);
}
