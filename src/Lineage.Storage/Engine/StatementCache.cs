using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Data.Sqlite;

namespace Lineage.Storage.Engine;

/// <summary>
/// The SQLite writer connection, keeping compiled statements across commands. Microsoft.Data.Sqlite
/// compiles a command's SQL again for every new command object, and Dapper makes a new command per
/// call, so every write paid sqlite3_prepare for each of its statements (about a sixth of the server's
/// CPU per OpenLineage event). Commands made here rent an already prepared <see cref="SqliteCommand"/>
/// for their text and give it back when disposed. A text in use twice at once (a nested query) simply
/// gets a second command; a command whose execution failed is not kept.
/// Single-threaded like the writer connection it wraps.
/// </summary>
internal sealed class StatementCachingConnection(SqliteConnection inner, int capacity = 512) : DbConnection
{
    private readonly Dictionary<string, SqliteCommand> _idle = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _prefixed = new(StringComparer.Ordinal);

    /// <summary>
    /// Dapper names parameters without the '@' the SQL uses; SQLite then finds each by trying the bare
    /// name and then every prefix. Naming them as written saves those lookups on every execution.
    /// </summary>
    internal string AsWritten(string name)
    {
        if (name.Length == 0 || name[0] is '@' or ':' or '$') return name;
        if (_prefixed.TryGetValue(name, out var prefixed)) return prefixed;
        prefixed = "@" + name;
        if (_prefixed.Count < 10_000) _prefixed[name] = prefixed; // bounded: list expansion makes names like ids1…idsN
        return prefixed;
    }

    private long _compiled;

    /// <summary>Texts compiled so far: the cache's misses. Flat once the writer has seen each statement it runs.</summary>
    public long Compiled => Interlocked.Read(ref _compiled);

    internal SqliteCommand Rent(string text)
    {
        if (_idle.Remove(text, out var cached)) return cached;
        Interlocked.Increment(ref _compiled);
        // Compiled on first execution (one statement at a time, so a script whose later statements
        // need the tables its earlier ones create works) and kept from then on.
        var command = inner.CreateCommand();
        command.CommandText = text;
        return command;
    }

    internal void Return(SqliteCommand command)
    {
        command.Parameters.Clear(); // no caller's values stay referenced
        // Long texts are one-off scripts (migrations), not worth keeping.
        if (command.CommandText.Length <= 8192 && _idle.Count < capacity && _idle.TryAdd(command.CommandText, command)) return;
        command.Dispose();
    }

    [AllowNull]
    public override string ConnectionString
    {
        get => inner.ConnectionString;
        set => inner.ConnectionString = value;
    }

    public override string Database => inner.Database;
    public override string DataSource => inner.DataSource;
    public override string ServerVersion => inner.ServerVersion;
    public override ConnectionState State => inner.State;
    public override void ChangeDatabase(string databaseName) => inner.ChangeDatabase(databaseName);
    public override void Open() => inner.Open();
    public override void Close() => inner.Close();
    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => inner.BeginTransaction(isolationLevel);
    protected override DbCommand CreateDbCommand() => new CachedCommand(this);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var command in _idle.Values) command.Dispose();
            _idle.Clear();
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>A command whose compiled statements outlive it; parameters are bound per execution as usual.</summary>
    private sealed class CachedCommand(StatementCachingConnection connection) : DbCommand
    {
        private readonly SqliteCommand _parameters = new(); // holds this command's parameters until execution
        private SqliteCommand? _rented;
        private bool _failed;

        [AllowNull]
        public override string CommandText { get; set; } = "";
        public override int CommandTimeout { get; set; } = 30;
        public override CommandType CommandType { get; set; } = CommandType.Text;
        public override bool DesignTimeVisible { get; set; }
        public override UpdateRowSource UpdatedRowSource { get; set; }
        protected override DbConnection? DbConnection { get => connection; set => throw new NotSupportedException("a cached command stays on its connection"); }
        protected override DbParameterCollection DbParameterCollection => _parameters.Parameters;
        protected override DbTransaction? DbTransaction { get; set; }

        public override void Cancel() => _rented?.Cancel();
        public override void Prepare() { }
        protected override DbParameter CreateDbParameter() => new SqliteParameter();

        public override int ExecuteNonQuery() => Run(c => c.ExecuteNonQuery());
        public override object? ExecuteScalar() => Run(c => c.ExecuteScalar());
        protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => Run(c => c.ExecuteReader(behavior));

        private T Run<T>(Func<SqliteCommand, T> execute)
        {
            if (CommandType != CommandType.Text) throw new NotSupportedException("SQLite runs text commands only");
            if (_rented is not null && _rented.CommandText != CommandText) Release();
            _rented ??= connection.Rent(CommandText);
            _rented.CommandTimeout = CommandTimeout;
            _rented.Transaction = (SqliteTransaction?)DbTransaction;
            _rented.Parameters.Clear();
            foreach (SqliteParameter p in _parameters.Parameters)
            {
                p.ParameterName = connection.AsWritten(p.ParameterName);
                _rented.Parameters.Add(p);
            }
            try
            {
                return execute(_rented);
            }
            catch
            {
                _failed = true;
                throw;
            }
        }

        private void Release()
        {
            if (_rented is null) return;
            if (_failed) _rented.Dispose();
            else connection.Return(_rented);
            _rented = null;
            _failed = false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Release();
                _parameters.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
