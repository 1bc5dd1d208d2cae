namespace Lineage.Storage.Engine;

/// <summary>
/// Who the writes of the current request are made by, for the provenance columns (created_by, updated_by).
/// The server sets it once per request; <see cref="Database.WriteAsync{T}"/> captures it on the caller's
/// async flow and hands it to the operation as <see cref="DbSession.Actor"/>, because the SQLite writer runs
/// operations on its own loop where the caller's flow is gone.
/// </summary>
public static class ChangeActor
{
    private static readonly AsyncLocal<string?> Value = new();

    public static string? Current
    {
        get => Value.Value;
        set => Value.Value = value;
    }
}
