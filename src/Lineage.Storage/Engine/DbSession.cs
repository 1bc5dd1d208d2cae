using System.Data.Common;
using Lineage.Storage.Governance;

namespace Lineage.Storage.Engine;

/// <summary>
/// One open transaction handed to a store operation. Data-access code runs its statements
/// on it and never commits; the <see cref="Database"/> commits when the operation returns.
/// Not thread-safe: one operation uses it at a time.
/// </summary>
public sealed class DbSession(DbConnection connection, DbTransaction? transaction, SqlDialect dialect, FieldProtection fields, bool forWrite)
{
    private List<Action>? _onCommitted;

    public DbConnection Connection { get; } = connection;

    /// <summary>The ADO.NET transaction, or null when the engine manages BEGIN/COMMIT itself (SQLite writer).</summary>
    public DbTransaction? Transaction { get; } = transaction;

    public SqlDialect Dialect { get; } = dialect;

    /// <summary>Sealing and showing of sensitive fields (the database's <see cref="Database.Fields"/>).</summary>
    public FieldProtection Fields { get; } = fields;

    /// <summary>True inside a write operation: sensitive values read there are redacted (results may be stored for idempotent replay).</summary>
    public bool ForWrite { get; } = forWrite;

    /// <summary>Runs after a successful commit; used to publish caches only once their rows are durable.</summary>
    public void OnCommitted(Action action) => (_onCommitted ??= []).Add(action);

    internal void Committed()
    {
        if (_onCommitted is null) return;
        foreach (var action in _onCommitted) action();
    }
}
