using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lineage.Core.Contracts.V1;

namespace Lineage.Cli.Bundle;

/// <summary>
/// The portable bundle of <c>lineage export</c> / <c>lineage import bundle</c> (issue 12): one tar file holding
/// <c>manifest.json</c> (first), <c>records.jsonl</c> (one <see cref="BundleRecord"/> per line, in dependency order) and
/// <c>blobs/sha256/&lt;digest&gt;</c> (artifact content, content-addressed so equal content is stored once). The manifest
/// lists every other member with its size and SHA-256; an importer checks them all before it writes anything.
/// Ids in records are the source server's; the importer maps them to the ids the target hands out.
/// </summary>
public static class BundleFormat
{
    public const string Format = "lineage-bundle";
    public const int Version = 1;
    public const string ManifestPath = "manifest.json";
    public const string RecordsPath = "records.jsonl";
    public const string BlobPrefix = "blobs/sha256/";

    /// <summary>Keys under which an import records what the target's API cannot carry as the source had it (docs/import.md).</summary>
    public const string SourceKey = "lineage.import.source";
    public const string RunIdKey = "lineage.import.run_id";
    public const string ExecutionIdKey = "lineage.import.execution_id";
    public const string VersionKey = "lineage.import.version";
    public const string CreatedAtKey = "lineage.import.created_at";
    public const string CreatedByKey = "lineage.import.created_by";
    public const string StartTimeKey = "lineage.import.start_time";
    public const string EndTimeKey = "lineage.import.end_time";

    /// <summary>The <c>record</c> kind a record is written with.</summary>
    public static string TypeName(BundleRecord r) => r switch
    {
        ExperimentRecord => "experiment",
        RunRecord => "run",
        ArtifactRecord => "artifact",
        ArtifactAliasRecord => "artifact_alias",
        ExecutionRecord => "execution",
        ModelRecord => "model",
        ModelVersionRecord => "model_version",
        RegistryChangeRecord => "registry_change",
        ModelStateRecord => "model_state",
        _ => throw new UnreachableException(r.GetType().Name),
    };
}

/// <param name="Source">The exporting server's address and the project read.</param>
/// <param name="Scope"><c>project</c>, or <c>model-version</c> with <see cref="Model"/> and <see cref="ModelVersion"/>.</param>
/// <param name="Counts">Records per type, and <c>blob</c>: blob members.</param>
/// <param name="Members">Every member but the manifest, in the order they follow it.</param>
public sealed record BundleManifest(string Format, int FormatVersion, long CreatedAt, string Source, string Project, string Scope,
    string? Model, long? ModelVersion, SortedDictionary<string, long> Counts, List<BundleMember> Members);

public sealed record BundleMember(string Path, long Size, string Sha256);

/// <summary>One line of records.jsonl; <c>record</c> names the kind.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "record")]
[JsonDerivedType(typeof(ExperimentRecord), "experiment")]
[JsonDerivedType(typeof(RunRecord), "run")]
[JsonDerivedType(typeof(ArtifactRecord), "artifact")]
[JsonDerivedType(typeof(ArtifactAliasRecord), "artifact_alias")]
[JsonDerivedType(typeof(ExecutionRecord), "execution")]
[JsonDerivedType(typeof(ModelRecord), "model")]
[JsonDerivedType(typeof(ModelVersionRecord), "model_version")]
[JsonDerivedType(typeof(RegistryChangeRecord), "registry_change")]
[JsonDerivedType(typeof(ModelStateRecord), "model_state")]
public abstract record BundleRecord
{
    /// <summary>The record's name in the import report and in errors.</summary>
    public abstract string Label();
}

public sealed record ExperimentRecord(string Id, string Name, string? Description, Dictionary<string, string> Tags, long CreatedAt, string? CreatedBy)
    : BundleRecord
{
    public override string Label() => $"experiment {Name}";
}

/// <param name="Metrics">Every point of every metric, in logged order.</param>
public sealed record RunRecord(string Id, string ExperimentId, string? Name, string Status, long StartTime, long? EndTime, string? User,
    string? ParentRunId, Dictionary<string, string> Params, Dictionary<string, string> Tags, Dictionary<string, List<HistoryPointDto>> Metrics,
    long? CreatedAt, string? CreatedBy) : BundleRecord
{
    public override string Label() => $"run {Id}";
}

/// <param name="Kind">file, directory or external.</param>
/// <param name="Files">A directory's files (their blobs are members); null otherwise.</param>
/// <param name="Uri">An external version's URI; its content is not in the bundle.</param>
/// <param name="Lifecycle">active, or deleted (imported, then deleted again, so the numbers after it stay the same).</param>
public sealed record ArtifactRecord(string Id, string Name, long Version, string Type, string Kind, string Digest, long Size, JsonElement Metadata,
    string? Description, Dictionary<string, string> Tags, string? ProducerRunId, string Lifecycle, string? Uri, List<ManifestEntryDto>? Files,
    long CreatedAt, string? CreatedBy) : BundleRecord
{
    public override string Label() => $"artifact {Name}@{Version}";
}

public sealed record ArtifactAliasRecord(string Name, string Alias, long Version) : BundleRecord
{
    public override string Label() => $"artifact alias {Name}@{Alias}";
}

/// <summary>An execution and its edges; a run's execution (<see cref="RunId"/>) is the run's own on the target.</summary>
public sealed record ExecutionRecord(string Id, string Type, string Name, string State, JsonElement Properties, string? RunId,
    List<EdgeRecord> Inputs, List<EdgeRecord> Outputs, long? StartTime, long? EndTime, long CreatedAt, string? CreatedBy) : BundleRecord
{
    public override string Label() => RunId is null ? $"execution {Id}" : $"lineage of run {RunId}";
}

/// <param name="Artifact">The source id of an artifact version in the bundle.</param>
public sealed record EdgeRecord(string Artifact, string Role);

public sealed record ModelRecord(string Name, string? Description, Dictionary<string, string> Tags, long CreatedAt, string? CreatedBy) : BundleRecord
{
    public override string Label() => $"model {Name}";
}

/// <param name="Artifact">The source id of the artifact version the model version is registered from.</param>
public sealed record ModelVersionRecord(string Model, long Version, string Artifact, string? RunId, string Status, string? StatusMessage,
    string? Description, Dictionary<string, string> Tags, long CreatedAt, string? CreatedBy) : BundleRecord
{
    public override string Label() => $"model version {Model} v{Version}";
}

/// <summary>One alias or stage change of a model's history, replayed in order (<see cref="Sequence"/> counts from 1 per model).</summary>
public sealed record RegistryChangeRecord(string Model, int Sequence, string Kind, string? Name, long? Version, string? OldValue, string? NewValue,
    long ChangedAt, string? ChangedBy) : BundleRecord
{
    public override string Label() => $"registry change {Model} #{Sequence}";
}

/// <summary>
/// A model's current aliases, stages and approvers, last of its records: checked (and set where the target differs) after
/// the history replay, and the only registry state of a model-version bundle, which carries no history. Approvers come
/// last because an approver list would refuse the replay of changes made by others.
/// </summary>
public sealed record ModelStateRecord(string Model, Dictionary<string, long> Aliases, Dictionary<string, string> Stages, List<string> Approvers)
    : BundleRecord
{
    public override string Label() => $"aliases, stages and approvers of {Model}";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(BundleManifest))]
[JsonSerializable(typeof(BundleRecord))]
internal sealed partial class BundleJson : JsonSerializerContext;
