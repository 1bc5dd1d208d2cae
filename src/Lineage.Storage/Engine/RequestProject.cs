namespace Lineage.Storage.Engine;

/// <summary>
/// The project a request works in when its API has no project field of its own: MLflow clients name it with the
/// tracking URI (<c>http://host:5000/projects/team-a</c>; see docs/mlflow.md). The server sets it per request;
/// <see cref="Database"/> hands it to each operation as <see cref="DbSession.RequestProject"/>, because the SQLite
/// writer runs operations on its own loop where the caller's flow is gone. Null means the <c>default</c> project.
/// </summary>
public static class RequestProject
{
    public const string Default = "default";

    private static readonly AsyncLocal<string?> Value = new();

    public static string? Current
    {
        get => Value.Value;
        set => Value.Value = value;
    }

    /// <summary>The request's project, else <c>default</c>.</summary>
    public static string Name => Value.Value ?? Default;
}
