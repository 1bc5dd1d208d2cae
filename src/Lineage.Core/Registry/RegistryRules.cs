using Lineage.Core.Artifacts;
using Lineage.Core.Errors;
using Lineage.Core.Tracking;

namespace Lineage.Core.Registry;

/// <summary>
/// Input rules and wire spellings for the registry, deployments, datasets and features.
/// Failures are 400 INVALID_PARAMETER_VALUE naming the field and the mismatch.
/// </summary>
public static class RegistryRules
{
    public const int MaxFeatures = 10_000;
    public const int MaxColumns = 10_000;
    public const int MaxApprovers = 100;

    /// <summary>Model names follow artifact names: they appear in URLs and in "name:version" CLI arguments.</summary>
    public static string ModelName(string? name, string field = "name") => ArtifactRules.Name(name, field);

    public static string StageText(ModelStage stage) => stage.ToString();

    public static ModelStage Stage(string? text, string field = "stage") =>
        text?.ToLowerInvariant() switch
        {
            "none" => ModelStage.None,
            "staging" => ModelStage.Staging,
            "production" => ModelStage.Production,
            "archived" => ModelStage.Archived,
            _ => throw LineageException.Invalid(field, $"'{field}' value '{Validate.Shorten(text ?? "")}' is not a stage; use None, Staging, Production or Archived"),
        };

    public static string StatusText(ModelVersionStatus status) => status switch
    {
        ModelVersionStatus.PendingRegistration => "PENDING_REGISTRATION",
        ModelVersionStatus.FailedRegistration => "FAILED_REGISTRATION",
        _ => "READY",
    };

    public static ModelVersionStatus Status(string? text, string field = "status") =>
        text?.ToUpperInvariant() switch
        {
            "PENDING_REGISTRATION" => ModelVersionStatus.PendingRegistration,
            "READY" => ModelVersionStatus.Ready,
            "FAILED_REGISTRATION" => ModelVersionStatus.FailedRegistration,
            _ => throw LineageException.Invalid(field,
                $"'{field}' value '{Validate.Shorten(text ?? "")}' is not a model version status; use PENDING_REGISTRATION, READY or FAILED_REGISTRATION"),
        };

    public static string PromotionText(PromotionStatus status) => status.ToString().ToUpperInvariant();

    public static PromotionStatus Promotion(string? text, string field = "status") =>
        Enum.TryParse<PromotionStatus>(text, true, out var s) && !int.TryParse(text, out _)
            ? s
            : throw LineageException.Invalid(field, $"'{field}' value '{Validate.Shorten(text ?? "")}' is not PENDING, APPROVED or REJECTED");

    public static string DeploymentText(DeploymentStatus status) => status.ToString().ToLowerInvariant();

    public static DeploymentStatus Deployment(string? text, string field = "status") =>
        Enum.TryParse<DeploymentStatus>(text, true, out var s) && !int.TryParse(text, out _)
            ? s
            : throw LineageException.Invalid(field,
                $"'{field}' value '{Validate.Shorten(text ?? "")}' is not a deployment status; use pending, healthy, degraded, failed or retired");

    /// <summary>pending → healthy / degraded / failed; healthy ⇄ degraded; any live state → failed or retired; retired is final.</summary>
    public static bool CanMove(DeploymentStatus from, DeploymentStatus to) => (from, to) switch
    {
        (DeploymentStatus.Retired, _) => false,
        (_, DeploymentStatus.Retired) => true,
        (DeploymentStatus.Pending, DeploymentStatus.Healthy or DeploymentStatus.Degraded or DeploymentStatus.Failed) => true,
        (DeploymentStatus.Healthy, DeploymentStatus.Degraded or DeploymentStatus.Failed) => true,
        (DeploymentStatus.Degraded, DeploymentStatus.Healthy or DeploymentStatus.Failed) => true,
        (DeploymentStatus.Failed, DeploymentStatus.Pending) => true, // a retry of the same rollout
        _ => false,
    };

    /// <summary>Environment names: like artifact names (they appear in URLs). A deployment must name one.</summary>
    public static string Environment(string? name, string field = "environment")
    {
        if (string.IsNullOrWhiteSpace(name))
            throw LineageException.Invalid(field, "a deployment needs an environment (e.g. 'staging', 'production', 'eu-west-serving')");
        return ArtifactRules.Name(name, field);
    }

