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

/// <summary>
/// The event pump and webhook sender (issue 14). Woken by every local commit that carried an event (and by a timer, for other
/// servers' commits and for retries that fall due), it numbers new events (PostgreSQL), fans them out into webhook queues,
/// claims due queues under a lease and sends each queue's deliveries in event order, one at a time per webhook and up to
/// <see cref="ParallelWebhooks"/> webhooks at once. A failed delivery blocks its webhook's queue until it succeeds or is
/// dead-lettered (per-webhook ordering); retries back off exponentially with jitter. At least once: a crash after the send and
/// before <see cref="WebhookStore.CompleteAsync"/> sends that delivery again when the lease expires (receivers dedupe on
/// <c>webhook-id</c>).
/// </summary>
public sealed class WebhookSender(WebhookStore webhooks, EventStore events, ServerOptions options, WebhookTargets targets, ILogger<WebhookSender> log)
    : BackgroundService
{
    public const int ParallelWebhooks = 16;
    public const int DeliveriesPerClaim = 200;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(250);
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
            var wake = EventSignal.Committed.Next;
            var busy = false;
            try
            {
                busy = await PumpAsync(stoppingToken);
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
            if (!busy) await Task.WhenAny(wake, Task.Delay(IdlePoll, stoppingToken));
        }
    }

    /// <summary>One round; true when there may be more to do at once.</summary>
    private async Task<bool> PumpAsync(CancellationToken ct)
    {
        var busy = await events.SequenceAsync(ct) > 0;
        var (fanOut, claim) = await webhooks.PendingWorkAsync();
        if (fanOut) busy |= await webhooks.FanOutAsync(ct: ct) > 0;
        if (!fanOut && !claim) return busy;
        var claimed = await webhooks.ClaimAsync(_server, Lease, ParallelWebhooks, DeliveriesPerClaim, ct);
        if (claimed.Count == 0) return busy;
        await Task.WhenAll(claimed.Select(w => SendQueueAsync(w, ct)));
        return true;
    }

    private async Task SendQueueAsync(ClaimedWebhook w, CancellationToken ct)
    {
        var results = new List<AttemptResult>(w.Deliveries.Count);
        var started = Stopwatch.StartNew();
        try
        {
            foreach (var d in w.Deliveries)
            {
                var attempt = await SendAsync(w, d, ct);
                results.Add(attempt);
                if (!attempt.Succeeded || started.Elapsed > Lease / 2) break;
            }
        }
        finally
        {
            // Recorded even when stopping: what was sent is known, and the lease is released for another server.
            await webhooks.CompleteAsync(_server, w.Id, results, CancellationToken.None);
        }
    }

    private async Task<AttemptResult> SendAsync(ClaimedWebhook w, ClaimedDelivery d, CancellationToken ct)
    {
        var id = $"evt_{d.Event.Seq}";
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, w.Url);
        string body;
        if (w.Format == WebhookFormat.Mlflow)
        {
            body = MlflowWebhookEvents.Body(d.Event);
            request.Headers.Add("X-MLflow-Delivery-Id", id);
            request.Headers.Add("X-MLflow-Timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("X-MLflow-Signature", WebhookSignature.Sign(Encoding.UTF8.GetBytes(w.Secret), id, timestamp, body));
        }
        else
        {
            body = JsonSerializer.Serialize(EventsApi.ToDto(d.Event), EventsJson.Default.EventDto);
            request.Headers.Add("webhook-id", id);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSignature.Sign(WebhookSignature.StandardKey(w.Secret), id, timestamp, body));
        }
        request.Headers.UserAgent.Add(ProductInfoHeaderValue.Parse(UserAgent));
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");

        var clock = Stopwatch.StartNew();
        int? code = null;
        string? error;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.WebhookTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
                return new AttemptResult(d.Id, true, code, clock.ElapsedMilliseconds, null, null);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            error = $"HTTP {code}{(text.Length == 0 ? "" : ": " + (text.Length > 200 ? text[..200] : text))}";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            error = $"no answer within {options.WebhookTimeout.TotalSeconds:0.###} s";
        }
        catch (HttpRequestException ex)
        {
            error = ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message;
        }
        var attempts = d.Attempts + 1;
        long? next = attempts >= options.WebhookMaxAttempts ? null : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)Backoff(attempts).TotalMilliseconds;
        if (next is null) log.LogWarning("webhook {Webhook}: event {Event} dead-lettered after {Attempts} attempts: {Error}", w.Id, d.Event.Seq, attempts, error);
        return new AttemptResult(d.Id, false, code, clock.ElapsedMilliseconds, error, next);
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
