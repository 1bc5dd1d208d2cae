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

    /// <summary>
    /// "column is one of the list in parameter @name". Dapper expands a list into
    /// (@name1, @name2, …) for SQLite but hands Npgsql a single array parameter.
    /// </summary>
    /// <remarks>For short lists from a request (filters, a search's experiments). Large id sets use <see cref="InSet"/>.</remarks>
    public string InList(string column, string parameter) =>
        this == Postgres ? $"{column} = ANY(@{parameter})" : $"{column} IN @{parameter}";

    /// <summary>
    /// "column is one of the set in parameter @name", whose value comes from <see cref="Set{T}"/>: one parameter
    /// however many values. On SQLite a JSON array read by json_each: an expanded list of n parameters costs O(n²)
    /// in binding (each is looked up by name), which was a quarter of a 1,000-node impact query.
    /// </summary>
    public string InSet(string column, string parameter) =>
        this == Postgres ? $"{column} = ANY(@{parameter})" : $"{column} IN (SELECT value FROM json_each(@{parameter}))";

    /// <summary>The value of an <see cref="InSet"/> parameter: an array for PostgreSQL, a JSON array text for SQLite.</summary>
    public object Set<T>(IEnumerable<T> values) =>
        this == Postgres ? values.ToArray() : System.Text.Json.JsonSerializer.Serialize(values);

    /// <summary>
    /// The text of top-level key @<paramref name="keyParameter"/> of a JSON-object TEXT column,
    /// spelled the same on both databases (true/false as words, numbers as written).
    /// </summary>
    public string JsonField(string column, string keyParameter) =>
        this == Postgres
            ? $"({column}::jsonb ->> @{keyParameter})"
            : $"(CASE json_type({column}, '$.\"' || @{keyParameter} || '\"') WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' " +
              $"ELSE CAST(json_extract({column}, '$.\"' || @{keyParameter} || '\"') AS TEXT) END)";

    /// <summary>
    /// The number at top-level key @<paramref name="keyParameter"/> of a JSON-object TEXT column, or NULL when
    /// the value there is not a JSON number (so a comparison never fails on text).
    /// </summary>
    public string JsonNumber(string column, string keyParameter) =>
        this == Postgres
            ? $"(CASE WHEN jsonb_typeof({column}::jsonb -> @{keyParameter}) = 'number' THEN ({column}::jsonb ->> @{keyParameter})::double precision END)"
            : $"(CASE WHEN json_type({column}, '$.\"' || @{keyParameter} || '\"') IN ('integer', 'real') THEN json_extract({column}, '$.\"' || @{keyParameter} || '\"') END)";

    /// <summary>
    /// Case-sensitive LIKE (MLflow's LIKE). SQLite's LIKE ignores ASCII case, so there the match
    /// must also pass GLOB with the same pattern translated (<see cref="LikeToGlob"/>).
    /// </summary>
    public string LikeCaseSensitive(string column, string likeParameter, string globParameter) =>
        this == Postgres ? $"{column} LIKE @{likeParameter}" : $"({column} LIKE @{likeParameter} AND {column} GLOB @{globParameter})";

    /// <summary>A LIKE pattern as a GLOB pattern: % → *, _ → ?, GLOB's own metacharacters bracketed.</summary>
    public static string LikeToGlob(string like)
    {
        var sb = new System.Text.StringBuilder(like.Length + 4);
        foreach (var c in like)
            sb.Append(c switch
            {
                '%' => "*",
                '_' => "?",
                '*' => "[*]",
                '?' => "[?]",
                '[' => "[[]",
                _ => c.ToString(),
            });
        return sb.ToString();
    }

    public override string ToString() => Name;
}