    public static string? EndpointUrl(string? url, string field = "endpointUrl")
    {
        if (url is null) return null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme.Length < 2 || url.Length > 2000)
            throw LineageException.Invalid(field, $"'{field}' value '{Validate.Shorten(url)}' is not an absolute URL");
        return url;
    }

    /// <summary>dtypes are short lowercase words (float, float32, int, int64, str, bool, datetime, category …).</summary>
    public static string Dtype(string? dtype, string field)
    {
        if (string.IsNullOrEmpty(dtype) || dtype.Length > 50 || !char.IsAsciiLetterLower(dtype[0])
            || !dtype.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '[' or ']' or ','))
            throw LineageException.Invalid(field, $"'{field}' value '{Validate.Shorten(dtype ?? "")}' is not a dtype: use a lowercase word such as float, int, str, bool");
        return dtype;
    }

    public static IReadOnlyList<int> Shape(IReadOnlyList<int>? shape, string field)
    {
        if (shape is null) return [];
        if (shape.Count > 16) throw LineageException.Invalid(field, $"'{field}' has {shape.Count} dimensions; the limit is 16");
        for (var i = 0; i < shape.Count; i++)
            if (shape[i] < -1 || shape[i] == 0)
                throw LineageException.Invalid($"{field}[{i}]", $"'{field}[{i}]' must be a positive size or -1 (any), got {shape[i]}");
        return shape;
    }

    public static string ShapeText(IReadOnlyList<int> shape) => "[" + string.Join(",", shape) + "]";

    public static IReadOnlyList<FeatureDefinition> Features(IReadOnlyList<FeatureDefinition>? features, string field = "features")
    {
        if (features is null || features.Count == 0) throw LineageException.Invalid(field, "a feature set needs at least one feature");
        if (features.Count > MaxFeatures) throw LineageException.Invalid(field, $"a feature set holds at most {MaxFeatures:N0} features");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < features.Count; i++)
        {
            var f = features[i];
            Validate.Key(f.Name, $"{field}[{i}].name");
            if (!seen.Add(f.Name)) throw LineageException.Invalid($"{field}[{i}].name", $"feature '{f.Name}' appears twice");
            Dtype(f.Dtype, $"{field}[{i}].dtype");
            Shape(f.Shape, $"{field}[{i}].shape");
            Validate.Text(f.Description, $"{field}[{i}].description", Limits.MaxDescriptionLength, required: false);
            Validate.Text(f.Transformation, $"{field}[{i}].transformation", Limits.MaxTagValueLength, required: false);
            Validate.Text(f.Owner, $"{field}[{i}].owner", 250, required: false);
        }
        return features;
    }

    public static IReadOnlyList<FeatureSpec> InputFeatures(IReadOnlyList<FeatureSpec>? inputs, string field = "inputFeatures")
    {
        if (inputs is null) return [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < inputs.Count; i++)
        {
            Validate.Key(inputs[i].Name, $"{field}[{i}].name");
            if (!seen.Add(inputs[i].Name)) throw LineageException.Invalid($"{field}[{i}].name", $"input feature '{inputs[i].Name}' appears twice");
            Dtype(inputs[i].Dtype, $"{field}[{i}].dtype");
            Shape(inputs[i].Shape, $"{field}[{i}].shape");
        }
        return inputs;
    }

    /// <summary>
    /// Validation rule (issue 5, item 5): every declared input feature of a model version must be in its
    /// feature set with the same dtype and shape. Throws a 400 naming the first mismatch.
    /// </summary>
    public static void MatchFeatures(IReadOnlyList<FeatureSpec> inputs, IReadOnlyList<FeatureDefinition> set, string setName, string field = "inputFeatures")
    {
        var byName = set.ToDictionary(f => f.Name, StringComparer.Ordinal);
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            if (!byName.TryGetValue(input.Name, out var defined))
                throw LineageException.Invalid($"{field}[{i}].name",
                    $"input feature '{input.Name}' is not in feature set {setName}; it defines {string.Join(", ", set.Select(f => f.Name).Take(20))}");
            if (defined.Dtype != input.Dtype)
                throw LineageException.Invalid($"{field}[{i}].dtype",
                    $"input feature '{input.Name}' is declared {input.Dtype} but feature set {setName} defines it as {defined.Dtype}");
            if (!defined.Shape.SequenceEqual(input.Shape))
                throw LineageException.Invalid($"{field}[{i}].shape",
                    $"input feature '{input.Name}' is declared with shape {ShapeText(input.Shape)} but feature set {setName} defines {ShapeText(defined.Shape)}");
        }
    }

    public static IReadOnlyList<ColumnSpec> Columns(IReadOnlyList<ColumnSpec>? columns, string field = "columns")
    {
        if (columns is null || columns.Count == 0) throw LineageException.Invalid(field, $"'{field}' needs at least one column");
        if (columns.Count > MaxColumns) throw LineageException.Invalid(field, $"at most {MaxColumns:N0} columns");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
        {
            Validate.Name(columns[i].Name, $"{field}[{i}].name");
            if (!seen.Add(columns[i].Name)) throw LineageException.Invalid($"{field}[{i}].name", $"column '{columns[i].Name}' appears twice");
            Dtype(columns[i].Dtype, $"{field}[{i}].dtype");
        }
        return columns;
    }

    /// <summary>Validation rule: a dataset version that declares a schema version must have exactly its columns.</summary>
    public static void MatchSchema(IReadOnlyList<ColumnSpec> columns, DatasetSchema schema, string field = "columns")
    {
        var expected = schema.Columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var label = $"schema {schema.Name}@{schema.Version}";
        for (var i = 0; i < columns.Count; i++)
        {
            var c = columns[i];
            if (!expected.TryGetValue(c.Name, out var e))
                throw LineageException.Invalid($"{field}[{i}].name", $"column '{c.Name}' is not in {label}");
            if (e.Dtype != c.Dtype)
                throw LineageException.Invalid($"{field}[{i}].dtype", $"column '{c.Name}' is {c.Dtype} but {label} says {e.Dtype}");
            if (e.Nullable != c.Nullable)
                throw LineageException.Invalid($"{field}[{i}].nullable",
                    $"column '{c.Name}' is {(c.Nullable ? "nullable" : "not nullable")} but {label} says {(e.Nullable ? "nullable" : "not nullable")}");
        }
        var missing = schema.Columns.Where(c => columns.All(x => x.Name != c.Name)).Select(c => c.Name).ToList();
        if (missing.Count > 0)
            throw LineageException.Invalid(field, $"column{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"'{m}'"))} of {label} missing");
    }

    /// <summary>Column-level differences from one column list to another, in the order of the newer list then removals.</summary>
    public static IReadOnlyList<ColumnChange> Diff(IReadOnlyList<ColumnSpec> from, IReadOnlyList<ColumnSpec> to)
    {
        var before = from.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var changes = new List<ColumnChange>();
        foreach (var c in to)
        {
            if (!before.TryGetValue(c.Name, out var old)) { changes.Add(new ColumnChange(c.Name, "added", null, Describe(c))); continue; }
            if (old.Dtype != c.Dtype) changes.Add(new ColumnChange(c.Name, "dtype_changed", old.Dtype, c.Dtype));
            if (old.Nullable != c.Nullable) changes.Add(new ColumnChange(c.Name, "nullable_changed", old.Nullable.ToString().ToLowerInvariant(), c.Nullable.ToString().ToLowerInvariant()));
        }
        foreach (var old in from.Where(o => to.All(c => c.Name != o.Name)))
            changes.Add(new ColumnChange(old.Name, "removed", Describe(old), null));
        return changes;
    }

    private static string Describe(ColumnSpec c) => c.Nullable ? $"{c.Dtype} (nullable)" : c.Dtype;

    /// <summary>"name:version" or "name@version" (version: number, alias or latest).</summary>
    public static (string Name, string Version) ModelRef(string? text, string field = "model")
    {
        if (string.IsNullOrEmpty(text)) throw LineageException.Invalid(field, $"'{field}' is required, as <model>:<version>");
        var cut = text.LastIndexOfAny([':', '@']);
        return cut <= 0 ? (ModelName(text, field), "latest") : (ModelName(text[..cut], field), text[(cut + 1)..]);
    }
}
