using Lineage.Core.Tracking;

namespace Lineage.Storage.Tracking;

// Row shapes read by Dapper (snake_case columns map onto these names). Internal: the
// store hands out Core records, never rows.

internal sealed class ExperimentRow
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string ProjectName { get; set; } = "";
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    public string Lifecycle { get; set; } = "";
    public long CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public long UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
    public long? DeletedAt { get; set; }

    public bool IsActive => Lifecycle == "active";

    public Experiment ToModel(IReadOnlyDictionary<string, string> tags) =>
        new(Id, ProjectName, Name, Description, Rows.ParseLifecycle(Lifecycle), CreatedAt, UpdatedAt, tags)
        {
            Provenance = new Provenance(CreatedAt, CreatedBy, UpdatedAt, UpdatedBy),
        };
}

internal sealed class ProjectRow
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    public long CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public long? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public Project ToModel() => new(Id, Name, Description, CreatedAt)
    {
        Provenance = new Provenance(CreatedAt, CreatedBy, UpdatedAt ?? CreatedAt, UpdatedBy),
    };
}

internal sealed class RunRow
{
    public long Id { get; set; }
    public string Uuid { get; set; } = "";
    public long ExperimentId { get; set; }
    public string? Name { get; set; }
    public string Status { get; set; } = "";
    public long StartTime { get; set; }
    public long? EndTime { get; set; }
    public string? UserName { get; set; }
    public string? ParentUuid { get; set; }
    public string Lifecycle { get; set; } = "";
    public long? DeletedAt { get; set; }
    public long? CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public long? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public bool IsActive => Lifecycle == "active";

    public RunInfo ToInfo() => new(Uuid, ExperimentId, Name, Rows.ParseStatus(Status), StartTime, EndTime, UserName,
        ParentUuid, Rows.ParseLifecycle(Lifecycle))
    {
        Provenance = new Provenance(CreatedAt ?? StartTime, CreatedBy, UpdatedAt ?? CreatedAt ?? StartTime, UpdatedBy),
    };
}

internal sealed class KeyValueRow
{
    public long OwnerId { get; set; }
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";
}

internal sealed class ChunkTailRow
{
    public long Id { get; set; }
    public long KeyId { get; set; }
    public long Seq { get; set; }
    public long PointCount { get; set; }
    public long LastStep { get; set; }
    public long LastTs { get; set; }
    public byte[] Data { get; set; } = [];
}

internal sealed class ChunkRow
{
    public long Seq { get; set; }
    public byte[] Data { get; set; } = [];
}

internal sealed class RunChunkRow
{
    public long RunId { get; set; }
    public long Seq { get; set; }
    public byte[] Data { get; set; } = [];
}

/// <summary>One run's series as a many-run history read leaves it: reduced points and how many were read.</summary>
internal readonly record struct RunSeriesRead(IReadOnlyList<SeriesPoint> Points, long TotalPoints);

internal static class Rows
{
    public static Lifecycle ParseLifecycle(string value) => value == "deleted" ? Lifecycle.Deleted : Lifecycle.Active;

    public static string Text(Lifecycle value) => value == Lifecycle.Deleted ? "deleted" : "active";

    public static RunStatus ParseStatus(string value) => Enum.Parse<RunStatus>(value, ignoreCase: true);

    public static string Text(RunStatus value) => value.ToString().ToUpperInvariant();
}
