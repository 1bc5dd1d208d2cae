using System.Globalization;
using System.Text.Json.Serialization;
using Lineage.Core.Registry;
using Lineage.Storage.MLflow;

namespace Lineage.Server.MLflow;

// MLflow's model-registry wire shapes (mlflow/protos/model_registry.proto) as protobuf JSON, like
// MlflowContracts.cs: snake_case, versions as strings, timestamps as numbers, empty fields left out —
// except a version's description, run_id and run_link, which MLflow 2.12 always sends ("" when unset).

public sealed record MlRegisteredModelAlias(string Alias, string Version);

public sealed record MlRegisteredModel(string Name, long CreationTimestamp, long LastUpdatedTimestamp, string? Description,
    List<MlModelVersion>? LatestVersions, List<MlTag>? Tags, List<MlRegisteredModelAlias>? Aliases);

public sealed record MlModelVersion(string Name, string Version, long CreationTimestamp, long LastUpdatedTimestamp, string CurrentStage,
    string Description, string Source, string RunId, string Status, string? StatusMessage, List<MlTag>? Tags, string RunLink, List<string>? Aliases);

public sealed record MlRegisteredModelResponse(MlRegisteredModel RegisteredModel);

public sealed record MlSearchRegisteredModelsResponse(List<MlRegisteredModel>? RegisteredModels, string? NextPageToken);

public sealed record MlModelVersionResponse(MlModelVersion ModelVersion);

public sealed record MlModelVersionsResponse(List<MlModelVersion>? ModelVersions, string? NextPageToken = null);

public sealed record MlDownloadUriResponse(string ArtifactUri);

/// <summary>Source-generated JSON for the registry part of the MLflow surface (same options as <see cref="MlflowJson"/>).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MlRegisteredModelResponse))]
[JsonSerializable(typeof(MlSearchRegisteredModelsResponse))]
[JsonSerializable(typeof(MlModelVersionResponse))]
[JsonSerializable(typeof(MlModelVersionsResponse))]
[JsonSerializable(typeof(MlDownloadUriResponse))]
public sealed partial class MlflowRegistryJson : JsonSerializerContext;

/// <summary>Registry store views → MLflow wire DTOs.</summary>
internal static class MlflowRegistryViews
{
    public static MlRegisteredModel ToMl(this MlflowModelView v) => new(
        v.Model.Name, v.Model.CreatedAt, v.Model.UpdatedAt, string.IsNullOrEmpty(v.Model.Description) ? null : v.Model.Description,
        MlflowViews.NullIfEmpty(v.LatestVersions.Select(l => l.ToMl(withAliases: false))),
        MlflowViews.NullIfEmpty(v.Model.Tags.Select(t => new MlTag(t.Key, t.Value))),
        MlflowViews.NullIfEmpty(v.Model.Aliases.Select(a => new MlRegisteredModelAlias(a.Key, Num(a.Value)))));

    /// <summary>MLflow 2.12 lists a version's aliases only where a single version is read (get, alias get).</summary>
    public static MlModelVersion ToMl(this MlflowVersionView v, bool withAliases)
    {
        var mv = v.Version;
        return new MlModelVersion(mv.Model, Num(mv.Version), mv.CreatedAt, mv.UpdatedAt, RegistryRules.StageText(mv.Stage), mv.Description ?? "",
            v.Source, v.RunId, RegistryRules.StatusText(mv.Status), string.IsNullOrEmpty(mv.StatusMessage) ? null : mv.StatusMessage,
            MlflowViews.NullIfEmpty(mv.Tags.Select(t => new MlTag(t.Key, t.Value))), v.RunLink,
            withAliases ? MlflowViews.NullIfEmpty(mv.Aliases) : null);
    }

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}
