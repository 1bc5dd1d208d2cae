using Lineage.Core.Tracking;
using Lineage.Storage.Alerts;
using Lineage.Storage.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lineage.Server.Hosting;

/// <summary>
/// Runs the alert evaluator (issue 14, part 5): woken by the <see cref="EventFeed"/> when events are new (a local commit; a timer for other servers'),
/// it evaluates the rules the new events concern, and every <see cref="ServerOptions.AlertInterval"/> it runs the time-based
/// pass. The position in the event log is kept in memory and saved with every evaluation (and every few seconds otherwise,
/// while rules exist); a restart reads on from the saved position, and reading an event twice changes nothing.
/// </summary>
public sealed class AlertService(AlertEvaluator evaluator, EventFeed feed, ServerOptions options, ILogger<AlertService> log) : BackgroundService
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan SaveEvery = TimeSpan.FromSeconds(10);

    /// <summary>How soon a rule created on another server is evaluated here too (that server evaluates it at once).</summary>
    private static readonly TimeSpan NoRulesPoll = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long position = -1, saved = -1;
        var nextTimed = DateTime.UtcNow;
        var nextSave = DateTime.UtcNow + SaveEvery;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = feed.Published.Next;
            var created = AlertStore.RuleCreated.Next;
            var busy = false;
            var anyRules = true;
            try
            {
                if (position < 0) position = saved = await evaluator.PositionAsync();
                (var read, var next, anyRules) = await evaluator.EvaluateEventsAsync(position, stoppingToken);
                busy = read == AlertEvaluator.EventBatch;
                position = next;
                if (DateTime.UtcNow >= nextTimed)
                {
                    await evaluator.EvaluateTimedAsync(Clock.NowMs(), stoppingToken);
                    nextTimed = DateTime.UtcNow + options.AlertInterval;
                }
                // Without rules there is nothing to resume, so nothing is written (the first rule moves the saved position).
                if (anyRules && position > saved && DateTime.UtcNow >= nextSave)
                {
                    await evaluator.SavePositionAsync(position, stoppingToken);
                    saved = position;
                    nextSave = DateTime.UtcNow + SaveEvery;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "alert evaluation failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            if (busy) continue;
            if (anyRules)
            {
                var untilTimed = nextTimed - DateTime.UtcNow;
                await Task.WhenAny(wake, created, Task.Delay(untilTimed < IdlePoll ? (untilTimed > TimeSpan.Zero ? untilTimed : TimeSpan.Zero) : IdlePoll, stoppingToken));
            }
            else
            {
                // No rule anywhere: new events concern nobody, so only a new rule (or the slow poll, for other servers') wakes this loop.
                await Task.WhenAny(created, Task.Delay(NoRulesPoll, stoppingToken));
            }
        }
    }
}
