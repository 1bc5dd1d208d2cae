using System.Text;
using System.Text.Json;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Events;
using Lineage.Core.Tracking;
using Lineage.Server.Http;
using Lineage.Storage.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>
/// The event log (issue 14): <c>GET /events</c> pages it by id; <c>GET /events/stream</c> follows it as Server-Sent Events.
/// Both see only events of projects the caller may read (the request's <c>ProjectScope</c>, as for entities).
/// </summary>
public static class EventsApi
{
    /// <summary>A stream sends a comment line this often when nothing happens, so proxies keep the connection.</summary>
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    /// <summary>How often a stream looks for events committed by other servers (local commits wake it at once).</summary>
    private static readonly TimeSpan StreamPoll = TimeSpan.FromSeconds(1);

    public static RouteGroupBuilder MapEvents(this RouteGroupBuilder api)
    {
        var events = api.MapGroup("/events").WithTags("Events");

        events.MapGet("/", async (HttpContext ctx, EventStore store) =>
            {
                var q = ctx.Request;
                var limit = q.QueryInt("limit") ?? 100;
                var page = await store.ListAsync(new EventQuery(Types(q), q.QueryText("project"), q.QueryLong("after") ?? 0, limit));
                return Results.Json(new EventListResponse(page.Select(ToDto).ToList(), page.Count == limit ? page[^1].Seq : null),
                    EventsJson.Default.EventListResponse);
            })
            .Produces<EventListResponse>();

        // text/event-stream: "id: <event id>", "event: <type>", "data: <event JSON>". Resumes after Last-Event-ID (or ?after=);
        // without either it starts with the next event.
        events.MapGet("/stream", async (HttpContext ctx, EventStore store) =>
        {
            var q = ctx.Request;
            var types = Types(q);
            EventStore.CheckTypes(types);
            var project = q.QueryText("project");
            var resume = q.Headers["Last-Event-ID"].FirstOrDefault() is { Length: > 0 } header
                ? long.TryParse(header, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id
                    : throw LineageException.Invalid("Last-Event-ID", $"'Last-Event-ID' must be an event id, got '{Validate.Shorten(header)}'")
                : q.QueryLong("after");
            var after = resume ?? await store.HeadAsync();
            // A bad project or type answers 400/404 before the stream starts.
            await store.ListAsync(new EventQuery(types, project, after, 1));

            var response = ctx.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            var aborted = ctx.RequestAborted;
            await response.WriteAsync(": lineage event stream\n\n", aborted);
            await response.Body.FlushAsync(aborted);
            var quietSince = DateTime.UtcNow;
            try
            {
                while (!aborted.IsCancellationRequested)
                {
                    var wake = EventSignal.Sequenced.Next;
                    var page = await store.ListAsync(new EventQuery(types, project, after, EventStore.MaxPage));
                    if (page.Count > 0)
                    {
                        var text = new StringBuilder();
                        foreach (var e in page)
                            text.Append("id: ").Append(e.Seq).Append("\nevent: ").Append(e.Type).Append("\ndata: ")
                                .Append(JsonSerializer.Serialize(ToDto(e), EventsJson.Default.EventDto)).Append("\n\n");
                        await response.WriteAsync(text.ToString(), aborted);
                        await response.Body.FlushAsync(aborted);
                        after = page[^1].Seq;
                        quietSince = DateTime.UtcNow;
                        if (page.Count == EventStore.MaxPage) continue;
                    }
                    else if (DateTime.UtcNow - quietSince > KeepAlive)
                    {
                        await response.WriteAsync(": keep-alive\n\n", aborted);
                        await response.Body.FlushAsync(aborted);
                        quietSince = DateTime.UtcNow;
                    }
                    await Task.WhenAny(wake, Task.Delay(StreamPoll, aborted));
                }
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                // The client went away.
            }
            return Results.Empty;
        });

        return api;
    }

    /// <summary><c>type</c> repeated or comma-separated.</summary>
    private static IReadOnlyList<string> Types(HttpRequest q) =>
        q.QueryList("type").SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    public static EventDto ToDto(DomainEvent e)
    {
        using var payload = JsonDocument.Parse(e.Payload);
        return new EventDto(e.Seq, e.Type, e.Project, e.Time, e.Actor, e.Entity, payload.RootElement.Clone());
    }
}
