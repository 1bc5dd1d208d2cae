using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lineage.Tests.Support;

/// <summary>
/// The errors an in-process server logs (its unhandled-error lines, with their exceptions), kept so a test that
/// meets a 500 can say why in its failure message instead of only "500 internal error".
/// </summary>
public sealed class ServerErrorLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _errors = new();

    public static ServerErrorLog AttachTo(TestServer server)
    {
        var log = new ServerErrorLog();
        server.Server.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(log);
        return log;
    }

    /// <summary>Everything logged at Error or above since the last call, then forgotten.</summary>
    public string Drain()
    {
        var lines = new List<string>();
        while (_errors.TryDequeue(out var line)) lines.Add(line);
        return string.Join("\n", lines);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(ServerErrorLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) log._errors.Enqueue($"[{category}] {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
        }
    }
}
