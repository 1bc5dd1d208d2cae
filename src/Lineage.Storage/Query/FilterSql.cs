using System.Text;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Core.Query;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Query;

/// <summary>
/// Compiles a parsed <see cref="SearchQuery"/> to SQL fragments for one target. Every value and
/// every key goes in as a parameter (<c>@q0</c>, <c>@q1</c>, …); the SQL text is built only from
/// the fixed column names below, so user text never becomes SQL text.
/// <para>Aliases the fragments expect: runs <c>r</c> joined to experiments <c>e</c>; experiments
/// <c>e</c>; artifacts <c>v</c> (versions) joined to names <c>n</c> and producing runs <c>pr</c>; registered
/// models <c>m</c>; model versions <c>mv</c> joined to their model <c>m</c>, MLflow facts <c>mx</c> and run <c>mr</c>.</para>
/// Metric, param and tag comparisons are EXISTS lookups on their primary keys, so a filter costs
/// one index probe per candidate row; ORDER BY keys become LEFT JOINs on the same keys.
/// </summary>
/// <para>Sensitive params, tags and metadata keys (<paramref name="sensitive"/>) hold ciphertext or are
/// redacted, so only IS [NOT] NULL may test them; comparing or ordering by their values is a 400.</para>
internal sealed class FilterSql(SearchTarget target, SqlDialect dialect, SensitiveKeys? sensitive = null)
{
    private readonly DynamicParameters _parameters = new();
    private readonly StringBuilder _joins = new();
    private int _next;

    public DynamicParameters Parameters => _parameters;

    /// <summary>LEFT JOINs the ORDER BY needs; empty when it needs none.</summary>
    public string Joins => _joins.ToString();

    public string Where(FilterExpr? filter) => filter is null ? "1 = 1" : Expr(filter);

    /// <summary>The ORDER BY list for the keys (nulls last, as MLflow sorts), then the target's tie-breakers.</summary>
    public string OrderBy(IReadOnlyList<OrderKey> keys, string tieBreakers)
    {
        var parts = new List<string>();
        foreach (var key in keys)
        {
            var value = OrderValue(key.Field);
            parts.Add($"CASE WHEN {value} IS NULL THEN 1 ELSE 0 END");
            parts.Add(value + (key.Descending ? " DESC" : " ASC"));
        }
        parts.Add(tieBreakers);
        return string.Join(", ", parts);
    }

    private string Param(object? value)
    {
        var name = "q" + _next++;
        _parameters.Add(name, value);
        return name;
    }

    private string Expr(FilterExpr e) => e switch
    {
        FilterExpr.And a => $"({Expr(a.Left)} AND {Expr(a.Right)})",
        FilterExpr.Or o => $"({Expr(o.Left)} OR {Expr(o.Right)})",
        FilterExpr.Not n => $"(NOT {Expr(n.Inner)})",
        FilterExpr.Compare c => Compare(c),
        _ => throw new InvalidOperationException("unknown filter node"),
    };

