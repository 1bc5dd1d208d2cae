using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Lineage.Storage.Query;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.MLflow;

/// <summary>
/// The few operations the MLflow surface needs beyond the native ones: experiments with an
/// artifact location, run names kept in step with the <c>mlflow.runName</c> tag, dataset inputs
/// (lineage edges), the model-history tag, and the files of the artifact proxy. Everything else
/// the MLflow API does goes through <see cref="TrackingStore"/>, so an MLflow run is a Lineage run.
/// Each public method is one transaction. Thread-safe.
/// </summary>
public sealed class MlflowStore(Database db, IBlobStore blobs)
{
    public const string RunNameTag = "mlflow.runName";
    public const string ModelHistoryTag = "mlflow.log-model.history";

    /// <summary>Creates an experiment in the request's project (default unless the tracking URI names one); RESOURCE_ALREADY_EXISTS when the name is taken.</summary>
    public Task<long> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<KeyValue> tags)
    {
        Validate.Name(name, "name");
        foreach (var t in tags)
        {
            Validate.Key(t.Key, "tags.key");
            Validate.Text(t.Value, "tags.value", Limits.MaxTagValueLength);
        }
        if (artifactLocation is not null) Validate.Text(artifactLocation, "artifact_location", 2000);
        return db.WriteAsync(async s =>
        {
            var project = await ExperimentAccess.RequireProjectAsync(s, s.RequestProject);
            // Creation times strictly increase (a VM's wall clock may step back a few ms, and two creates may
            // share a millisecond): MLflow's default order is newest first, ties by id ascending, so creation
            // order agrees with that order only if no two experiments share a creation time.
            var now = Math.Max(Clock.NowMs(), 1 + await s.Connection.ExecuteScalarAsync<long>(
                "SELECT COALESCE(MAX(created_at), 0) FROM experiments", transaction: s.Transaction));
            var id = await ExperimentAccess.CreateExperimentAsync(s, project.Id, name, null, now)
                     ?? throw LineageException.AlreadyExists($"Experiment(name={name}) already exists.");
            if (!string.IsNullOrEmpty(artifactLocation))
                await s.Connection.ExecuteAsync("UPDATE experiments SET artifact_location = @artifactLocation WHERE id = @id",
                    new { id, artifactLocation }, s.Transaction);
            foreach (var (key, value) in tags) await ExperimentAccess.SetTagAsync(s, id, key, value);
            return id;
        }, keyed: true);
    }

    /// <summary>Restores a deleted experiment (and the runs its deletion took); an active one is RESOURCE_DOES_NOT_EXIST, as in MLflow.</summary>
    public Task<bool> RestoreExperimentAsync(long id) =>
        db.WriteAsync(async s =>
        {
            var row = await ExperimentAccess.FindAsync(s, id);
            if (row is null || row.IsActive) throw LineageException.NotFound($"No deleted experiment with id={id} exists");
            await ExperimentAccess.RestoreAsync(s, row, Clock.NowMs());
            return true;
        }, keyed: true);

    /// <summary>Sets a run tag; <c>mlflow.runName</c> also renames the run, as in MLflow.</summary>
    public Task<bool> SetRunTagAsync(string runId, string key, string value)
    {
        runId = Validate.RunId(runId, "run_id");
        Validate.Key(key, "key");
        Validate.Text(value, "value", Limits.MaxTagValueLength);
        return db.WriteAsync(async s =>
        {
            var run = await RunAccess.RequireActiveAsync(s, runId, "set a tag");
            await RunAccess.SetTagsAsync(s, run.Id, [new KeyValue(key, value)]);
            if (key == RunNameTag) await RunAccess.UpdateAsync(s, run.Id, null, null, value);
            else await s.TouchAsync(Touched.Run, run.Id, Clock.NowMs());
            return true;
        }, keyed: true);
    }

    /// <summary>Updates status, end time and name; a new name is also written to <c>mlflow.runName</c>.</summary>
    /// <summary>MLflow's runs/update; answers with the run as it stands after the update, read in the same transaction.</summary>
    public Task<RunView> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? name)
    {
        runId = Validate.RunId(runId, "run_id");
        if (name is not null) Validate.Text(name, "run_name", Limits.MaxKeyLength);
        return db.WriteAsync(async s =>
        {
            var run = await RunAccess.RequireActiveAsync(s, runId, "update the run");
            await RunAccess.UpdateAsync(s, run.Id, status, endTime, string.IsNullOrEmpty(name) ? null : name);
            if (!string.IsNullOrEmpty(name)) await RunAccess.SetTagsAsync(s, run.Id, [new KeyValue(RunNameTag, name)]);
            return (await ViewAccess.RunViewsAsync(s, [await RunAccess.RequireAsync(s, runId)]))[0];
        }, keyed: true);
    }

    /// <summary>
    /// Records the datasets a run consumed: each becomes (or reuses) a dataset artifact version and
    /// an input edge of the run's execution. All or nothing.
    /// </summary>
    public Task<bool> LogInputsAsync(string runId, IReadOnlyList<DatasetInput> datasets)
    {
        runId = Validate.RunId(runId, "run_id");
        for (var i = 0; i < datasets.Count; i++)
        {
            var d = datasets[i];
            Validate.Text(d.Name, $"datasets[{i}].dataset.name", Limits.MaxNameLength);
            if (d.Name.Length == 0) throw LineageException.Invalid($"datasets[{i}].dataset.name", "Missing value for required parameter 'name'");
            Validate.Text(d.Digest, $"datasets[{i}].dataset.digest", 36);
            if (d.Digest.Length == 0) throw LineageException.Invalid($"datasets[{i}].dataset.digest", "Missing value for required parameter 'digest'");
            Validate.Text(d.SourceType, $"datasets[{i}].dataset.source_type", 36);
            Validate.Text(d.Source, $"datasets[{i}].dataset.source", 65_535);
            Validate.Text(d.Schema, $"datasets[{i}].dataset.schema", 1_048_575, required: false);
            Validate.Text(d.Profile, $"datasets[{i}].dataset.profile", 16_384, required: false);
            foreach (var (value, field) in new[] { (d.Name, "name"), (d.Digest, "digest"), (d.SourceType, "source_type"), (d.Source, "source"), (d.Schema, "schema"), (d.Profile, "profile") })
                Validate.NotSealedLooking(value, $"datasets[{i}].dataset.{field}");
            foreach (var t in d.Tags)
            {
                Validate.Key(t.Key, $"datasets[{i}].tags.key");
                Validate.Text(t.Value, $"datasets[{i}].tags.value", 500);
            }
        }
        return db.WriteAsync(async s =>
        {
            var run = await RunAccess.RequireActiveAsync(s, runId, "log inputs");
            var projectId = await s.Connection.ExecuteScalarAsync<long>(
                "SELECT project_id FROM experiments WHERE id = @ExperimentId", new { run.ExperimentId }, s.Transaction);
            var now = Clock.NowMs();
            foreach (var d in datasets)
            {
                var artifact = await DatasetInputAccess.EnsureDatasetAsync(s, projectId, d, run.UserName, now);
                await DatasetInputAccess.AddInputAsync(s, run.Id, artifact, d.Tags, now);
            }
            return true;
        }, keyed: true);
    }

    /// <summary>Appends a model description (MLflow's MLmodel as JSON) to the run's <c>mlflow.log-model.history</c> tag.</summary>
    public Task<bool> LogModelAsync(string runId, string modelJson)
    {
        runId = Validate.RunId(runId, "run_id");
        JsonNode model;
        try
        {
            model = JsonNode.Parse(modelJson) as JsonObject
                    ?? throw LineageException.Invalid("model_json", "'model_json' must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw LineageException.Invalid("model_json", $"'model_json' is not valid JSON: {ex.Message}");
        }
        return db.WriteAsync(async s =>
        {
            var run = await RunAccess.RequireActiveAsync(s, runId, "log a model");
            var current = await s.Connection.ExecuteScalarAsync<string?>(
                "SELECT value FROM run_tags WHERE run_id = @Id AND key = @key", new { run.Id, key = ModelHistoryTag }, s.Transaction);
            JsonArray history;
            try
            {
                history = current is null ? [] : JsonNode.Parse(current) as JsonArray ?? [];
            }
            catch (JsonException)
            {
                history = [];
            }
            var entry = model.DeepClone().AsObject();
            // MLflow's Model always carries model_uuid (null when the client has none).
            if (!entry.ContainsKey("model_uuid")) entry["model_uuid"] = null;
            history.Add(entry);
            await RunAccess.SetTagsAsync(s, run.Id, [new KeyValue(ModelHistoryTag, history.ToJsonString())]);
            return true;
        }, keyed: true);
    }

    /// <summary>The run ids whose history a bulk read may touch; unknown ids are RESOURCE_DOES_NOT_EXIST.</summary>
    public Task<bool> RequireRunsAsync(IReadOnlyList<string> runIds) =>
        db.ReadAsync(async s =>
        {
            foreach (var id in runIds) await RunAccess.RequireAsync(s, Validate.RunId(id, "run_ids"));
            return true;
        });

    // ---- artifact proxy files ---------------------------------------------------------------

    /// <summary>Stores a file under a proxy path (replacing an earlier one); bytes go to the blob store first.</summary>
    public async Task<FolderEntry> PutFileAsync(string path, Stream content, long? maxBytes, CancellationToken ct = default)
    {
        path = ProxyPaths.Check(path, allowRoot: false);
        var blob = await blobs.PutAsync(content, null, maxBytes, ct);
        return await db.WriteAsync(async s =>
        {
            // Files of another project's experiment cannot be written; to the caller that experiment does not exist.
            if (!await MlflowAccess.VisibleAsync(s, MlflowAccess.Top(path))) throw LineageException.NotFound($"No Experiment with id={MlflowAccess.Top(path)} exists");
            var folderClash = await s.Connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM proxy_files WHERE path > @lo AND path < @hi", new { lo = path + "/", hi = path + "0" }, s.Transaction);
            if (folderClash > 0) throw LineageException.Invalid("path", $"'{path}' is a folder");
            await s.Connection.ExecuteAsync("""
                INSERT INTO proxy_files (path, digest, size, created_at) VALUES (@path, @Digest, @Size, @now)
                ON CONFLICT (path) DO UPDATE SET digest = excluded.digest, size = excluded.size, created_at = excluded.created_at
                """, new { path, blob.Digest, blob.Size, now = Clock.NowMs() }, s.Transaction);
            return new FolderEntry(path, false, blob.Size);
        }, ct: ct);
    }

    /// <summary>Opens a stored file; RESOURCE_DOES_NOT_EXIST for a missing file or a folder.</summary>
    public async Task<(Stream Content, long Size)> OpenFileAsync(string path, CancellationToken ct = default)
    {
        path = ProxyPaths.Check(path, allowRoot: false);
        var row = await db.ReadAsync(async s => await MlflowAccess.VisibleAsync(s, MlflowAccess.Top(path))
            ? await s.Connection.QueryFirstOrDefaultAsync<(string Digest, long Size)?>("SELECT digest, size FROM proxy_files WHERE path = @path", new { path },
                s.Transaction)
            : null, ct);
        if (row is not { } file) throw LineageException.NotFound($"artifact '{path}' does not exist");
        var stream = await blobs.OpenReadAsync(file.Digest, ct)
                     ?? throw LineageException.NotFound($"the content of artifact '{path}' is gone from the blob store");
        return (stream, file.Size);
    }

    /// <summary>The direct children of a folder: files with sizes, then subfolders, sorted by name. A missing folder is empty.</summary>
    public Task<IReadOnlyList<FolderEntry>> ListFolderAsync(string folder, CancellationToken ct = default)
    {
        folder = ProxyPaths.Check(folder, allowRoot: true);
        var prefix = folder.Length == 0 ? "" : folder + "/";
        return db.ReadAsync<IReadOnlyList<FolderEntry>>(async s =>
        {
            var rows = await s.Connection.QueryAsync<(string Path, long Size)>(
                prefix.Length == 0
                    ? "SELECT path, size FROM proxy_files ORDER BY path"
                    : "SELECT path, size FROM proxy_files WHERE path > @lo AND path < @hi ORDER BY path",
                new { lo = prefix, hi = folder + "0" }, s.Transaction);
            var entries = new SortedDictionary<string, FolderEntry>(StringComparer.Ordinal);
            foreach (var (path, size) in rows)
            {
                var rest = path[prefix.Length..];
                var slash = rest.IndexOf('/');
                if (slash < 0) entries[rest] = new FolderEntry(rest, false, size);
                else entries.TryAdd(rest[..slash], new FolderEntry(rest[..slash], true, null));
            }
            // Folders of projects the caller cannot read are left out; inside one, the folder is as empty as a missing one.
            var visible = new List<FolderEntry>();
            foreach (var entry in entries.Values)
                if (await MlflowAccess.VisibleAsync(s, prefix.Length == 0 ? entry.Name : MlflowAccess.Top(folder))) visible.Add(entry);
            return visible;
        }, ct);
    }

    /// <summary>Deletes a file or a whole folder; returns how many files went. Blobs are freed by gc.</summary>
    public Task<int> DeleteAsync(string path, CancellationToken ct = default)
    {
        path = ProxyPaths.Check(path, allowRoot: false);
        return db.WriteAsync(async s => await MlflowAccess.VisibleAsync(s, MlflowAccess.Top(path))
            ? await s.Connection.ExecuteAsync("DELETE FROM proxy_files WHERE path = @path OR (path > @lo AND path < @hi)",
                new { path, lo = path + "/", hi = path + "0" }, s.Transaction)
            : 0, ct: ct); // another project's files: nothing to delete, as for a missing path
    }
}

/// <summary>Paths of the artifact proxy: relative, '/'-separated, no '.', '..' or empty segments.</summary>
public static class ProxyPaths
{
    public static string Check(string? path, bool allowRoot)
    {
        path = (path ?? "").Trim('/');
        if (path.Length == 0)
        {
            if (allowRoot) return "";
            throw LineageException.Invalid("path", "Invalid path: a file path is required");
        }
        if (path.Length > 4096 || path.Contains('\\') || path.Any(char.IsControl)
            || path.Split('/').Any(p => p is "" or "." or ".."))
            throw LineageException.Invalid("path", "Invalid path");
        return path;
    }
}
