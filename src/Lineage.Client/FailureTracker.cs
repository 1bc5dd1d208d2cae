using System.Runtime.ExceptionServices;

namespace Lineage.Client;

/// <summary>
/// Lets <c>await using var run = …</c> end a run FAILED when an exception leaves the block.
/// C# gives DisposeAsync no view of that exception, so each run opens a scope on the caller's
/// async flow and watches first-chance exceptions thrown on that flow. An SDK call that
/// completes after an exception shows the code went on (the exception was handled) and
/// clears it. What remains at dispose is the exception that ended the block.
/// Limitation: an exception caught inside the block with no later call on the run still
/// counts; call <c>EndAsync(RunStatus.Finished)</c> explicitly in that case.
/// </summary>
internal static class FailureTracker
{
    private static readonly AsyncLocal<Scope?> Current = new();

    static FailureTracker()
    {
        AppDomain.CurrentDomain.FirstChanceException += OnFirstChance;
    }

    /// <summary>Must be called from a non-async method so the scope lands on the caller's flow.</summary>
    public static Scope Enter()
    {
        var scope = new Scope(Current.Value);
        Current.Value = scope;
        return scope;
    }

    private static void OnFirstChance(object? sender, FirstChanceExceptionEventArgs e)
    {
        for (var scope = Current.Value; scope is not null; scope = scope.Parent)
            if (!scope.Closed) scope.Pending = e.Exception;
    }

    internal sealed class Scope(Scope? parent)
    {
        public Scope? Parent { get; } = parent;
        public volatile Exception? Pending;
        public volatile bool Closed;
    }
}
