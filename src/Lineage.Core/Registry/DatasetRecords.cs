using Lineage.Core.Artifacts;

namespace Lineage.Core.Registry;

/// <summary>A column of a dataset schema.</summary>
public sealed record ColumnSpec(string Name, string Dtype, bool Nullable);

public sealed record DatasetSchema(string Project, string Name, long Version, IReadOnlyList<ColumnSpec> Columns, long CreatedAt, string? CreatedBy);

/// <summary>
/// A column's profile. <see cref="Histogram"/>, <see cref="Quantiles"/> and <see cref="Frequencies"/> (categorical counts)
/// are what drift alert rules compare (docs/events.md, "Alert rules").
/// </summary>
public sealed record ColumnProfile(double? MissingPct, double? Min, double? Max, double? Mean, long? DistinctCount, ColumnHistogram? Histogram = null,
    ColumnQuantiles? Quantiles = null, IReadOnlyDictionary<string, double>? Frequencies = null);

/// <summary>Bin <see cref="Edges"/> (strictly increasing) and one count per bin.</summary>
public sealed record ColumnHistogram(IReadOnlyList<double> Edges, IReadOnlyList<double> Counts);

/// <summary>Quantile values at increasing probabilities (0–1), e.g. probabilities [0, 0.25, 0.5, 0.75, 1].</summary>
public sealed record ColumnQuantiles(IReadOnlyList<double> Probabilities, IReadOnlyList<double> Values);

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
