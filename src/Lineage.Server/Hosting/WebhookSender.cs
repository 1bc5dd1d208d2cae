using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Lineage.Core.Contracts;
using Lineage.Core.Events;
using Lineage.Server.V1;
using Lineage.Storage.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lineage.Server.Hosting;

/// <summary>What a receiver answered one POST: success (2xx), its status and (the start of) its body, or why there was no answer.</summary>
public sealed record WebhookTestResult(bool Succeeded, int? Status, string? ResponseBody, string? Error, long LatencyMs);

/// <summary>
/// The webhook sender (issue 14). Woken by the <see cref="EventFeed"/> when events are new (and by a timer, for other
/// servers' commits and for retries that fall due), it fans new events out into webhook queues,
/// claims due queues under a lease and sends each queue's deliveries in event order, one at a time per webhook and up to
/// <see cref="ParallelWebhooks"/> webhooks at once. A failed delivery blocks its webhook's queue until it succeeds or is
/// dead-lettered (per-webhook ordering); retries back off exponentially with jitter. At least once: each attempt is recorded
/// (<see cref="WebhookStore.CompleteAsync"/>) before the next delivery is sent, so a crash between a send and its record sends
/// that one delivery again when the lease expires (receivers dedupe on <c>webhook-id</c>).
/// </summary>
public sealed class WebhookSender(WebhookStore webhooks, EventFeed feed, ServerOptions options, WebhookTargets targets, ILogger<WebhookSender> log)
    : BackgroundService
{
    public const int ParallelWebhooks = 16;
    public const int DeliveriesPerClaim = 200;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(250);

    /// <summary>How soon a webhook created on another server is served by this one too (that server serves it at once).</summary>
    private static readonly TimeSpan NoWebhooksPoll = TimeSpan.FromSeconds(2);
    private static readonly string UserAgent = $"Lineage-Webhooks/{LineageServer.Version}";

    /// <summary>This process's name in leases.</summary>
    private readonly string _server = $"{Environment.ProcessId}-{Guid.NewGuid():N}";

    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        ConnectCallback = targets.ConnectAsync,
        AllowAutoRedirect = false, // a redirect would be a second, unchecked target
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        MaxConnectionsPerServer = ParallelWebhooks,
    }) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>The lease outlives a full batch of slow receivers only in the worst case; a batch stops sending at half of it.</summary>
    private TimeSpan Lease => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, options.WebhookTimeout.Ticks * 3));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var published = feed.Published.Next;
            var changed = WebhookStore.Changed.Next;
            var (busy, any) = (false, true);
            try
            {
                (busy, any) = await PumpAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "webhook delivery loop failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            if (busy) continue;
            // With no active webhook, new events are nobody's business here: only a webhook change (or, from another server, the
            // slow poll) can give this loop work.
            if (any) await Task.WhenAny(published, changed, Task.Delay(IdlePoll, stoppingToken));
            else await Task.WhenAny(changed, Task.Delay(NoWebhooksPoll, stoppingToken));
        }
    }

    /// <summary>One round; whether there may be more to do at once, and whether any webhook is active.</summary>
    private async Task<(bool Busy, bool Any)> PumpAsync(CancellationToken ct)
    {
        var (any, fanOut, claim) = await webhooks.PendingWorkAsync();
        var busy = fanOut && await webhooks.FanOutAsync(ct: ct) > 0;
        if (!fanOut && !claim) return (busy, any);
        var claimed = await webhooks.ClaimAsync(_server, Lease, ParallelWebhooks, DeliveriesPerClaim, ct);
        if (claimed.Count == 0) return (busy, any);
        await Task.WhenAll(claimed.Select(w => SendQueueAsync(w, ct)));
        return (true, any);
    }

    private async Task SendQueueAsync(ClaimedWebhook w, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        try
        {
            foreach (var d in w.Deliveries)
            {
                var attempt = await SendAsync(w, d, ct);
                // Recorded before the next is sent (even when stopping: what was sent is known), so a crash re-sends at most the
                // delivery in flight, never the ones before it in the batch.
                await webhooks.CompleteAsync(_server, w.Id, [attempt], release: false, CancellationToken.None);
                if (!attempt.Succeeded || started.Elapsed > Lease / 2) break;
            }
        }
        finally
        {
            // The lease is released for another server (or this one's next round).
            await webhooks.CompleteAsync(_server, w.Id, [], release: true, CancellationToken.None);
        }
    }

    private async Task<AttemptResult> SendAsync(ClaimedWebhook w, ClaimedDelivery d, CancellationToken ct)
    {
        var body = w.Format == WebhookFormat.Mlflow ? MlflowWebhookEvents.Body(d.Event) : JsonSerializer.Serialize(EventsApi.ToDto(d.Event), EventsJson.Default.EventDto);
        var sent = await PostAsync(w.Url, w.Format, w.Secret, $"evt_{d.Event.Seq}", body, ct);
        if (sent.Succeeded) return new AttemptResult(d.Id, true, sent.Status, sent.LatencyMs, null, null);
        var attempts = d.Attempts + 1;
        long? next = attempts >= options.WebhookMaxAttempts ? null : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)Backoff(attempts).TotalMilliseconds;
        if (next is null) log.LogWarning("webhook {Webhook}: event {Event} dead-lettered after {Attempts} attempts: {Error}", w.Id, d.Event.Seq, attempts, sent.Error);
        return new AttemptResult(d.Id, false, sent.Status, sent.LatencyMs, sent.Error, next);
    }

    /// <summary>
    /// Sends a test delivery now, outside the queue, and reports what the receiver answered (MLflow's <c>webhooks/{id}/test</c>):
    /// an MLflow webhook gets MLflow's example payload for <paramref name="mlflowEvent"/> (default: its first event), a Lineage one
    /// a <c>webhook.test</c> event. Signed like any delivery; nothing is stored.
    /// </summary>
    public async Task<WebhookTestResult> TestAsync(Webhook hook, string secret, string? mlflowEvent, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var id = $"test_{Guid.NewGuid():N}";
        var body = hook.Format == WebhookFormat.Mlflow
            ? MlflowWebhookEvents.TestBody(mlflowEvent ?? hook.EventTypes[0], now)
            : JsonSerializer.Serialize(EventsApi.ToDto(new DomainEvent(0, EventTypes.WebhookTest, hook.Project, now, null, $"webhook:{hook.Id}",
                JsonSerializer.Serialize(WebhookStore.TestPayload(hook)))), EventsJson.Default.EventDto);
        return await PostAsync(hook.Url, hook.Format, secret, id, body, ct);
    }

    /// <summary>One signed POST: MLflow's <c>X-MLflow-*</c> headers for an MLflow webhook, Standard Webhooks' for a Lineage one.</summary>
    private async Task<WebhookTestResult> PostAsync(string url, string format, string secret, string id, string body, CancellationToken ct)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var stamp = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        if (format == WebhookFormat.Mlflow)
        {
            request.Headers.Add("X-MLflow-Delivery-Id", id);
            request.Headers.Add("X-MLflow-Timestamp", stamp);
            request.Headers.Add("X-MLflow-Signature", WebhookSignature.Sign(Encoding.UTF8.GetBytes(secret), id, timestamp, body));
        }
        else
        {
            request.Headers.Add("webhook-id", id);
            request.Headers.Add("webhook-timestamp", stamp);
            request.Headers.Add("webhook-signature", WebhookSignature.Sign(WebhookSignature.StandardKey(secret), id, timestamp, body));
        }
        request.Headers.UserAgent.Add(ProductInfoHeaderValue.Parse(UserAgent));
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");

        var clock = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.WebhookTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var code = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            if (text.Length > 1000) text = text[..1000];
            return response.IsSuccessStatusCode
                ? new WebhookTestResult(true, code, text, null, clock.ElapsedMilliseconds)
                : new WebhookTestResult(false, code, text, $"HTTP {code}{(text.Length == 0 ? "" : ": " + (text.Length > 200 ? text[..200] : text))}", clock.ElapsedMilliseconds);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new WebhookTestResult(false, null, null, $"no answer within {options.WebhookTimeout.TotalSeconds:0.###} s", clock.ElapsedMilliseconds);
        }
        catch (HttpRequestException ex)
        {
            return new WebhookTestResult(false, null, null, ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message, clock.ElapsedMilliseconds);
        }
    }

    /// <summary>base × 2^(n−1), capped, then "equal jitter": half fixed, half random, so receivers coming back are not hit in step.</summary>
    internal TimeSpan Backoff(int attempts)
    {
        var exp = Math.Min(options.WebhookRetryMax.TotalMilliseconds, options.WebhookRetryBase.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 30)));
        return TimeSpan.FromMilliseconds(exp / 2 + Random.Shared.NextDouble() * exp / 2);
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
