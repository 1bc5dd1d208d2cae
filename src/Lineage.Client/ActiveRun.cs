using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;

namespace Lineage.Client;

/// <summary>
/// A run being tracked. <see cref="LogMetric"/>, <see cref="LogParam"/> and <see cref="SetTag"/>
/// return at once: entries are buffered and a background loop sends them in order, in batches
/// of up to 10,000 points, each with an idempotency key so a retried batch is applied once.
/// <see cref="FlushAsync"/> waits until everything logged so far is stored, or throws what
/// the server rejected. Disposing flushes and ends the run: FINISHED, or FAILED when an
/// exception left the <c>await using</c> block (see <see cref="FailureTracker"/>).
/// Logging methods are thread-safe.
/// </summary>
public sealed class ActiveRun : IAsyncDisposable
{
    /// <summary>Entries waiting to be sent beyond which logging blocks until the server catches up.</summary>
    public const int MaxPending = 1_000_000;

    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(200);
    private const int MaxAttempts = 8;

    private readonly LineageClient _client;
    private readonly FailureTracker.Scope _scope;
    private readonly object _lock = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly List<Entry> _pending = [];
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private readonly List<Exception> _errors = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sender;
    private long _enqueued, _sent;
    private bool _ended;

    internal ActiveRun(LineageClient client, RunDto run, FailureTracker.Scope scope)
    {
        _client = client;
        _scope = scope;
        Info = run;
        // The sender must not run on the caller's async flow, or its own handled
        // exceptions would look like failures of the run.
        using (ExecutionContext.SuppressFlow())
            _sender = Task.Run(SendLoopAsync);
    }

    /// <summary>The run as created (status at start).</summary>
    public RunDto Info { get; }

    public string RunId => Info.RunId;

    public string ExperimentId => Info.ExperimentId;

    /// <summary>Buffers one metric point; NaN and ±Infinity are allowed. Timestamp defaults to now.</summary>
    public void LogMetric(string key, double value, long step = 0, long? timestamp = null)
    {
        Validate.Key(key, "key");
        Enqueue(new Entry(EntryKind.Metric, key, null, value, step, timestamp ?? Clock.NowMs()));
    }

    /// <summary>
    /// Buffers a param. Params are write-once: a different value for a logged key fails the flush.
    /// <paramref name="sensitive"/> has the server store it encrypted whatever its key (docs/governance.md).
    /// </summary>
    public void LogParam(string key, string value, bool sensitive = false)
    {
        Validate.Key(key, "key");
        Validate.Text(value, "value", Limits.MaxParamValueLength);
        Enqueue(new Entry(EntryKind.Param, key, value, 0, 0, 0, sensitive));
    }

    /// <summary>Buffers a tag; a later value for the same key overwrites. <paramref name="sensitive"/>: stored encrypted.</summary>
    public void SetTag(string key, string value, bool sensitive = false)
    {
        Validate.Key(key, "key");
        Validate.Text(value, "value", Limits.MaxTagValueLength);
        Enqueue(new Entry(EntryKind.Tag, key, value, 0, 0, 0, sensitive));
    }

    /// <summary>Sends a batch now, in order after everything buffered before it, and waits for it.</summary>
    public async Task LogBatchAsync(IEnumerable<MetricPoint>? metrics = null, IEnumerable<KeyValue>? parameters = null,
        IEnumerable<KeyValue>? tags = null, CancellationToken ct = default)
    {
        foreach (var p in parameters ?? []) LogParam(p.Key, p.Value, p.Sensitive);
        foreach (var t in tags ?? []) SetTag(t.Key, t.Value, t.Sensitive);
        foreach (var m in metrics ?? []) LogMetric(m.Key, m.Value, m.Step, m.Timestamp);
        await FlushAsync(ct);
    }

