using System.Data.Common;

namespace Lineage.Storage.Engine;

/// <summary>Tables whose rows <see cref="DbSession.TouchAsync"/> can stamp.</summary>
public enum Touched { Run, Execution, Context }

/// <summary>
/// One open transaction handed to a store operation. Data-access code runs its statements
/// on it and never commits; the <see cref="Database"/> commits when the operation returns.
/// Not thread-safe: one operation uses it at a time.
/// </summary>
public sealed class DbSession(DbConnection connection, DbTransaction? transaction, SqlDialect dialect, IValueProtection fields,
    OperationContext operation)
{
    private List<Action>? _onCommitted;

    public DbConnection Connection { get; } = connection;

    /// <summary>The ADO.NET transaction, or null when the engine manages BEGIN/COMMIT itself (SQLite writer).</summary>
    public DbTransaction? Transaction { get; } = transaction;

    public SqlDialect Dialect { get; } = dialect;

    /// <summary>Sealing and showing of sensitive fields (the database's <see cref="Database.Fields"/>).</summary>
    public IValueProtection Fields { get; } = fields;

    /// <summary>The request this operation serves (who, which projects, which key); <see cref="OperationContext.Background"/> outside one.</summary>
    public OperationContext Operation { get; } = operation;

    /// <summary>
    /// True while the operation's result will be kept under its Idempotency-Key (in the database, for replays):
    /// sensitive values read then are redacted whoever asks, so no plaintext is ever stored with a result.
    /// </summary>
    public bool KeepsResult { get; internal set; }

    /// <summary>The operation turned off the synchronous commit of its transaction (<see cref="SqlDialect.TransactionLockAsync(DbSession, long, bool)"/>).</summary>
    internal bool LazyCommitSet { get; set; }

    /// <summary>Who this operation is made by (<see cref="OperationContext.Actor"/>); stamped into created_by / updated_by.</summary>
    public string? Actor => Operation.Actor;

    /// <summary>The project the request names outside its body, else <c>default</c> (<see cref="OperationContext.ProjectOrDefault"/>).</summary>
    public string RequestProject => Operation.ProjectOrDefault;

    /// <summary>
    /// Records that the row <paramref name="id"/> of a provenance-keeping table was changed now by <see cref="Actor"/>,
    /// for changes that do not rewrite the row itself (tags, members, events).
    /// </summary>
    public Task TouchAsync(Touched table, long id, long now) =>
        Dapper.SqlMapper.ExecuteAsync(Connection, table switch
        {
            Touched.Run => "UPDATE runs SET updated_at = @now, updated_by = @by WHERE id = @id",
            Touched.Execution => "UPDATE executions SET updated_at = @now, updated_by = @by WHERE id = @id",
            Touched.Context => "UPDATE contexts SET updated_at = @now, updated_by = @by WHERE id = @id",
            _ => throw new ArgumentOutOfRangeException(nameof(table)),
        }, new { id, now, by = Actor }, Transaction);

    /// <summary>
    /// Runs a query and hands each row to <paramref name="row"/> as it is read, for hot reads that use typed getters
    /// instead of mapped objects. Disposes the command itself: Dapper's wrapped reader (2.1.86) disposes its command in
    /// Dispose() but not in DisposeAsync(), so <c>await using</c> left every such command to the finalizer — on the
    /// SQLite writer that was a statement prepared anew for every write and never cached (see StatementCachingConnection).
    /// </summary>
    public async Task ForEachRowAsync(string sql, object? parameters, Action<DbDataReader> row)
    {
        var reader = await Dapper.SqlMapper.ExecuteReaderAsync(Connection, sql, parameters, Transaction);
        var command = (reader as Dapper.IWrappedDataReader)?.Command;
        try
        {
            while (await reader.ReadAsync()) row(reader);
        }
        finally
        {
            await reader.DisposeAsync();
            command?.Dispose();
        }
    }

    /// <summary>The projects the caller may read; null for every project (see <see cref="ProjectScope"/>).</summary>
    public ProjectScope? Scope => Operation.Scope;

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
