using Npgsql;

namespace Lineage.Tests.Support;

/// <summary>
/// PostgreSQL for tests: the server named by LINEAGE_TEST_POSTGRES (scripts/test.sh starts a
/// throwaway cluster and sets it). Each call makes a fresh database. When the variable is
/// missing the test fails loudly: PostgreSQL tests never skip quietly.
/// </summary>
public static class PostgresTarget
{
    public const string EnvironmentVariable = "LINEAGE_TEST_POSTGRES";

    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                $"{EnvironmentVariable} is not set: PostgreSQL tests need a server. Run them through scripts/test.sh, which starts one.");

    /// <summary>Creates an empty database and returns a connection string for it.</summary>
    public static string CreateDatabase()
    {
        var name = "lineage_t_" + Guid.NewGuid().ToString("N")[..16];
        using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            admin.Open();
            using var cmd = admin.CreateCommand();
            cmd.CommandText = $"CREATE DATABASE {name}"; // generated identifier, not user text
            cmd.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }
}
