using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Lineage.Core.Registry;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Registry;

/// <summary>Data access for dataset schemas, dataset facts and validation results. Never commits.</summary>
internal static class DatasetAccess
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string ColumnsJson(IReadOnlyList<ColumnSpec> columns) => JsonSerializer.Serialize(columns, Json);

    public static IReadOnlyList<ColumnSpec> ParseColumns(string json) => JsonSerializer.Deserialize<List<ColumnSpec>>(json, Json) ?? [];

    public static string ProfileJson(IReadOnlyDictionary<string, ColumnProfile> profile) => JsonSerializer.Serialize(profile, Json);

    public static IReadOnlyDictionary<string, ColumnProfile> ParseProfile(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, ColumnProfile>>(json, Json) ?? [];

    /// <summary>Next schema version: MAX + 1 guarded by the unique key; a concurrent taker makes the operation rerun.</summary>
    public static async Task<long?> InsertSchemaAsync(DbSession s, long projectId, string name, IReadOnlyList<ColumnSpec> columns, string? user, long now) =>
        await s.Connection.QueryFirstOrDefaultAsync<long?>("""
            INSERT INTO dataset_schemas (project_id, name, version, columns, created_at, created_by)
            SELECT @projectId, @name, COALESCE(MAX(version), 0) + 1, @columns, @now, @user FROM dataset_schemas WHERE project_id = @projectId AND name = @name
            ON CONFLICT (project_id, name, version) DO NOTHING RETURNING version
            """, new { projectId, name, columns = ColumnsJson(columns), now, user }, s.Transaction);

    public static async Task<(long Id, DatasetSchema Schema)?> FindSchemaAsync(DbSession s, long projectId, string project, string name, long? version)
    {
        var row = await s.Connection.QueryFirstOrDefaultAsync<SchemaRow>($"""
            SELECT id, version, columns, created_at, created_by FROM dataset_schemas WHERE project_id = @projectId AND name = @name
            {(version is null ? "ORDER BY version DESC LIMIT 1" : "AND version = @version")}
            """, new { projectId, name, version }, s.Transaction);
        return row is { } r ? (r.Id, new DatasetSchema(project, name, r.Version, ParseColumns(r.Columns), r.CreatedAt, r.CreatedBy)) : null;
    }

    private sealed class SchemaRow
    {
        public long Id { get; set; }
        public long Version { get; set; }
        public string Columns { get; set; } = "[]";
        public long CreatedAt { get; set; }
        public string? CreatedBy { get; set; }
    }

    public static Task<int> InsertFactsAsync(DbSession s, long artifactId, DatasetFactsInput f, long? schemaId, IReadOnlyList<ColumnSpec> columns,
        IReadOnlyDictionary<string, ColumnProfile> profile, long now) =>
        s.Connection.ExecuteAsync("""
            INSERT INTO dataset_facts (artifact_id, source_uri, source_system, ingested_at, schema_id, columns, row_count, profile, created_at, created_by)
            VALUES (@artifactId, @SourceUri, @SourceSystem, @IngestedAt, @schemaId, @columns, @RowCount, @profile, @now, @User)
            ON CONFLICT (artifact_id) DO NOTHING
            """, new { artifactId, f.SourceUri, f.SourceSystem, f.IngestedAt, schemaId, columns = ColumnsJson(columns), f.RowCount,
            profile = ProfileJson(profile), now, User = s.Actor }, s.Transaction);

    private const string SelectFacts = """
        SELECT f.artifact_id, f.source_uri, f.source_system, f.ingested_at, d.name AS schema_name, d.version AS schema_version, f.columns, f.row_count,
               f.profile, f.created_at, f.created_by
        FROM dataset_facts f LEFT JOIN dataset_schemas d ON d.id = f.schema_id
        """;

    public static async Task<DatasetFacts?> FactsAsync(DbSession s, long artifactId) =>
        (await s.Connection.QueryFirstOrDefaultAsync<FactsRow>($"{SelectFacts} WHERE f.artifact_id = @artifactId", new { artifactId }, s.Transaction))
        ?.ToModel();

    /// <summary>Facts of many dataset versions in one query (manifests name dozens).</summary>
    public static async Task<IReadOnlyDictionary<long, DatasetFacts>> FactsOfAsync(DbSession s, IReadOnlyCollection<long> ids) =>
        ids.Count == 0 ? new Dictionary<long, DatasetFacts>() : (await s.Connection.QueryAsync<FactsRow>(
            $"{SelectFacts} WHERE {s.Dialect.InSet("f.artifact_id", "ids")}", new { ids = s.Dialect.Set(ids) }, s.Transaction)).ToDictionary(r => r.ArtifactId, r => r.ToModel());

    public static async Task<ILookup<long, ValidationCheck>> ValidationsOfAsync(DbSession s, IReadOnlyCollection<long> ids) =>
        ids.Count == 0 ? Array.Empty<ValidationCheck>().ToLookup(_ => 0L) : (await s.Connection.QueryAsync<(long ArtifactId, string Name, long Passed, string? Details, long RunAt, string? RunBy)>(
            $"SELECT artifact_id, check_name, passed, details, run_at, run_by FROM dataset_validations WHERE {s.Dialect.InSet("artifact_id", "ids")} ORDER BY id",
            new { ids = s.Dialect.Set(ids) }, s.Transaction)).ToLookup(v => v.ArtifactId, v => new ValidationCheck(v.Name, v.Passed != 0, v.Details, v.RunAt, v.RunBy));

    /// <summary>Active dataset versions of a project whose latest result of some check is a failure, newest first.</summary>
    public static async Task<IReadOnlyList<FailingDatasetVersion>> FailingAsync(DbSession s, long projectId, int limit) =>
        (await s.Connection.QueryAsync<(string Name, long Version, long Failed)>("""
            SELECT n.name, a.version, COUNT(*) AS failed
            FROM dataset_validations v
            JOIN artifact_versions a ON a.id = v.artifact_id
            JOIN artifact_names n ON n.id = a.name_id
            WHERE n.project_id = @projectId AND a.lifecycle = 'active' AND v.passed = 0
              AND NOT EXISTS (SELECT 1 FROM dataset_validations w WHERE w.artifact_id = v.artifact_id AND w.check_name = v.check_name AND w.id > v.id)
            GROUP BY a.id, n.name, a.version
            ORDER BY a.id DESC
            LIMIT @limit
            """, new { projectId, limit }, s.Transaction)).Select(r => new FailingDatasetVersion(r.Name, r.Version, (int)r.Failed)).ToList();

    public static Task InsertValidationAsync(DbSession s, long artifactId, string name, bool passed, string? details, string? user, long now) =>
        s.Connection.ExecuteAsync("""
            INSERT INTO dataset_validations (artifact_id, check_name, passed, details, run_at, run_by) VALUES (@artifactId, @name, @passed, @details, @now, @user)
            """, new { artifactId, name, passed = passed ? 1 : 0, details, now, user }, s.Transaction);

    public static async Task<IReadOnlyList<ValidationCheck>> ValidationsAsync(DbSession s, long artifactId) =>
        (await s.Connection.QueryAsync<(string Name, long Passed, string? Details, long RunAt, string? RunBy)>(
            "SELECT check_name, passed, details, run_at, run_by FROM dataset_validations WHERE artifact_id = @artifactId ORDER BY id",
            new { artifactId }, s.Transaction)).Select(v => new ValidationCheck(v.Name, v.Passed != 0, v.Details, v.RunAt, v.RunBy)).ToList();

    private sealed class FactsRow
    {
        public long ArtifactId { get; set; }

        public DatasetFacts ToModel() => new(SourceUri, SourceSystem, IngestedAt, SchemaName, SchemaVersion, ParseColumns(Columns), RowCount,
            ParseProfile(Profile), CreatedAt, CreatedBy);

        public string? SourceUri { get; set; }
        public string? SourceSystem { get; set; }
        public long? IngestedAt { get; set; }
        public string? SchemaName { get; set; }
        public long? SchemaVersion { get; set; }
        public string Columns { get; set; } = "[]";
        public long? RowCount { get; set; }
        public string Profile { get; set; } = "{}";
        public long CreatedAt { get; set; }
        public string? CreatedBy { get; set; }
    }
}