    /// <summary>
    /// Waits until everything logged before this call is stored. Throws the first error the
    /// server returned for any batch since the last flush (the rejected batch is not stored).
    /// </summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        Task wait;
        lock (_lock)
        {
            if (_sent >= _enqueued)
            {
                wait = Task.CompletedTask;
            }
            else
            {
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((_enqueued, done));
                wait = done.Task;
            }
        }
        _wake.Release();
        await wait.WaitAsync(ct);
        ThrowErrors();
        Touch();
    }

    /// <summary>Flushes, then ends the run with <paramref name="status"/> (FINISHED by default). Later calls do nothing.</summary>
    public async Task EndAsync(RunStatus status = RunStatus.Finished, CancellationToken ct = default)
    {
        if (_ended) return;
        Exception? flushError = null;
        try
        {
            await FlushAsync(ct);
        }
        catch (LineageException ex)
        {
            flushError = ex;
        }
        await _client.UpdateRunAsync(RunId, new UpdateRunRequest(status.ToString().ToUpperInvariant(), Clock.NowMs()), ct);
        _ended = true;
        _scope.Closed = true;
        await StopSenderAsync();
        if (flushError is not null) throw flushError;
    }

    /// <summary>Registers a file or directory as an artifact version produced by this run.</summary>
    public async Task<ArtifactVersionDto> RegisterArtifactAsync(string name, string path, string type, object? metadata = null,
        IProgress<TransferProgress>? progress = null, CancellationToken ct = default)
    {
        var version = await _client.RegisterArtifactAsync(name, path, type, metadata, runId: RunId, progress: progress, ct: ct);
        Touch();
        return version;
    }

    /// <summary>Records that this run consumed an artifact version, e.g. its training data.</summary>
    public async Task LogInputAsync(string artifactName, string version = "latest", string role = "input", CancellationToken ct = default)
    {
        await _client.LogRunInputAsync(RunId, new ArtifactRefDto(Name: artifactName, Version: version), role, ct);
        Touch();
    }

    /// <summary>Starts a nested run in the same experiment with this run as parent.</summary>
    public Task<ActiveRun> StartChildRunAsync(string? name = null, IDictionary<string, string>? tags = null, CancellationToken ct = default) =>
        _client.StartRunAsync(ExperimentId, name, tags, parentRunId: RunId, byId: true, ct: ct);

    /// <summary>
    /// Flushes and ends the run if not ended yet: FAILED when an exception left the block,
    /// otherwise FINISHED. A delivery failure is thrown, unless an exception is already
    /// leaving the block (it would hide it), in which case the run is marked FAILED.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_ended) return;
        var failure = _scope.Pending;
        _scope.Closed = true;
        try
        {
            await EndAsync(failure is null ? RunStatus.Finished : RunStatus.Failed);
        }
        catch (LineageException) when (failure is not null)
        {
            // The block's own exception is propagating; it matters more than ours.
        }
        finally
        {
            await StopSenderAsync();
        }
    }

    private void Enqueue(Entry entry)
    {
        lock (_lock)
        {
            if (_ended) throw new InvalidOperationException($"run {RunId} has ended; start a new run to log more");
            while (_pending.Count >= MaxPending) Monitor.Wait(_lock);
            _pending.Add(entry);
            _enqueued++;
            if (_pending.Count % Limits.MaxBatchMetrics == 0) _wake.Release();
        }
        Touch();
    }

    /// <summary>A completed SDK call means the code went on after any earlier exception.</summary>
    private void Touch() => _scope.Pending = null;

    private async Task SendLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(FlushInterval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                // Stopping: fall through to send what is left.
            }
            while (TakeBatch() is { } batch)
            {
                await SendAsync(batch.Request, batch.Count);
            }
        }
    }

    private (BatchRequest Request, int Count)? TakeBatch()
    {
        lock (_lock)
        {
            if (_pending.Count == 0) return null;
            List<LogMetricRequest> metrics = [];
            List<KeyValueDto> parameters = [], tags = [];
            var count = 0;
            foreach (var e in _pending)
            {
                var full = e.Kind switch
                {
                    EntryKind.Metric => metrics.Count == Limits.MaxBatchMetrics,
                    EntryKind.Param => parameters.Count == Limits.MaxBatchParams,
                    _ => tags.Count == Limits.MaxBatchTags,
                };
                if (full) break;
                switch (e.Kind)
                {
                    case EntryKind.Metric: metrics.Add(new LogMetricRequest(e.Key, e.Value, e.Step, e.Timestamp)); break;
                    case EntryKind.Param: parameters.Add(new KeyValueDto(e.Key, e.Text, e.Sensitive ? true : null)); break;
                    default: tags.Add(new KeyValueDto(e.Key, e.Text, e.Sensitive ? true : null)); break;
                }
                count++;
            }
            _pending.RemoveRange(0, count);
            Monitor.PulseAll(_lock);
            return (new BatchRequest(metrics, parameters, tags), count);
        }
    }

    private async Task SendAsync(BatchRequest batch, int count)
    {
        var key = Guid.NewGuid().ToString("N");
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _client.LogBatchAsync(RunId, batch, key);
                break;
            }
            catch (LineageApiException ex) when (ex.IsTransient && attempt < MaxAttempts)
            {
                // Same key on every attempt: a batch the server stored but whose answer was lost is not stored twice.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10_000, 100 * (1 << attempt))));
            }
            catch (Exception ex)
            {
                lock (_lock) _errors.Add(ex);
                break;
            }
        }
        lock (_lock)
        {
            _sent += count;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Target > _sent) continue;
                _waiters[i].Done.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    private void ThrowErrors()
    {
        Exception? first;
        lock (_lock)
        {
            first = _errors.FirstOrDefault();
            _errors.Clear();
        }
        if (first is not null) throw first;
    }

    private async Task StopSenderAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        await _sender;
    }

    private enum EntryKind : byte { Metric, Param, Tag }

    private readonly record struct Entry(EntryKind Kind, string Key, string? Text, double Value, long Step, long Timestamp, bool Sensitive = false);
}
