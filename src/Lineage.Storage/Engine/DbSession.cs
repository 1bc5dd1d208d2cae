using System.Data.Common;

namespace Lineage.Storage.Engine;

/// <summary>
/// One open transaction handed to a store operation. Data-access code runs its statements
/// on it and never commits; the <see cref="Database"/> commits when the operation returns.
/// Not thread-safe: one operation uses it at a time.
/// </summary>
public sealed class DbSession(DbConnection connection, DbTransaction? transaction, SqlDialect dialect, ProjectScope? scope)
{
    private List<Action>? _onCommitted;

    public DbConnection Connection { get; } = connection;

    /// <summary>The ADO.NET transaction, or null when the engine manages BEGIN/COMMIT itself (SQLite writer).</summary>
    public DbTransaction? Transaction { get; } = transaction;

    public SqlDialect Dialect { get; } = dialect;

    /// <summary>The projects the caller may read; null for every project (see <see cref="ProjectScope"/>).</summary>
    public ProjectScope? Scope { get; } = scope;

    /// <summary>
    /// " AND <paramref name="projectColumn"/> IN (readable projects)", or "" when the session sees every
    /// project: appended to the WHERE clause of any statement that finds, lists or counts project data.
    /// </summary>
    public string Visible(string projectColumn) => Scope is null ? "" : $" AND {Scope.Condition(projectColumn)}";

    /// <summary>Runs after a successful commit; used to publish caches only once their rows are durable.</summary>
    public void OnCommitted(Action action) => (_onCommitted ??= []).Add(action);

    internal void Committed()
    {
        if (_onCommitted is null) return;
        foreach (var action in _onCommitted) action();
    }
}
