using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Lineage.Storage.MLflow;
using Lineage.Storage.Query;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lineage.Server.MLflow;

/// <summary>
/// The MLflow-compatible REST surface: <c>/api/2.0/mlflow/…</c> and the same under
/// <c>/ajax-api/2.0/mlflow/…</c> (what MLflow's UI calls), plus the artifact proxy
/// <c>/api/2.0/mlflow-artifacts/…</c>, and the model registry (<c>registered-models/*</c>, <c>model-versions/*</c>).
/// Errors are MLflow's <c>{"error_code", "message"}</c> (<see cref="MlflowErrors"/>).
/// </summary>
public static class MlflowApi
{
    public static readonly string[] Prefixes = ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"];

    /// <summary>True for a path of this surface (tracking, registry or artifact proxy), whose errors are MLflow-shaped.</summary>
    public static bool Serves(PathString path) =>
        Prefixes.Any(p => path.StartsWithSegments(p) || path.StartsWithSegments(p + "-artifacts"));

    /// <summary>Registers the stores the MLflow surface needs (the native ones are registered by the server).</summary>
    public static IServiceCollection AddMlflow(this IServiceCollection services) =>
        services
            .AddSingleton(sp => new SearchStore(sp.GetRequiredService<Database>()))
            .AddSingleton(sp => new MlflowStore(sp.GetRequiredService<Database>(), sp.GetRequiredService<IBlobStore>()))
            .AddSingleton(sp => new MlflowRegistryStore(sp.GetRequiredService<Database>()));

    public static IEndpointRouteBuilder MapMlflow(this IEndpointRouteBuilder app)
    {
        foreach (var prefix in Prefixes)
        {
            var g = app.MapGroup(prefix).AddEndpointFilter(MlflowErrors.RequireJson).WithMetadata(MlflowErrorShape.Instance)
                .ExcludeFromDescription();
            ExperimentsEndpoints.Map(g);
            RunsEndpoints.Map(g);
            MetricsEndpoints.Map(g);
            ArtifactsEndpoints.MapTracking(g);
            RegisteredModelsEndpoints.Map(g);
            ModelVersionsEndpoints.Map(g);
            WebhooksEndpoints.Map(g);
            var proxy = app.MapGroup(prefix + "-artifacts").WithMetadata(MlflowErrorShape.Instance).ExcludeFromDescription();
            ArtifactsEndpoints.MapProxy(proxy);
        }
        ArtifactsEndpoints.MapUiRoutes(app);
        ModelVersionsEndpoints.MapUiRoutes(app);
        app.MapGet("/version", () => Results.Text(LineageServer.Version)).ExcludeFromDescription();
        return app;
    }
}
