using Lineage.Core.Artifacts;

namespace Lineage.Core.Registry;

/// <summary>A feature definition inside a feature set version.</summary>
public sealed record FeatureDefinition(string Name, string Dtype, IReadOnlyList<int> Shape, string? Description, string? Transformation, string? Owner);

/// <summary>A feature set version: an artifact version of type feature_set whose content is its definitions.</summary>
public sealed record FeatureSet(ArtifactVersion Artifact, IReadOnlyList<FeatureDefinition> Features, IReadOnlyList<ArtifactVersion> DerivedFrom);

public sealed record FeatureSetRegistration(string? Project, string Name, string? Description, IReadOnlyList<FeatureDefinition> Features,
    IReadOnlyList<ArtifactPointer> DerivedFrom, string? RunId);

/// <summary>Where a feature is defined and which model versions consume it.</summary>
public sealed record FeatureUsage(string Feature, IReadOnlyList<ArtifactVersion> FeatureSets, IReadOnlyList<(string Model, long Version)> ModelVersions);
