using System.Data;
using System.Data.Common;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Storage.Engine;
using Lineage.Storage.Migrations;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Lineage.Storage.Backup;

/// <summary>What a snapshot of the metadata database produced: files to archive, and facts read from the snapshot itself.</summary>
internal sealed record Snapshot(IReadOnlyList<(string Entry, string LocalPath)> Files, IReadOnlyList<BackupTable> Tables, long SchemaVersion,
    IReadOnlySet<string> ReferencedDigests);

/// <summary>
/// The content digests a snapshot's rows need from the blob store: file versions and directory entries that are not
/// purged, and MLflow proxy files (the same references gc keeps), except content moved to cold storage by
/// <c>lineage archive</c>: the archive location is backed up on its own (docs/artifacts.md, "Archival").
/// </summary>
internal static class Referenced
{
    public const string Sql = """
        SELECT r.digest FROM (
            SELECT v.digest FROM artifact_versions v WHERE v.kind = 'file' AND v.lifecycle <> 'purged'
            UNION
            SELECT f.digest FROM artifact_files f JOIN artifact_versions v ON v.id = f.version_id WHERE v.lifecycle <> 'purged'
            UNION
            SELECT digest FROM proxy_files) r
        WHERE NOT EXISTS (SELECT 1 FROM archived_blobs a WHERE a.digest = r.digest)
        """;
}

/// <summary>
/// SQLite: SQLite's online backup API copies the database page by page from one read snapshot, beside the running
/// server (WAL readers never block its writer), so the copy holds exactly the transactions committed before it began.
/// </summary>
internal static class SqliteSnapshot
{
    public static async Task<Snapshot> TakeAsync(string databasePath, string workDir, CancellationToken ct)
    {
        if (!File.Exists(databasePath)) throw LineageException.NotFound($"no SQLite database at {databasePath}");
        var copy = Path.Combine(workDir, "lineage.db");
        await using (var source = new SqliteConnection(Connection(databasePath, SqliteOpenMode.ReadWrite)))
        await using (var target = new SqliteConnection(Connection(copy, SqliteOpenMode.ReadWriteCreate)))
        {
            await source.OpenAsync(ct);
            await source.ExecuteAsync("PRAGMA busy_timeout=30000");
            await target.OpenAsync(ct);
            source.BackupDatabase(target);
            // One self-contained file: no -wal beside it to lose on the way.
            await target.ExecuteAsync("PRAGMA journal_mode=DELETE");
        }
        await using (var snapshot = new SqliteConnection(Connection(copy, SqliteOpenMode.ReadOnly)))
        {
            await snapshot.OpenAsync(ct);
            var version = await snapshot.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
            var referenced = (await snapshot.QueryAsync<string>(Referenced.Sql)).ToHashSet();
            return new Snapshot([(BackupManifest.SqliteEntry, copy)], [], version, referenced);
        }
    }

    /// <summary>Puts the checked copy in place: the target must not exist (restore fills an empty store only).</summary>
    public static async Task RestoreAsync(string staged, string targetPath, CancellationToken ct)
    {
        targetPath = Path.GetFullPath(targetPath);
        Directory.CreateDirectory(Path.GetDirectoryName(targetPath)!);
        File.Move(staged, targetPath);
        await using var check = new SqliteConnection(Connection(targetPath, SqliteOpenMode.ReadOnly));
        await check.OpenAsync(ct);
        var result = await check.ExecuteScalarAsync<string>("PRAGMA integrity_check");
        if (result != "ok") throw new LineageException(ErrorCode.InternalError, $"the restored database fails SQLite's integrity check: {result}");
    }

    public static bool IsEmptyTarget(string path) =>
        !File.Exists(path) || (new FileInfo(path).Length == 0 && !File.Exists(path + "-wal"));

    private static string Connection(string path, SqliteOpenMode mode) =>
        new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false }.ToString();
}

/// <summary>
/// PostgreSQL: every table read with <c>COPY … TO STDOUT</c> inside one <c>REPEATABLE READ READ ONLY</c> transaction, so all
/// tables come from one snapshot of the database while other transactions go on. Restore recreates the schema through
/// the migrations up to the backup's version, then loads each table with <c>COPY … FROM STDIN</c> (parents before
/// children) and moves each identity past the highest restored id, all in one transaction.
/// </summary>
internal static partial class PostgresSnapshot
{
    public static async Task<Snapshot> TakeAsync(string connectionString, string workDir, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await connection.ExecuteAsync("SET TRANSACTION READ ONLY", transaction: transaction);
        var version = await connection.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", transaction: transaction);
        var referenced = (await connection.QueryAsync<string>(Referenced.Sql, transaction: transaction)).ToHashSet();
        var files = new List<(string, string)>();
        var tables = new List<BackupTable>();
        foreach (var table in await TablesAsync(connection, transaction))
        {
            var columns = await ColumnsAsync(connection, transaction, table);
            var entry = $"database/tables/{table}.copy";
            var local = Path.Combine(workDir, table + ".copy");
            using (var export = await connection.BeginTextExportAsync($"COPY {Quote(table)} ({string.Join(", ", columns.Select(Quote))}) TO STDOUT", ct))
            await using (var file = new StreamWriter(local, false, new UTF8Encoding(false), 1 << 16))
            {
                var buffer = new char[1 << 16];
                int read;
                while ((read = await export.ReadAsync(buffer, ct)) > 0) await file.WriteAsync(buffer.AsMemory(0, read), ct);
            }
            files.Add((entry, local));
            tables.Add(new BackupTable(table, columns, entry));
        }
        await transaction.CommitAsync(ct);
        return new Snapshot(files, tables, version, referenced);
    }