    private string Compare(FilterExpr.Compare c)
    {
        var f = c.Field;
        if (c.Op is not (Comparator.IsNull or Comparator.IsNotNull)) RefuseSensitive(f, "filter", "only IS NULL / IS NOT NULL can test it");
        switch (f.Kind)
        {
            case FieldKind.Attribute:
                return Condition(AttributeColumn(f.Key), c, QueryParser.IsNumeric(f), nullable: true);
            case FieldKind.Metric:
            {
                var key = Param(f.Key);
                return Exists($"SELECT 1 FROM latest_metrics m WHERE m.run_id = r.id AND m.key_id = (SELECT id FROM metric_keys WHERE name = @{key})",
                    "m.value", c, numeric: true);
            }
            case FieldKind.Param:
            {
                var key = Param(f.Key);
                return Exists($"SELECT 1 FROM params x WHERE x.run_id = r.id AND x.key = @{key}", "x.value", c, numeric: false);
            }
            case FieldKind.Tag:
            {
                var key = Param(f.Key);
                var (table, owner, id) = TagTable();
                return Exists($"SELECT 1 FROM {table} x WHERE x.{owner} = {id} AND x.key = @{key}", "x.value", c, numeric: false);
            }
            case FieldKind.Dataset:
            {
                var column = f.Key switch
                {
                    "context" => "le.role",
                    _ => dialect.JsonField("dv.metadata", Param(f.Key)),
                };
                return Exists("""
                    SELECT 1 FROM executions dx
                    JOIN lineage_events le ON le.execution_id = dx.id AND le.kind = 'input'
                    JOIN artifact_versions dv ON dv.id = le.artifact_id AND dv.type = 'dataset'
                    WHERE dx.run_id = r.id
                    """, column, c, numeric: false, nullMeansAbsent: true);
            }
            case FieldKind.Metadata:
            {
                var key = Param(f.Key);
                var numeric = c.Value is FilterValue.Number || (c.Value is FilterValue.List l && l.Items.All(i => i is FilterValue.Number));
                var column = numeric ? dialect.JsonNumber("v.metadata", key) : dialect.JsonField("v.metadata", key);
                return Condition(column, c, numeric, nullable: true);
            }
            default:
                throw new InvalidOperationException("unknown field kind");
        }
    }

    /// <summary>"there is a row with the key whose value matches"; IS NULL means "there is no such key".</summary>
    private string Exists(string select, string valueColumn, FilterExpr.Compare c, bool numeric, bool nullMeansAbsent = true)
    {
        if (c.Op == Comparator.IsNull) return $"NOT EXISTS ({select})";
        if (c.Op == Comparator.IsNotNull) return $"EXISTS ({select})";
        return $"EXISTS ({select} AND {Condition(valueColumn, c, numeric, nullable: false)})";
    }

    private string Condition(string column, FilterExpr.Compare c, bool numeric, bool nullable)
    {
        object? Value(FilterValue v) => v switch
        {
            FilterValue.Number n => numeric ? n.Value : n.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            FilterValue.Text t => t.Value,
            _ => null,
        };
        switch (c.Op)
        {
            case Comparator.IsNull: return $"{column} IS NULL";
            case Comparator.IsNotNull: return $"{column} IS NOT NULL";
            case Comparator.In or Comparator.NotIn:
            {
                var items = ((FilterValue.List)c.Value).Items;
                var name = numeric
                    ? Param(items.Select(i => i is FilterValue.Number n ? n.Value : double.NaN).ToArray())
                    : Param(items.Select(i => Value(i)?.ToString() ?? "").ToArray());
                var inList = dialect.InList(column, name);
                return c.Op == Comparator.In ? inList : $"({column} IS NOT NULL AND NOT ({inList}))";
            }
            case Comparator.Like:
            {
                var pattern = (string)Value(c.Value)!;
                return dialect.LikeCaseSensitive(column, Param(pattern), Param(SqlDialect.LikeToGlob(pattern)));
            }
            case Comparator.ILike:
                return $"{column} {dialect.LikeInsensitive} @{Param(Value(c.Value))}";
        }
        var op = c.Op switch
        {
            Comparator.Eq => "=",
            Comparator.NotEq => "<>",
            Comparator.Lt => "<",
            Comparator.LtEq => "<=",
            Comparator.Gt => ">",
            _ => ">=",
        };
        _ = nullable;
        return $"{column} {op} @{Param(Value(c.Value))}";
    }

    private (string Table, string Owner, string Id) TagTable() => target switch
    {
        SearchTarget.Runs => ("run_tags", "run_id", "r.id"),
        SearchTarget.Experiments => ("experiment_tags", "experiment_id", "e.id"),
        SearchTarget.RegisteredModels => ("registered_model_tags", "model_id", "m.id"),
        SearchTarget.ModelVersions => ("model_version_tags", "version_id", "mv.id"),
        _ => ("artifact_tags", "version_id", "v.id"),
    };

