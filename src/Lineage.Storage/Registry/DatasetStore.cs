using Lineage.Core.Alerts;
using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Registry;
using Lineage.Core.Tracking;
using Lineage.Storage.Artifacts;
using Lineage.Core.Events;
using Lineage.Storage.Engine;
using Lineage.Storage.Events;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Registry;

/// <summary>
/// Datasets as a typed view over artifact versions of type <c>dataset</c>: source, schema (optionally a
/// declared, versioned schema the columns must match), row count, profile (written once), validation
/// results (appended), schema diff. "Where is it used" is the lineage graph's impact query.
/// Each public method is one transaction. Errors: unknown names → RESOURCE_DOES_NOT_EXIST; facts already
/// recorded → RESOURCE_ALREADY_EXISTS; columns differing from the declared schema → INVALID_PARAMETER_VALUE.
/// </summary>
public sealed class DatasetStore(Database db)
{
    public Task<DatasetSchema> CreateSchemaAsync(string? project, string name, IReadOnlyList<ColumnSpec> columns)
    {
        project ??= OperationContext.DefaultProject;
        ArtifactRules.Name(name);
        RegistryRules.Columns(columns);
        return db.WriteAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project);
            var version = await DatasetAccess.InsertSchemaAsync(s, p.Id, name, columns, s.Actor, Clock.NowMs())
                          ?? throw new RetryTransactionException($"schema '{name}' got a new version concurrently");
            return (await DatasetAccess.FindSchemaAsync(s, p.Id, project, name, version))!.Value.Schema;
        }, keyed: true);
    }

    public Task<DatasetSchema> GetSchemaAsync(string? project, string name, long? version) =>
        db.ReadAsync(async s =>
        {
            project ??= OperationContext.DefaultProject;
            var p = await ExperimentAccess.RequireProjectAsync(s, project);
            return (await DatasetAccess.FindSchemaAsync(s, p.Id, project, name, version))?.Schema
                   ?? throw LineageException.NotFound(version is null ? $"schema '{name}' does not exist" : $"version {version} of schema '{name}' not found");
        });

    /// <summary>Records the facts of a dataset version, once. Validation rule: declared schema ⇒ identical columns.</summary>
    public Task<DatasetVersion> SetFactsAsync(string? project, string name, VersionRef reference, DatasetFactsInput f)
    {
        ArtifactRules.Name(name);
        var columns = RegistryRules.Columns(f.Columns);
        if (f.RowCount is < 0) throw LineageException.Invalid("rowCount", "'rowCount' must not be negative");
        if (f.IngestedAt is { } at) Validate.Timestamp(at, "ingestedAt");
        Validate.Text(f.SourceUri, "source.uri", 2000, required: false);
        Validate.Text(f.SourceSystem, "source.system", 250, required: false);
        var profile = f.Profile ?? new Dictionary<string, ColumnProfile>();
        foreach (var (column, p) in profile)
        {
            if (columns.All(c => c.Name != column)) throw LineageException.Invalid($"profile.{column}", $"profile names column '{column}', which is not in 'columns'");
            if (p.MissingPct is < 0 or > 100) throw LineageException.Invalid($"profile.{column}.missingPct", "'missingPct' is a percentage, 0-100");
            if (p.DistinctCount is < 0) throw LineageException.Invalid($"profile.{column}.distinctCount", "'distinctCount' must not be negative");
            Drift.CheckProfile(column, p);
        }
        (string Name, long? Version)? schemaRef = null;
        if (f.Schema is { } schemaText)
        {
            var cut = schemaText.LastIndexOf('@');
            schemaRef = cut < 0 ? (ArtifactRules.Name(schemaText, "schema"), null)
                : (ArtifactRules.Name(schemaText[..cut], "schema"), ArtifactRules.Ref(schemaText[(cut + 1)..], "schema").Number);
        }
        return db.WriteAsync(async s =>
        {
            var row = await RequireDatasetAsync(s, project, name, reference);
            long? schemaId = null;
            if (schemaRef is { } sr)
            {
                var p = await ExperimentAccess.RequireProjectAsync(s, row.Project);
                var schema = await DatasetAccess.FindSchemaAsync(s, p.Id, row.Project, sr.Name, sr.Version)
                             ?? throw new LineageException(ErrorCode.ResourceDoesNotExist, $"schema '{f.Schema}' does not exist", "schema");
                RegistryRules.MatchSchema(columns, schema.Schema);
                schemaId = schema.Id;
            }
            if (await DatasetAccess.InsertFactsAsync(s, row.Id, f, schemaId, columns, profile, Clock.NowMs()) == 0)
                throw LineageException.AlreadyExists($"the facts of dataset '{name}' v{row.Version} are already recorded; they never change (register a new version)");
            // Drift alert rules compare profiles: this is when a version's profile exists.
            await EventOutbox.AppendAsync(s, EventTypes.DatasetFactsRecorded, EventProject.Named(row.Project), $"artifact_version:{row.Project}/{row.Name}/{row.Version}",
                new { name = row.Name, version = row.Version, rowCount = f.RowCount, profiledColumns = profile.Keys.ToList() });
            return await LoadAsync(s, row);
        }, keyed: true);
    }

    public Task<DatasetVersion> AddValidationsAsync(string? project, string name, VersionRef reference, IReadOnlyList<(string Name, bool Passed, string? Details)> checks)
    {
        if (checks.Count == 0) throw LineageException.Invalid("checks", "give at least one check");
        for (var i = 0; i < checks.Count; i++)
        {
            Validate.Key(checks[i].Name, $"checks[{i}].name");
            Validate.Text(checks[i].Details, $"checks[{i}].details", Limits.MaxDescriptionLength, required: false);
        }
        return db.WriteAsync(async s =>
        {
            var row = await RequireDatasetAsync(s, project, name, reference);
            var now = Clock.NowMs();
            foreach (var c in checks) await DatasetAccess.InsertValidationAsync(s, row.Id, c.Name, c.Passed, c.Details, s.Actor, now);
            if (checks.Any(c => !c.Passed))
                await EventOutbox.AppendAsync(s, EventTypes.DatasetValidationFailed, EventProject.Named(row.Project), $"artifact_version:{row.Project}/{row.Name}/{row.Version}",
                    new { name = row.Name, row.Version, failed = checks.Where(c => !c.Passed).Select(c => new { name = c.Name, details = c.Details }).ToList() });
            return await LoadAsync(s, row);
        }, keyed: true);
    }

    /// <summary>
    /// Active dataset versions of a project whose latest result of at least one check is a failure (a check that failed
    /// and then passed is fixed), newest first, at most <paramref name="limit"/>: what lists and graphs flag.
    /// </summary>
    public Task<IReadOnlyList<FailingDatasetVersion>> FailingAsync(string? project, int limit)
    {
        if (limit < 1 || limit > 1000) throw LineageException.Invalid("limit", $"'limit' must be between 1 and 1000, got {limit}");
        return db.ReadAsync(async s =>
        {
            var p = await ExperimentAccess.RequireProjectAsync(s, project ?? OperationContext.DefaultProject);
            return await DatasetAccess.FailingAsync(s, p.Id, limit);
        });
    }

    public Task<DatasetVersion> GetAsync(string? project, string name, VersionRef reference) =>
        db.ReadAsync(async s => await LoadAsync(s, await RequireDatasetAsync(s, project, name, reference)));

    /// <summary>Column differences from version <paramref name="from"/> to version <paramref name="to"/>.</summary>
    public Task<SchemaDiff> DiffAsync(string? project, string name, VersionRef from, VersionRef to) =>
        db.ReadAsync(async s =>
        {
            var a = await RequireDatasetAsync(s, project, name, from);
            var b = await RequireDatasetAsync(s, project, name, to);
            var fa = await DatasetAccess.FactsAsync(s, a.Id) ?? throw NoFacts(name, a.Version);
            var fb = await DatasetAccess.FactsAsync(s, b.Id) ?? throw NoFacts(name, b.Version);
            return new SchemaDiff(name, a.Version, b.Version, RegistryRules.Diff(fa.Columns, fb.Columns));
        });

    private static LineageException NoFacts(string name, long version) =>
        LineageException.NotFound($"dataset '{name}' v{version} has no recorded schema (PUT /api/v1/datasets/{name}/versions/{version})");

    internal static async Task<DatasetVersion> LoadAsync(DbSession s, VersionRow row) =>
        new(await RegistryAccess.LoadArtifactAsync(s, row), await DatasetAccess.FactsAsync(s, row.Id), await DatasetAccess.ValidationsAsync(s, row.Id));

    private static async Task<VersionRow> RequireDatasetAsync(DbSession s, string? project, string name, VersionRef reference)
    {
        var row = await RegistryAccess.ResolveArtifactAsync(s, new ArtifactPointer(null, project, name, reference, "name"));
        if (row.Type != "dataset")
            throw LineageException.Invalid("name", $"artifact '{name}' v{row.Version} is a {row.Type}, not a dataset");
        return row;
    }
}