    public static async Task<bool> IsEmptyTargetAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        return (await TablesAsync(connection, null)).Count == 0;
    }

    public static async Task RestoreAsync(string connectionString, BackupManifest manifest, IReadOnlyDictionary<string, string> staged, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Servers starting on this database meanwhile wait for the schema like they wait for each other.
        await SqlDialect.Postgres.TransactionLockAsync(connection, transaction, PostgresDatabase.MigrationLockId);
        if ((await TablesAsync(connection, transaction)).Count > 0)
            throw LineageException.Conflict("the target database is not empty: restore fills a new, empty database only");
        await Migrator.ApplyAsync(connection, transaction, SqlDialect.Postgres, upgrade: false, upTo: manifest.SchemaVersion);

        // The archive names tables and columns: each must be one this schema has, so the manifest's text never reaches SQL unchecked.
        var tables = await TablesAsync(connection, transaction);
        var missing = tables.Except(manifest.Tables.Select(t => t.Name)).Concat(manifest.Tables.Select(t => t.Name).Except(tables)).ToList();
        if (missing.Count > 0)
            throw LineageException.Invalid("archive", $"the backup's tables differ from schema version {manifest.SchemaVersion}'s: {string.Join(", ", missing)}");
        foreach (var table in manifest.Tables)
        {
            var columns = await ColumnsAsync(connection, transaction, table.Name);
            if (table.Columns.Except(columns).FirstOrDefault() is { } unknown)
                throw LineageException.Invalid("archive", $"table {table.Name} has no column '{unknown}' at schema version {manifest.SchemaVersion}");
        }

        // Rows the migrations seeded (the default project, experiment 0) are in the backup too.
        await connection.ExecuteAsync($"TRUNCATE {string.Join(", ", tables.Select(Quote))} RESTART IDENTITY", transaction: transaction);
        var byName = manifest.Tables.ToDictionary(t => t.Name);
        foreach (var name in await ParentsFirstAsync(connection, transaction, tables))
        {
            var table = byName[name];
            await using (var import = await connection.BeginTextImportAsync($"COPY {Quote(name)} ({string.Join(", ", table.Columns.Select(Quote))}) FROM STDIN", ct))
            using (var file = new StreamReader(staged[table.Path], new UTF8Encoding(false), false, 1 << 16))
            {
                var buffer = new char[1 << 16];
                int read;
                while ((read = await file.ReadAsync(buffer, ct)) > 0) await import.WriteAsync(buffer.AsMemory(0, read), ct);
            }
        }
        var identities = await connection.QueryAsync<(string Table, string Column, string Sequence)>("""
            SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)
            FROM information_schema.columns
            WHERE table_schema = current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')
            """, transaction: transaction);
        foreach (var (table, column, sequence) in identities.Where(i => i.Sequence is not null))
            await connection.ExecuteAsync($"SELECT setval(@sequence, COALESCE((SELECT MAX({Quote(column)}) FROM {Quote(table)}), 0) + 1, false)",
                new { sequence }, transaction);
        await transaction.CommitAsync(ct);
    }

    private static async Task<List<string>> TablesAsync(NpgsqlConnection connection, DbTransaction? transaction) =>
        (await connection.QueryAsync<string>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
            transaction: transaction)).Select(CheckName).ToList();

    private static async Task<List<string>> ColumnsAsync(NpgsqlConnection connection, DbTransaction? transaction, string table) =>
        (await connection.QueryAsync<string>("""
            SELECT column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = @table AND is_generated = 'NEVER'
            ORDER BY ordinal_position
            """, new { table }, transaction)).Select(CheckName).ToList();

    /// <summary>Tables ordered so every foreign key's parent is loaded before its child (a table referring to itself is one COPY, checked at its end).</summary>
    private static async Task<List<string>> ParentsFirstAsync(NpgsqlConnection connection, DbTransaction transaction, IReadOnlyList<string> tables)
    {
        var edges = (await connection.QueryAsync<(string Child, string Parent)>("""
            SELECT c.relname, p.relname FROM pg_constraint k
            JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
            WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace
            """, transaction: transaction)).Where(e => e.Child != e.Parent).ToList();
        var order = new List<string>();
        var placed = new HashSet<string>();
        while (order.Count < tables.Count)
        {
            var ready = tables.Where(t => !placed.Contains(t) && edges.Where(e => e.Child == t).All(e => placed.Contains(e.Parent))).ToList();
            if (ready.Count == 0) throw new InvalidOperationException("foreign keys form a cycle between tables; restore cannot order them");
            foreach (var t in ready)
            {
                order.Add(t);
                placed.Add(t);
            }
        }
        return order;
    }

    private static string CheckName(string name) =>
        SafeName().IsMatch(name) ? name : throw LineageException.Invalid("archive", $"'{name}' is not a table or column name Lineage uses");

    private static string Quote(string name) => $"\"{CheckName(name)}\"";

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SafeName();
}
