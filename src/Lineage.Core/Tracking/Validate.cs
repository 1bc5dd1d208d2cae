using System.Globalization;
using Lineage.Core.Errors;

namespace Lineage.Core.Tracking;

/// <summary>
/// Input rules, checked before anything reaches the store. Every failure is a
/// 400 INVALID_PARAMETER_VALUE that names the offending field.
/// </summary>
public static class Validate
{
    /// <summary>Metric, param and tag keys: MLflow's alphabet, so MLflow clients see the same rules.</summary>
    public static string Key(string? key, string field)
    {
        if (string.IsNullOrEmpty(key))
            throw LineageException.Invalid(field, $"'{field}' is required and must not be empty");
        if (key.Length > Limits.MaxKeyLength)
            throw LineageException.Invalid(field, $"'{field}' is {key.Length} characters long; the limit is {Limits.MaxKeyLength}");
        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ' ' or '/'))
                throw LineageException.Invalid(field,
                    $"'{field}' value '{Shorten(key)}' contains '{c}'; keys may only contain letters, digits, '_', '-', '.', ' ' and '/'");
        }
        if (key.Split('/').Any(part => part is ".." or "."))
            throw LineageException.Invalid(field, $"'{field}' value '{Shorten(key)}' must not contain '.' or '..' path segments");
        return key;
    }

    public static string Text(string? value, string field, int maxLength, bool required = true)
    {
        if (value is null)
        {
            if (required) throw LineageException.Invalid(field, $"'{field}' is required");
            return "";
        }
        if (value.Length > maxLength)
            throw LineageException.Invalid(field, $"'{field}' is {value.Length} characters long; the limit is {maxLength}");
        return value;
    }

    /// <summary>
    /// Refuses a plain value that would be taken for an encrypted one (<c>enc:v1:…</c>) wherever it may end up in a
    /// field that the store seals (artifact metadata, registry sources, dataset facts).
    /// </summary>
    public static string NotSealedLooking(string? value, string field)
    {
        if (Governance.FieldEnvelope.IsSealed(value))
            throw LineageException.Invalid(field, $"'{field}' may not start with '{Governance.FieldEnvelope.Prefix}' (reserved for encrypted values)");
        return value ?? "";
    }

    public static string Name(string? name, string field)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw LineageException.Invalid(field, $"'{field}' is required and must not be blank");
        if (name.Length > Limits.MaxNameLength)
            throw LineageException.Invalid(field, $"'{field}' is {name.Length} characters long; the limit is {Limits.MaxNameLength}");
        if (name.Any(char.IsControl))
            throw LineageException.Invalid(field, $"'{field}' must not contain control characters");
        return name;
    }

    /// <summary>Project names appear in URLs and CLI arguments: a conservative slug.</summary>
    public static string ProjectName(string? name, string field = "project")
    {
        if (string.IsNullOrEmpty(name))
            throw LineageException.Invalid(field, $"'{field}' is required");
        if (name.Length > 100 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.')
            || !char.IsAsciiLetterOrDigit(name[0]))
            throw LineageException.Invalid(field,
                $"'{field}' value '{Shorten(name)}' is not a valid project name: use 1-100 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit");
        return name;
    }

    /// <summary>Run ids are 32 lowercase hex characters; upper case is accepted and folded.</summary>
    public static string RunId(string? runId, string field = "runId")
    {
        if (runId is null || runId.Length != 32 || !runId.All(char.IsAsciiHexDigit))
            throw LineageException.Invalid(field, $"'{field}' value '{Shorten(runId ?? "")}' is not a run id (32 hex characters)");
        return runId.ToLowerInvariant();
    }

    public static long ExperimentId(string? id, string field = "experimentId")
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            throw LineageException.Invalid(field, $"'{field}' value '{Shorten(id ?? "")}' is not an experiment id (a non-negative integer)");
        return value;
    }

    public static long Timestamp(long value, string field)
    {
        if (value < 0)
            throw LineageException.Invalid(field, $"'{field}' must be a non-negative Unix time in milliseconds, got {value}");
        return value;
    }

    public static int PageSize(int? limit, string field = "limit", int fallback = 100)
    {
        var value = limit ?? fallback;
        if (value < 1 || value > Limits.MaxPageSize)
            throw LineageException.Invalid(field, $"'{field}' must be between 1 and {Limits.MaxPageSize}, got {value}");
        return value;
    }

    public static RunStatus RunStatus(string? status, string field = "status") =>
        status?.ToUpperInvariant() switch
        {
            "RUNNING" => Tracking.RunStatus.Running,
            "SCHEDULED" => Tracking.RunStatus.Scheduled,
            "FINISHED" => Tracking.RunStatus.Finished,
            "FAILED" => Tracking.RunStatus.Failed,
            "KILLED" => Tracking.RunStatus.Killed,
            _ => throw LineageException.Invalid(field,
                $"'{field}' value '{Shorten(status ?? "")}' is not a run status; use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED"),
        };

    public static LifecycleFilter Lifecycle(string? value, string field = "lifecycle") =>
        value?.ToLowerInvariant() switch
        {
            null or "" or "active" => LifecycleFilter.Active,
            "deleted" => LifecycleFilter.Deleted,
            "all" => LifecycleFilter.All,
            _ => throw LineageException.Invalid(field, $"'{field}' value '{Shorten(value)}' is not one of active, deleted, all"),
        };

    /// <summary>Checks a whole batch; the store then writes it all or nothing.</summary>
    public static RunBatch Batch(RunBatch batch)
    {
        if (batch.Metrics.Count > Limits.MaxBatchMetrics)
            throw LineageException.Invalid("metrics", $"a batch holds at most {Limits.MaxBatchMetrics} metric points, got {batch.Metrics.Count}");
        if (batch.Params.Count > Limits.MaxBatchParams)
            throw LineageException.Invalid("params", $"a batch holds at most {Limits.MaxBatchParams} params, got {batch.Params.Count}");
        if (batch.Tags.Count > Limits.MaxBatchTags)
            throw LineageException.Invalid("tags", $"a batch holds at most {Limits.MaxBatchTags} tags, got {batch.Tags.Count}");
        for (var i = 0; i < batch.Metrics.Count; i++)
        {
            var m = batch.Metrics[i];
            Key(m.Key, $"metrics[{i}].key");
            Timestamp(m.Timestamp, $"metrics[{i}].timestamp");
        }
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Params.Count; i++)
        {
            var p = batch.Params[i];
            Key(p.Key, $"params[{i}].key");
            Text(p.Value, $"params[{i}].value", Limits.MaxParamValueLength);
            if (seen.TryGetValue(p.Key, out var earlier) && earlier != p.Value)
                throw LineageException.Invalid($"params[{i}].value",
                    $"param '{p.Key}' appears twice in the batch with different values ('{Shorten(earlier)}' and '{Shorten(p.Value)}')");
            seen[p.Key] = p.Value;
        }
        for (var i = 0; i < batch.Tags.Count; i++)
        {
            Key(batch.Tags[i].Key, $"tags[{i}].key");
            Text(batch.Tags[i].Value, $"tags[{i}].value", Limits.MaxTagValueLength);
        }
        return batch;
    }

    public static string Shorten(string value) => value.Length <= 60 ? value : value[..57] + "...";
}
