using Lineage.Core.Artifacts;

namespace Lineage.Core.Registry;

/// <summary>A column of a dataset schema.</summary>
public sealed record ColumnSpec(string Name, string Dtype, bool Nullable);

public sealed record DatasetSchema(string Project, string Name, long Version, IReadOnlyList<ColumnSpec> Columns, long CreatedAt, string? CreatedBy);

public sealed record ColumnProfile(double? MissingPct, double? Min, double? Max, double? Mean, long? DistinctCount);

public sealed record ValidationCheck(string Name, bool Passed, string? Details, long RunAt, string? RunBy);

/// <summary>What is known of a dataset version beyond its bytes.</summary>
public sealed record DatasetFacts(
    string? SourceUri,
    string? SourceSystem,
    long? IngestedAt,
    string? SchemaName,
    long? SchemaVersion,
    IReadOnlyList<ColumnSpec> Columns,
    long? RowCount,
    IReadOnlyDictionary<string, ColumnProfile> Profile,
    long CreatedAt,
    string? CreatedBy);

/// <summary>A dataset version whose latest result of <paramref name="FailedChecks"/> of its checks is a failure.</summary>
public sealed record FailingDatasetVersion(string Name, long Version, int FailedChecks);

/// <summary>A dataset version: an artifact version of type dataset, with its facts and validation results.</summary>
public sealed record DatasetVersion(ArtifactVersion Artifact, DatasetFacts? Facts, IReadOnlyList<ValidationCheck> Validations);

public sealed record DatasetFactsInput(string? SourceUri, string? SourceSystem, long? IngestedAt, string? Schema, IReadOnlyList<ColumnSpec>? Columns,
    long? RowCount, IReadOnlyDictionary<string, ColumnProfile>? Profile);

public sealed record ColumnChange(string Column, string Change, string? From, string? To);

public sealed record SchemaDiff(string Name, long From, long To, IReadOnlyList<ColumnChange> Changes);
