using Lineage.Server.Hosting;
using Lineage.Storage.Engine;
using Lineage.Storage.Events;
using Lineage.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lineage.Tests.Events;

/// <summary>
/// The event feed wakes the webhook pump, the alert evaluator and the streams. On SQLite a round numbers nothing and, with no
/// stream open, reads nothing, so only the commit that woke it says there is something to look at: a feed that missed it left
/// webhooks to the 250 ms poll (commit-to-delivery p50 130 ms instead of a few). The poll here is an hour: only the commit can
/// wake the consumers.
/// </summary>
public sealed class EventFeedTests
{
    [Fact]
    public async Task a_local_commit_with_an_event_is_published_without_waiting_for_the_poll()
    {
        using var dir = new TempDir();
        await using var db = await Database.OpenAsync(dir.File("feed.db"));
        var feed = new EventFeed(new EventStore(db), NullLogger<EventFeed>.Instance, poll: TimeSpan.FromHours(1));
        var first = feed.Published.Next;
        await feed.StartAsync(CancellationToken.None);
        try
        {
            await first.WaitAsync(TimeSpan.FromSeconds(30)); // the first round always publishes
            for (var i = 0; i < 3; i++)
            {
                var published = feed.Published.Next;
                await db.WriteAsync(async s =>
                {
                    await EventOutbox.AppendAsync(s, "run.created", EventProject.Named("default"), $"run:feed-{i}", new { i });
                    return true;
                });
                await published.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            await feed.StopAsync(CancellationToken.None);
        }
    }
}
