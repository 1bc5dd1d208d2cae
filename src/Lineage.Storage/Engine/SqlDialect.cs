namespace Lineage.Storage.Engine;

/// <summary>
/// The few places where SQLite and PostgreSQL spell SQL differently. Everything else
/// (upserts with ON CONFLICT, RETURNING, row-value comparisons) is written once.
/// </summary>
public sealed class SqlDialect
{
    public static readonly SqlDialect Sqlite = new("sqlite", forUpdate: "", likeInsensitive: "LIKE");
    public static readonly SqlDialect Postgres = new("postgres", forUpdate: " FOR UPDATE", likeInsensitive: "ILIKE");

    private SqlDialect(string name, string forUpdate, string likeInsensitive)
    {
        Name = name;
        ForUpdate = forUpdate;
        LikeInsensitive = likeInsensitive;
    }

    /// <summary>"sqlite" or "postgres": also the folder of the dialect's migrations.</summary>
    public string Name { get; }

    /// <summary>Row lock suffix for a SELECT. Empty on SQLite, whose writer holds the whole database.</summary>
    public string ForUpdate { get; }

    /// <summary>ASCII case-insensitive LIKE operator.</summary>
    public string LikeInsensitive { get; }

    public override string ToString() => Name;
}
