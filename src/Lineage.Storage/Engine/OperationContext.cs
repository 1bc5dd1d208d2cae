namespace Lineage.Storage.Engine;

/// <summary>
/// What a store operation knows of the request it serves: who makes it, which projects it may see, the project it
/// names outside its body, its Idempotency-Key, whether it may see sensitive values, what must commit with its
/// writes, and when to give up reading. Immutable. The server builds one per request in one place
/// (<c>Http/OperationContexts.cs</c>, after authentication) and enters it for the request's async flow; the
/// <see cref="Database"/> captures it once per operation into <see cref="DbSession.Operation"/> — on the caller's
/// flow, because the SQLite writer runs operations on its own loop where that flow is gone. Store and data-access
/// code reads it only from the session. Outside a request (the CLI, background work, tests) it is
/// <see cref="Background"/>: no actor, every project, no key, values shown.
/// </summary>
public sealed record OperationContext
{
    /// <summary>The project of requests that name none.</summary>
    public const string DefaultProject = "default";

    private static readonly AsyncLocal<OperationContext?> Ambient = new();

    public static readonly OperationContext Background = new();

    /// <summary>Who the writes are made by: stamped into created_by / updated_by and named in histories (aliases, approvals).</summary>
    public string? Actor { get; init; }

    /// <summary>The project the request names outside its body (an MLflow tracking URI's <c>/projects/{name}</c>), or null.</summary>
    public string? Project { get; init; }

    /// <summary><see cref="Project"/>, else <see cref="DefaultProject"/>.</summary>
    public string ProjectOrDefault => Project ?? DefaultProject;

    /// <summary>The projects the caller may read; null for every project (see <see cref="ProjectScope"/>).</summary>
    public ProjectScope? Scope { get; init; }

    /// <summary>The request's Idempotency-Key; used by the one write that answers the request (<see cref="Database.WriteAsync{T}"/> with <c>keyed</c>).</summary>
    public IdempotencyKey? Idempotency { get; init; }

    /// <summary>Whether sensitive values may be shown in plaintext, and which were; null shows them (nobody to hide them from).</summary>
    public RevealRights? Reveal { get; init; }

    /// <summary>Runs inside each write transaction after its body, before commit (the request's audit entry).</summary>
    public ICommitHook? BeforeCommit { get; init; }

    /// <summary>Cancels reads when the client goes away. Writes never take it: a write that started finishes and is acknowledged or rolled back whole.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>The context of the current async flow.</summary>
    public static OperationContext Current => Ambient.Value ?? Background;

    /// <summary>Makes <paramref name="operation"/> current for the rest of the caller's async flow; disposing restores the one before.</summary>
    public static Entered Enter(OperationContext operation)
    {
        var previous = Ambient.Value;
        Ambient.Value = operation;
        return new Entered(previous);
    }

    public readonly struct Entered(OperationContext? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }
}

/// <summary>
/// Work a transaction owes before it commits, plugged into the engine by layers above it (governance's audit entry).
/// Runs in every write transaction of the operation (again on a re-run after a group rollback or a retry).
/// </summary>
public interface ICommitHook
{
    Task BeforeCommitAsync(DbSession s);
}
