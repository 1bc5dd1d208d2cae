using Lineage.Core.Events;
using Lineage.Server.V1;
using Lineage.Storage.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lineage.Server.Hosting;

/// <summary>
/// The one reader of the event log in this process (issue 11: consumers must not each query the store per commit). Woken by
/// local commits that carried events (and by a timer, for other servers' commits), at most once per <see cref="MinRound"/>
/// whatever the commit rate, it numbers new events (PostgreSQL), reads them once into a shared window while streams are
/// open, and then raises <see cref="Published"/>, which the streams, the webhook pump and the alert evaluator wait on.
/// With no stream open it reads nothing; the window is dropped. Thread-safe.
/// </summary>
/// <param name="poll">How often the feed looks for other servers' commits (default 250 ms; tests set it long).</param>
public sealed class EventFeed(EventStore events, ILogger<EventFeed> log, TimeSpan? poll = null) : BackgroundService
{
    /// <summary>Rounds are at least this far apart: under load one round serves every commit of the interval.</summary>
    public static readonly TimeSpan MinRound = TimeSpan.FromMilliseconds(20);

    /// <summary>How often the feed looks for events committed by other servers (local commits wake it at once).</summary>
    private readonly TimeSpan _poll = poll ?? TimeSpan.FromMilliseconds(250);

    /// <summary>Events kept for streams; a stream further behind reads the store until it catches up.</summary>
    public const int WindowSize = 4 * EventStore.MaxPage;

    private int _streams;
    private Window? _window;

    /// <summary>Raised after every round that numbered or read events, or that a local commit asked for.</summary>
    public EventSignal Published { get; } = new();

    /// <summary>
    /// The latest events, unscoped: every numbered event with a seq above <see cref="FromExclusive"/> up to the last one, in
    /// order and without gaps. Immutable: a round publishes a new one.
    /// </summary>
    public sealed record Window(long FromExclusive, FeedEvent[] Events)
    {
        public long Last => Events.Length == 0 ? FromExclusive : Events[^1].Event.Seq;

        /// <summary>At most <paramref name="limit"/> events after <paramref name="after"/> (which must be inside the window).</summary>
        public ArraySegment<FeedEvent> After(long after, int limit)
        {
            int lo = 0, hi = Events.Length;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (Events[mid].Event.Seq <= after) lo = mid + 1; else hi = mid;
            }
            return new ArraySegment<FeedEvent>(Events, lo, Math.Min(limit, Events.Length - lo));
        }
    }

    /// <summary>An event with its Server-Sent Events frame, rendered once for every stream that sends it.</summary>
    public sealed record FeedEvent(DomainEvent Event, byte[] Frame);

    /// <summary>The shared window, or null while no stream is open (or before the first round after one opened).</summary>
    public Window? Current => Volatile.Read(ref _window);

    /// <summary>A stream opens: the feed reads events for it from the next round on. Dispose when it closes.</summary>
    public IDisposable OpenStream()
    {
        Interlocked.Increment(ref _streams);
        EventSignal.Committed.Notify(); // a round soon, so the window exists by the time the stream has caught up
        return new StreamLease(this);
    }

    private sealed class StreamLease(EventFeed feed) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref feed._streams);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Whether a local commit woke this round. On SQLite a round numbers nothing (events are numbered as they commit)
        // and, with no stream open, reads nothing: this is what tells the webhook pump and the alert evaluator to look.
        // (Checking only the signal taken at the round's start missed the commit that woke it: they waited for the poll.)
        var woken = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = EventSignal.Committed.Next;
            var started = DateTime.UtcNow;
            try
            {
                if (await RoundAsync(stoppingToken) || woken || wake.IsCompleted) Published.Notify();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "event feed round failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            await Task.WhenAny(wake, Task.Delay(_poll, stoppingToken));
            woken = wake.IsCompleted;
            var rest = MinRound - (DateTime.UtcNow - started);
            if (rest > TimeSpan.Zero) await Task.Delay(rest, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>One round: number, then (while streams are open) read what is new into the window. True when anything was new.</summary>
    private async Task<bool> RoundAsync(CancellationToken ct)
    {
        var numbered = await events.SequenceAsync(ct);
        if (Volatile.Read(ref _streams) == 0)
        {
            Volatile.Write(ref _window, null);
            return numbered > 0;
        }
        var window = Current ?? new Window(await events.HeadAsync(), []);
        var fresh = new List<FeedEvent>();
        while (fresh.Count < WindowSize)
        {
            var page = await events.ListAsync(new EventQuery([], null, fresh.Count > 0 ? fresh[^1].Event.Seq : window.Last, EventStore.MaxPage));
            fresh.AddRange(page.Select(e => new FeedEvent(e, EventsApi.Frame(e))));
            if (page.Count < EventStore.MaxPage) break;
        }
        if (fresh.Count == 0 && Current is not null) return numbered > 0;
        // Keep the newest WindowSize events; the window starts just before the oldest kept.
        var all = window.Events.Concat(fresh).ToArray();
        var drop = Math.Max(0, all.Length - WindowSize);
        var from = drop == 0 ? window.FromExclusive : all[drop - 1].Event.Seq;
        Volatile.Write(ref _window, new Window(from, all[drop..]));
        return true;
    }
}
