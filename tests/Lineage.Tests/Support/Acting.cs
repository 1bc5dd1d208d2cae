using Lineage.Storage.Engine;

namespace Lineage.Tests.Support;

/// <summary>Runs store calls as a named user, the way the server runs a request's operations (one <see cref="OperationContext"/>).</summary>
public static class Acting
{
    public static async Task<T> As<T>(string? actor, Func<Task<T>> call)
    {
        using var entered = OperationContext.Enter(OperationContext.Current with { Actor = actor });
        return await call();
    }

    public static async Task As(string? actor, Func<Task> call)
    {
        using var entered = OperationContext.Enter(OperationContext.Current with { Actor = actor });
        await call();
    }

    /// <summary>Runs a store call under an Idempotency-Key, as a request carrying the header does.</summary>
    public static async Task<T> WithKey<T>(IdempotencyKey key, Func<Task<T>> call)
    {
        using var entered = OperationContext.Enter(OperationContext.Current with { Idempotency = key });
        return await call();
    }
}
