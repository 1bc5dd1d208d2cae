using Microsoft.AspNetCore.Http;

namespace Lineage.Server.MLflow;

/// <summary>Answers shared by the MLflow endpoints.</summary>
internal static class MlflowResults
{
    /// <summary>MLflow's answer to a request that returns nothing (most writes): 200 with the empty JSON object <c>{}</c>.</summary>
    public static IResult EmptyResponse() => Results.Json(new MlEmpty(), MlflowJson.Default.MlEmpty);
}
