using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Lineage.Storage.Engine;

/// <summary>
/// A bare, unopened connection to a store target, for tools that must look at a database without
/// <see cref="Database.OpenAsync"/>'s schema rules (a dry run on an older schema, which opening would refuse).
/// </summary>
public static class StoreConnections
{
    public static DbConnection Create(string target) => Database.IsPostgres(target)
        ? new NpgsqlConnection(PostgresDatabase.ToConnectionString(target))
        : new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = target, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
}
