using Dapper;
using Lineage.Storage.Engine;

namespace Lineage.Storage.MLflow;

/// <summary>Lookups of the MLflow artifact proxy's folders shared by the tracking and registry halves of the MLflow surface.</summary>
internal static class MlflowAccess
{
    /// <summary>
    /// The project of a proxy path (parameter @top: its first segment): that experiment's project when the segment
    /// is an experiment id (MLflow's default artifact location is <c>mlflow-artifacts:/&lt;experiment id&gt;</c>), else default.
    /// </summary>
    internal const string ProjectOfPath =
        "COALESCE((SELECT x.project_id FROM experiments x WHERE x.id = @top), (SELECT d.id FROM projects d WHERE d.name = 'default'))";

    /// <summary>Whether the session may see files under the top-level folder <paramref name="top"/>.</summary>
    internal static async Task<bool> VisibleAsync(DbSession s, string top) =>
        s.Scope is null || await s.Connection.ExecuteScalarAsync<long?>(
            $"SELECT p.id FROM projects p WHERE p.id = {ProjectOfPath}{s.Visible("p.id")}",
            new { top = long.TryParse(top, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : (long?)null },
            s.Transaction) is not null;

    internal static string Top(string path) => path.Split('/', 2)[0];
}
