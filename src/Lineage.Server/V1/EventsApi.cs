using System.Buffers;
using System.Text;
using System.Text.Json;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Events;
using Lineage.Core.Tracking;
using Lineage.Server.Hosting;
using Lineage.Server.Http;
using Lineage.Storage.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lineage.Server.V1;

/// <summary>
/// The event log (issue 14): <c>GET /events</c> pages it by id; <c>GET /events/stream</c> follows it as Server-Sent Events.
/// Both see only events of projects the caller may read (the request's <c>ProjectScope</c>, as for entities). Streams share
/// one reader of the log (<see cref="EventFeed"/>): however many are open, new events are read from the store once.
/// </summary>
public static class EventsApi
{
    /// <summary>A stream sends a comment line this often when nothing happens, so proxies keep the connection.</summary>
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

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
        // text/event-stream: "id: <event id>", "event: <type>", "data: <event JSON>". Resumes after Last-Event-ID (or ?after=);
        // without either it starts with the next event.
        events.MapGet("/stream", async (HttpContext ctx, EventStore store, EventFeed feed) =>
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
            var readable = await store.ReadableProjectsAsync();

            var response = ctx.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            var aborted = ctx.RequestAborted;
            await response.WriteAsync(": lineage event stream\n\n", aborted);
            await response.Body.FlushAsync(aborted);
            using var lease = feed.OpenStream();
            var quietSince = DateTime.UtcNow;
            try
            {
                while (!aborted.IsCancellationRequested)
                {
                    var wake = feed.Published.Next;
                    var (frames, next, more) = await NextAsync(store, feed.Current, types, project, readable, after);
                    after = next;
                    if (frames.Count > 0)
                    {
                        foreach (var frame in frames) response.BodyWriter.Write(frame);
                        await response.BodyWriter.FlushAsync(aborted);
                        quietSince = DateTime.UtcNow;
                    }
                    else if (DateTime.UtcNow - quietSince > KeepAlive)
                    {
                        await response.WriteAsync(": keep-alive\n\n", aborted);
                        await response.Body.FlushAsync(aborted);
                        quietSince = DateTime.UtcNow;
                    }
                    if (more) continue;
                    await Task.WhenAny(wake, Task.Delay(KeepAlive, aborted));
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

    /// <summary>
    /// A stream's next events after <paramref name="after"/>: from the feed's shared window when it reaches back that far (filtered
    /// here by type, project and the caller's readable projects — the same rules the store's query applies), else from the store,
    /// up to where the window starts. Returns the events to send, the position read through and whether more may be waiting.
    /// </summary>
    private static async Task<(IReadOnlyList<byte[]> Frames, long After, bool More)> NextAsync(EventStore store, EventFeed.Window? window,
        IReadOnlyList<string> types, string? project, IReadOnlySet<string>? readable, long after)
    {
        if (window is not null && after >= window.FromExclusive)
        {
            var slice = window.After(after, EventStore.MaxPage);
            if (slice.Count == 0) return ([], after, false);
            var wanted = slice.Where(f => (project is null || f.Event.Project == project) && (readable is null || readable.Contains(f.Event.Project))
                                          && (types.Count == 0 || types.Any(t => EventTypes.Matches(t, f.Event.Type)))).Select(f => f.Frame).ToList();
            return (wanted, slice[^1].Event.Seq, slice.Count == EventStore.MaxPage);
        }
        // Behind the window (or no window yet): the store, in the caller's scope. Events past the window's start come from the window.
        var page = await store.ListAsync(new EventQuery(types, project, after, EventStore.MaxPage));
        if (window is null) return (page.Select(Frame).ToList(), page.Count > 0 ? page[^1].Seq : after, page.Count == EventStore.MaxPage);
        var upTo = page.TakeWhile(e => e.Seq <= window.FromExclusive).ToList();
        var caughtUp = page.Count < EventStore.MaxPage || upTo.Count < page.Count;
        return (upTo.Select(Frame).ToList(), caughtUp ? window.FromExclusive : page[^1].Seq, true);
    }

    /// <summary>One event as a Server-Sent Events frame: <c>id:</c>, <c>event:</c> and <c>data:</c> (the event's JSON on one line).</summary>
    public static byte[] Frame(DomainEvent e) =>
        Encoding.UTF8.GetBytes($"id: {e.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)}\nevent: {e.Type}\ndata: {JsonSerializer.Serialize(ToDto(e), EventsJson.Default.EventDto)}\n\n");

    /// <summary><c>type</c> repeated or comma-separated.</summary>
    private static IReadOnlyList<string> Types(HttpRequest q) =>
        q.QueryList("type").SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    public static EventDto ToDto(DomainEvent e)
    {
        using var payload = JsonDocument.Parse(e.Payload);
        return new EventDto(e.Seq, e.Type, e.Project, e.Time, e.Actor, e.Entity, payload.RootElement.Clone());
    }
}
