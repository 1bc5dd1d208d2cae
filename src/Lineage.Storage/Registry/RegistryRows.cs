using Lineage.Core.Registry;

namespace Lineage.Storage.Registry;

internal sealed class ModelRow
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Project { get; set; } = "";
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    public long LatestVersion { get; set; }
    public long CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public long UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
}

internal sealed class ModelVersionRow
{
    public long Id { get; set; }
    public long ModelId { get; set; }
    public string Project { get; set; } = "";
    public string Model { get; set; } = "";
    public long Version { get; set; }
    public long ArtifactId { get; set; }
    public string? RunUuid { get; set; }
    public string Status { get; set; } = "";
    public string? StatusMessage { get; set; }
    public string Stage { get; set; } = "";
    public string? Description { get; set; }
    public long? FeatureSetId { get; set; }
    public long CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public long UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public ModelVersionStatus StatusValue => RegistryRules.Status(Status);
    public ModelStage StageValue => RegistryRules.Stage(Stage);
}

internal sealed class HistoryRow
{
    public long Id { get; set; }
    public string Model { get; set; } = "";
    public string Kind { get; set; } = "";
    public string? Name { get; set; }
    public long? Version { get; set; }
    public string? OldValue { get; set; }
    public string? NewValue { get; set; }
    public long ChangedAt { get; set; }
    public string? ChangedBy { get; set; }
    public long? RequestId { get; set; }

    public RegistryChange ToModel() => new(Id, Model, Kind, Name, Version, OldValue, NewValue, ChangedAt, ChangedBy, RequestId);
}

internal sealed class PromotionRow
{
    public long Id { get; set; }
    public long ModelId { get; set; }
    public string Project { get; set; } = "";
    public string Model { get; set; } = "";
    public long Version { get; set; }
    public string Kind { get; set; } = "";
    public string Target { get; set; } = "";
    public long ArchiveExisting { get; set; }
    public string Status { get; set; } = "";
    public string? Comment { get; set; }
    public long RequestedAt { get; set; }
    public string? RequestedBy { get; set; }
    public long? DecidedAt { get; set; }
    public string? DecidedBy { get; set; }
    public string? DecisionComment { get; set; }

    public PromotionRequest ToModel() => new(Id, Project, Model, Version, Kind, Target, ArchiveExisting != 0, RegistryRules.Promotion(Status),
        Comment, RequestedAt, RequestedBy, DecidedAt, DecidedBy, DecisionComment);
}

internal sealed class DeploymentRow
{
    public long Id { get; set; }
    public string Project { get; set; } = "";
    public long EnvironmentId { get; set; }
    public string Environment { get; set; } = "";
    public long ModelId { get; set; }
    public string Model { get; set; } = "";
    public long VersionId { get; set; }
    public long Version { get; set; }
    public string? EndpointUrl { get; set; }
    public string Config { get; set; } = "{}";
    public string Status { get; set; } = "";
    public long? RollbackOf { get; set; }
    public long? ExecutionId { get; set; }
    public long CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public long UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public DeploymentStatus StatusValue => RegistryRules.Deployment(Status);

    public Deployment ToModel(IReadOnlyList<DeploymentEvent> events) => new(Id, Project, Environment, Model, Version, EndpointUrl, Config, StatusValue,
        RollbackOf, ExecutionId, CreatedAt, CreatedBy, UpdatedAt, events) { UpdatedBy = UpdatedBy };
}

internal sealed class DeploymentEventRow
{
    public long DeploymentId { get; set; }
    public string Status { get; set; } = "";
    public string? Reason { get; set; }
    public long At { get; set; }
    public string? Actor { get; set; }

    public DeploymentEvent ToModel() => new(RegistryRules.Deployment(Status), Reason, At, Actor);
}

internal sealed class FeatureRow
{
    public long FeatureSetId { get; set; }
    public string Name { get; set; } = "";
    public string Dtype { get; set; } = "";
    public string Shape { get; set; } = "[]";
    public string? Description { get; set; }
    public string? Transformation { get; set; }
    public string? Owner { get; set; }

    public FeatureDefinition ToModel() => new(Name, Dtype, Shapes.Parse(Shape), Description, Transformation, Owner);
}

internal static class Shapes
{
    public static string Text(IReadOnlyList<int> shape) => RegistryRules.ShapeText(shape);

    public static IReadOnlyList<int> Parse(string text) =>
        text.Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
}