/// <summary>Data access for feature definitions. Never commits.</summary>
internal static class FeatureAccess
{
    public static async Task InsertAsync(DbSession s, long featureSetId, IReadOnlyList<FeatureDefinition> features)
    {
        for (var i = 0; i < features.Count; i++)
        {
            var f = features[i];
            await s.Connection.ExecuteAsync("""
                INSERT INTO features (feature_set_id, position, name, dtype, shape, description, transformation, owner)
                VALUES (@featureSetId, @i, @Name, @Dtype, @shape, @Description, @Transformation, @Owner)
                """, new { featureSetId, i, f.Name, f.Dtype, shape = Shapes.Text(f.Shape), f.Description, f.Transformation, f.Owner }, s.Transaction);
        }
    }

    public static async Task<IReadOnlyList<FeatureDefinition>> FeaturesAsync(DbSession s, long featureSetId) =>
        (await s.Connection.QueryAsync<FeatureRow>(
            "SELECT feature_set_id, name, dtype, shape, description, transformation, owner FROM features WHERE feature_set_id = @featureSetId ORDER BY position",
            new { featureSetId }, s.Transaction)).Select(r => r.ToModel()).ToList();

    public static async Task<IReadOnlyList<long>> FeatureSetsWithAsync(DbSession s, string name) =>
        (await s.Connection.QueryAsync<long>($"""
            SELECT f.feature_set_id FROM features f JOIN artifact_versions v ON v.id = f.feature_set_id JOIN artifact_names n ON n.id = v.name_id
            WHERE f.name = @name{s.Visible("n.project_id")} ORDER BY f.feature_set_id
            """, new { name }, s.Transaction))
        .ToList();

    /// <summary>Model versions that declare the feature as an input or whose feature set defines it.</summary>
    public static async Task<IReadOnlyList<(string Model, long Version)>> ModelVersionsUsingAsync(DbSession s, string name) =>
        (await s.Connection.QueryAsync<(string Model, long Version)>($"""
            SELECT m.name, mv.version FROM model_versions mv JOIN registered_models m ON m.id = mv.model_id
            WHERE (mv.id IN (SELECT version_id FROM model_version_features WHERE name = @name)
               OR mv.feature_set_id IN (SELECT feature_set_id FROM features WHERE name = @name)){s.Visible("m.project_id")}
            ORDER BY m.name, mv.version
            """, new { name }, s.Transaction)).ToList();

    /// <summary>The content digest of a feature set version: SHA-256 of its canonical definition JSON.</summary>
    public static (string Digest, long Size) Digest(IReadOnlyList<FeatureDefinition> features)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(features.Select(f => new
        {
            name = f.Name, dtype = f.Dtype, shape = f.Shape, description = f.Description, transformation = f.Transformation, owner = f.Owner,
        }).ToList());
        return (Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length);
    }

    public static string Uri(string project, string name, long version) =>
        $"lineage://feature-sets/{project}/{name}/{version}";
}
