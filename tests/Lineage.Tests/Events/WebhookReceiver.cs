using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Lineage.Tests.Events;

/// <summary>
/// A real HTTP receiver on 127.0.0.1 (HttpListener): records every request it gets and answers with what
/// <see cref="Answer"/> says for it (a status code, after an optional delay), so tests can fail, stall or succeed on purpose.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    /// <summary>One request; <see cref="Path"/> tells apart webhooks pointed at different paths under <see cref="Url"/>.</summary>
    public sealed record Received(int Number, Dictionary<string, string> Headers, string Body, DateTime At, string Path);

    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _count;

    /// <summary>Status (and delay) for the n-th request (1-based); default 200 at once.</summary>
    public Func<Received, Task<int>> Answer { get; set; } = _ => Task.FromResult(200);

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>Only the requests answered 2xx, in arrival order.</summary>
    public ConcurrentQueue<Received> Accepted { get; } = new();

    public string Url { get; }

    public WebhookReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using var reader = new StreamReader(ctx.Request.InputStream);
                var body = await reader.ReadToEndAsync();
                var headers = ctx.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!.ToLowerInvariant(), k => ctx.Request.Headers[k]!);
                var received = new Received(Interlocked.Increment(ref _count), headers, body, DateTime.UtcNow, ctx.Request.Url?.AbsolutePath ?? "");
                Requests.Enqueue(received);
                int status;
                try
                {
                    status = await Answer(received);
                }
                catch
                {
                    status = 500;
                }
                if (status is >= 200 and < 300) Accepted.Enqueue(received);
                try
                {
                    ctx.Response.StatusCode = status;
                    ctx.Response.Close();
                }
                catch (Exception)
                {
                    // The sender gave up (timeout) and closed the connection.
                }
            });
        }
    }

    /// <summary>Waits until <paramref name="done"/> holds, failing after <paramref name="seconds"/>.</summary>
    public static async Task Until(Func<bool> done, int seconds = 20, string what = "condition")
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out after {seconds} s waiting for {what}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception)
        {
            // Stopped.
        }
    }
}