    private string AttributeColumn(string key) => target switch
    {
        SearchTarget.Runs => key switch
        {
            "run_id" => "r.uuid",
            "run_name" => "r.name",
            "status" => "r.status",
            "user_id" => "r.user_name",
            "start_time" => "r.start_time",
            "end_time" => "r.end_time",
            "lifecycle_stage" => "r.lifecycle",
            "experiment_id" => "r.experiment_id",
            "artifact_uri" => RunArtifactUri,
            _ => throw new InvalidOperationException($"unmapped run attribute {key}"),
        },
        SearchTarget.Experiments => key switch
        {
            "name" => "e.name",
            "experiment_id" => "e.id",
            "creation_time" => "e.created_at",
            "last_update_time" => "e.updated_at",
            "lifecycle_stage" => "e.lifecycle",
            _ => throw new InvalidOperationException($"unmapped experiment attribute {key}"),
        },
        SearchTarget.RegisteredModels => key switch
        {
            "name" => "m.name",
            "description" => "m.description",
            "created_at" => "m.created_at",
            "updated_at" => "m.updated_at",
            _ => throw new InvalidOperationException($"unmapped registered model attribute {key}"),
        },
        // MLflow's run_id and source are what the client gave (mx); native versions fall back to the linked run.
        SearchTarget.ModelVersions => key switch
        {
            "name" => "m.name",
            "version" => "mv.version",
            "run_id" => "COALESCE(mx.run_id, mr.uuid)",
            "source" => "mx.source",
            "current_stage" => "mv.stage",
            "status" => "mv.status",
            "description" => "mv.description",
            "created_at" => "mv.created_at",
            "updated_at" => "mv.updated_at",
            _ => throw new InvalidOperationException($"unmapped model version attribute {key}"),
        },
        _ => key switch
        {
            "name" => "n.name",
            "version" => "v.version",
            "type" => "v.type",
            "kind" => "v.kind",
            "digest" => "v.digest",
            "size" => "v.size",
            "created_at" => "v.created_at",
            "created_by" => "v.created_by",
            "run_id" => "pr.uuid",
            "lifecycle" => "v.lifecycle",
            "description" => "v.description",
            "id" => "v.id",
            _ => throw new InvalidOperationException($"unmapped artifact attribute {key}"),
        },
    };

    /// <summary>A run's MLflow artifact URI: the experiment's location (or mlflow-artifacts:/&lt;id&gt;), the run id, "artifacts".</summary>
    public const string RunArtifactUri =
        "(COALESCE(e.artifact_location, 'mlflow-artifacts:/' || CAST(r.experiment_id AS TEXT)) || '/' || r.uuid || '/artifacts')";

    private void RefuseSensitive(FieldRef f, string clause, string hint)
    {
        if (sensitive is not null && f.Kind is FieldKind.Param or FieldKind.Tag or FieldKind.Metadata && sensitive.Matches(f.Key))
            throw LineageException.Invalid(clause == "order_by" ? "order_by" : "filter",
                $"invalid {clause} at position {f.Position}: {f} is a sensitive field (stored encrypted, shown redacted); {hint}");
    }

    private string OrderValue(FieldRef f)
    {
        RefuseSensitive(f, "order_by", "results cannot be ordered by it");
        var alias = "o" + _next;
        switch (f.Kind)
        {
            case FieldKind.Attribute:
                return AttributeColumn(f.Key);
            case FieldKind.Metric:
                _joins.Append($" LEFT JOIN latest_metrics {alias} ON {alias}.run_id = r.id AND {alias}.key_id = (SELECT id FROM metric_keys WHERE name = @{Param(f.Key)})");
                return $"{alias}.value";
            case FieldKind.Param:
                _joins.Append($" LEFT JOIN params {alias} ON {alias}.run_id = r.id AND {alias}.key = @{Param(f.Key)}");
                return $"{alias}.value";
            case FieldKind.Tag:
            {
                var (table, owner, id) = TagTable();
                _joins.Append($" LEFT JOIN {table} {alias} ON {alias}.{owner} = {id} AND {alias}.key = @{Param(f.Key)}");
                return $"{alias}.value";
            }
            case FieldKind.Metadata:
                return dialect.JsonField("v.metadata", Param(f.Key));
            default:
                throw new InvalidOperationException("datasets cannot be ordered by");
        }
    }
}
