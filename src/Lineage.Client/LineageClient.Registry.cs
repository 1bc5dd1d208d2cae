using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;

namespace Lineage.Client;

/// <summary>Model registry, deployments, datasets, features and reproducibility manifests (issue 5).</summary>
public sealed partial class LineageClient
{
    // ---- registered models and versions --------------------------------------------------

    public Task<RegisteredModelDto> CreateModelAsync(string name, string? description = null, IDictionary<string, string>? tags = null,
        IEnumerable<string>? approvers = null, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/models", Json(new CreateModelRequest(name, project, description, tags is null ? null : new(tags),
            approvers?.ToList()), LineageJson.Default.CreateModelRequest), LineageJson.Default.RegisteredModelDto, ct: ct);

    public Task<RegisteredModelDto> GetModelAsync(string name, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/models/{Esc(name)}" + QueryString(("project", project)), null, LineageJson.Default.RegisteredModelDto, ct: ct);

    public Task<ModelListResponse> ListModelsAsync(string? nameContains = null, IDictionary<string, string>? tags = null, string? project = null,
        int? limit = null, string? pageToken = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/models" + QueryString([("project", project), ("nameContains", nameContains),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("pageToken", pageToken), .. TagPairs(tags)]), null, LineageJson.Default.ModelListResponse, ct: ct);

    public Task<RegisteredModelDto> UpdateModelAsync(string name, string? description, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Patch, $"api/v1/models/{Esc(name)}" + QueryString(("project", project)),
            Json(new UpdateModelRequest(description), LineageJson.Default.UpdateModelRequest), LineageJson.Default.RegisteredModelDto, ct: ct);

    public Task<RegisteredModelDto> SetModelTagAsync(string name, string key, string value, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/models/{Esc(name)}/tags" + QueryString(("project", project)),
            Json(new SetTagRequest(key, value), LineageJson.Default.SetTagRequest), LineageJson.Default.RegisteredModelDto, ct: ct);

    public Task<RegisteredModelDto> SetModelApproversAsync(string name, IEnumerable<string> approvers, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Put, $"api/v1/models/{Esc(name)}/approvers" + QueryString(("project", project)),
            Json(new SetApproversRequest(approvers.ToList()), LineageJson.Default.SetApproversRequest), LineageJson.Default.RegisteredModelDto, ct: ct);

    /// <summary>Registers the next version of <paramref name="model"/> from an artifact version (the run is taken from the artifact's producer).</summary>
    /// <param name="idempotencyKey">A key of the caller's that a retry repeats, so the version is created once; a fresh one when null.</param>
    public Task<ModelVersionDto> CreateModelVersionAsync(string model, CreateModelVersionRequest request, string? project = null, CancellationToken ct = default,
        string? idempotencyKey = null) =>
        SendAsync(HttpMethod.Post, $"api/v1/models/{Esc(model)}/versions" + QueryString(("project", project)),
            Json(request, LineageJson.Default.CreateModelVersionRequest), LineageJson.Default.ModelVersionDto, idempotencyKey ?? Guid.NewGuid().ToString("N"), ct);

    /// <param name="version">A number, an alias or "latest".</param>
    public Task<ModelVersionDto> GetModelVersionAsync(string model, string version = "latest", string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/models/{Esc(model)}/versions/{Esc(version)}" + QueryString(("project", project)), null,
            LineageJson.Default.ModelVersionDto, ct: ct);

    /// <summary>Model versions of one model (or all when <paramref name="model"/> is null) with every given tag; newest first.</summary>
    public Task<ModelVersionListResponse> SearchModelVersionsAsync(string? model = null, IDictionary<string, string>? tags = null, string? stage = null,
        string? status = null, string? project = null, int? limit = null, string? pageToken = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/model-versions" + QueryString([("model", model), ("project", project), ("stage", stage), ("status", status),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("pageToken", pageToken), .. TagPairs(tags)]), null,
            LineageJson.Default.ModelVersionListResponse, ct: ct);

    public Task<ModelVersionDto> UpdateModelVersionAsync(string model, long version, UpdateModelVersionRequest update, string? project = null,
        CancellationToken ct = default) =>
        SendAsync(HttpMethod.Patch, $"api/v1/models/{Esc(model)}/versions/{version}" + QueryString(("project", project)),
            Json(update, LineageJson.Default.UpdateModelVersionRequest), LineageJson.Default.ModelVersionDto, ct: ct);

    public Task<ModelVersionDto> SetModelVersionTagAsync(string model, long version, string key, string value, string? project = null,
        CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/models/{Esc(model)}/versions/{version}/tags" + QueryString(("project", project)),
            Json(new SetTagRequest(key, value), LineageJson.Default.SetTagRequest), LineageJson.Default.ModelVersionDto, ct: ct);

    public Task<ModelVersionDto> SetModelAliasAsync(string model, string alias, long version, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Put, $"api/v1/models/{Esc(model)}/aliases/{Esc(alias)}" + QueryString(("project", project)),
            Json(new SetAliasRequest(version), LineageJson.Default.SetAliasRequest), LineageJson.Default.ModelVersionDto, ct: ct);

    public Task DeleteModelAliasAsync(string model, string alias, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/models/{Esc(model)}/aliases/{Esc(alias)}" + QueryString(("project", project)), null, ct: ct);

    /// <summary>Deletes a registered model with its versions (not their artifacts). 409 while deployed.</summary>
    public Task DeleteModelAsync(string model, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/models/{Esc(model)}" + QueryString(("project", project)), null, ct: ct);

    /// <summary>Deletes one version (not its artifact). 409 while deployed or aliased.</summary>
    public Task DeleteModelVersionAsync(string model, long version, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/models/{Esc(model)}/versions/{version}" + QueryString(("project", project)), null, ct: ct);

    /// <param name="stage">None, Staging, Production or Archived.</param>
    public Task<ModelVersionDto> TransitionModelStageAsync(string model, long version, string stage, bool archiveExisting = false, string? project = null,
        CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/models/{Esc(model)}/versions/{version}/stage" + QueryString(("project", project)),
            Json(new TransitionStageRequest(stage, archiveExisting), LineageJson.Default.TransitionStageRequest), LineageJson.Default.ModelVersionDto, ct: ct);

    /// <summary>Every alias and stage change of a model, oldest first (<paramref name="kind"/>: alias or stage).</summary>
    public Task<RegistryHistoryResponse> GetModelHistoryAsync(string model, string? kind = null, string? alias = null, long? version = null,
        string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/models/{Esc(model)}/history" + QueryString(("project", project), ("kind", kind), ("alias", alias),
            ("version", version?.ToString(CultureInfo.InvariantCulture))), null, LineageJson.Default.RegistryHistoryResponse, ct: ct);

    // ---- approvals ------------------------------------------------------------------------

    public Task<PromotionDto> RequestPromotionAsync(string model, CreatePromotionRequest request, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/models/{Esc(model)}/promotions" + QueryString(("project", project)),
            Json(request, LineageJson.Default.CreatePromotionRequest), LineageJson.Default.PromotionDto, ct: ct);

    /// <param name="status">PENDING, APPROVED or REJECTED; all when null.</param>
    public Task<PromotionListResponse> ListPromotionsAsync(string? model = null, string? status = null, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/promotions" + QueryString(("model", model), ("status", status), ("project", project)), null,
            LineageJson.Default.PromotionListResponse, ct: ct);

    public Task<PromotionDto> ApprovePromotionAsync(string id, string? comment = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/promotions/{Esc(id)}/approve", Json(new DecisionRequest(comment), LineageJson.Default.DecisionRequest),
            LineageJson.Default.PromotionDto, ct: ct);

    public Task<PromotionDto> RejectPromotionAsync(string id, string? comment = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/promotions/{Esc(id)}/reject", Json(new DecisionRequest(comment), LineageJson.Default.DecisionRequest),
            LineageJson.Default.PromotionDto, ct: ct);

    // ---- deployments ----------------------------------------------------------------------

    public Task<DeploymentDto> DeployAsync(string environment, string model, long version, string? endpointUrl = null, object? config = null,
        string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/deployments", Json(new CreateDeploymentRequest(environment, model, version, endpointUrl,
            config is null ? null : ToJsonElement(config), project), LineageJson.Default.CreateDeploymentRequest), LineageJson.Default.DeploymentDto,
            Guid.NewGuid().ToString("N"), ct);

    /// <param name="status">pending, healthy, degraded, failed or retired.</param>
    public Task<DeploymentDto> SetDeploymentStatusAsync(string id, string status, string? reason = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/deployments/{Esc(id)}/status", Json(new DeploymentStatusRequest(status, reason),
            LineageJson.Default.DeploymentStatusRequest), LineageJson.Default.DeploymentDto, ct: ct);

    public Task<DeploymentDto> RollbackDeploymentAsync(string id, string? reason = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/deployments/{Esc(id)}/rollback", Json(new RollbackRequest(reason), LineageJson.Default.RollbackRequest),
            LineageJson.Default.DeploymentDto, ct: ct);

    public Task<DeploymentDto> GetDeploymentAsync(string id, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/deployments/{Esc(id)}", null, LineageJson.Default.DeploymentDto, ct: ct);

    /// <param name="live">True: what is deployed where right now.</param>
    public Task<DeploymentListResponse> ListDeploymentsAsync(string? environment = null, string? model = null, bool live = false, string? project = null,
        int? limit = null, string? pageToken = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/deployments" + QueryString(("environment", environment), ("model", model), ("live", live ? "true" : null),
            ("project", project), ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("pageToken", pageToken)), null,
            LineageJson.Default.DeploymentListResponse, ct: ct);

    public Task<EnvironmentStatsResponse> GetEnvironmentStatsAsync(string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, "api/v1/environments/stats" + QueryString(("project", project)), null, LineageJson.Default.EnvironmentStatsResponse, ct: ct);

    // ---- datasets and features --------------------------------------------------------------

    public Task<DatasetSchemaDto> CreateDatasetSchemaAsync(string name, IEnumerable<ColumnSpecDto> columns, string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/dataset-schemas", Json(new CreateSchemaRequest(name, columns.ToList(), project), LineageJson.Default.CreateSchemaRequest),
            LineageJson.Default.DatasetSchemaDto, ct: ct);

    /// <summary>Records source, schema, row count and profile of a dataset artifact version (once).</summary>
    public Task<DatasetVersionDto> SetDatasetFactsAsync(string name, string version, DatasetFactsRequest facts, string? project = null,
        CancellationToken ct = default) =>
        SendAsync(HttpMethod.Put, $"api/v1/datasets/{Esc(name)}/versions/{Esc(version)}" + QueryString(("project", project)),
            Json(facts, LineageJson.Default.DatasetFactsRequest), LineageJson.Default.DatasetVersionDto, ct: ct);

    public Task<DatasetVersionDto> AddDatasetValidationsAsync(string name, string version, IEnumerable<ValidationCheckDto> checks, string? project = null,
        CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/datasets/{Esc(name)}/versions/{Esc(version)}/validations" + QueryString(("project", project)),
            Json(new ValidationsRequest(checks.ToList()), LineageJson.Default.ValidationsRequest), LineageJson.Default.DatasetVersionDto, ct: ct);

    public Task<DatasetVersionDto> GetDatasetAsync(string name, string version = "latest", string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/datasets/{Esc(name)}/versions/{Esc(version)}" + QueryString(("project", project)), null,
            LineageJson.Default.DatasetVersionDto, ct: ct);

    public Task<SchemaDiffResponse> DiffDatasetAsync(string name, string from, string to = "latest", string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/datasets/{Esc(name)}/diff" + QueryString(("from", from), ("to", to), ("project", project)), null,
            LineageJson.Default.SchemaDiffResponse, ct: ct);

    public Task<FeatureSetDto> RegisterFeatureSetAsync(CreateFeatureSetRequest request, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/feature-sets", Json(request, LineageJson.Default.CreateFeatureSetRequest), LineageJson.Default.FeatureSetDto,
            Guid.NewGuid().ToString("N"), ct);

    public Task<FeatureUsageResponse> GetFeatureUsageAsync(string feature, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/features/{Esc(feature)}/usage", null, LineageJson.Default.FeatureUsageResponse, ct: ct);

    // ---- reproducibility manifests ---------------------------------------------------------

    /// <summary>Everything needed to rebuild a model version (format 1, snake_case keys; see docs/registry.md).</summary>
    public Task<JsonObject> GetModelManifestAsync(string model, string version = "latest", string? project = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/models/{Esc(model)}/versions/{Esc(version)}/manifest" + QueryString(("project", project)), null,
            LineageJson.Default.JsonObject, ct: ct);

    /// <summary>Re-checks every digest a manifest names against the server's store and bytes.</summary>
    public Task<VerifyManifestResponse> VerifyManifestAsync(JsonObject manifest, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/manifests/verify", Json(manifest, LineageJson.Default.JsonObject), LineageJson.Default.VerifyManifestResponse, ct: ct);

    private static IEnumerable<(string, string?)> TagPairs(IDictionary<string, string>? tags) =>
        (tags ?? new Dictionary<string, string>()).Select(t => ("tag." + t.Key, (string?)t.Value));
}
