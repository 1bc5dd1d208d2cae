using System.Globalization;
using Lineage.Core.Errors;

namespace Lineage.Core.Query;

/// <summary>
/// Parses filters and ORDER BY keys for runs, experiments, artifacts, registered models and model versions.
/// <para>
/// MLflow's search syntax is a strict subset: <c>metrics.rmse &lt; 0.3 and params.model = 'rf'</c>,
/// prefixes in singular or plural (<c>metric.</c>, <c>attribute.</c>), keys quoted with backquotes
/// or double quotes, values in single or double quotes, keywords in any case, and MLflow's rules
/// on which comparator fits which field (numbers for metrics and times, strings for params and
/// tags). Beyond MLflow: OR, NOT and parentheses, IN / NOT IN on every field, IS [NOT] NULL,
/// and <c>metadata.&lt;key&gt;</c> on artifacts.
/// </para>
/// Errors are <see cref="LineageException"/> INVALID_PARAMETER_VALUE naming the 0-based position
/// of the offending token. Thread-safe (stateless).
/// </summary>
public static class QueryParser
{
    /// <summary>Parses a filter; null or blank text means "no filter".</summary>
    public static FilterExpr? ParseFilter(SearchTarget target, string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var p = new Cursor(Lexer.Tokenize(text), target, "filter");
        var expr = p.ParseOr();
        if (p.Peek.Kind != TokenKind.End)
            throw Error(p.Peek.Position, p.Peek.Kind == TokenKind.RParen
                ? "unbalanced ')'"
                : $"expected AND, OR or the end of the filter, found '{p.Peek.Text}'");
        return expr;
    }

    /// <summary>Parses ORDER BY clauses such as <c>metrics.acc DESC</c>, one key per element.</summary>
    public static IReadOnlyList<OrderKey> ParseOrderBy(SearchTarget target, IEnumerable<string>? clauses)
    {
        var keys = new List<OrderKey>();
        foreach (var clause in clauses ?? [])
        {
            if (string.IsNullOrWhiteSpace(clause)) continue;
            var p = new Cursor(Lexer.Tokenize(clause), target, "order_by");
            var first = p.Next();
            if (first.Kind is not (TokenKind.Identifier or TokenKind.String))
                throw Error(first.Position, $"invalid order_by clause '{clause}': expected a field", "order_by");
            var field = p.Resolve(first, forOrder: true);
            var descending = false;
            if (p.Peek.IsWord("DESC")) { descending = true; p.Next(); }
            else if (p.Peek.IsWord("ASC")) p.Next();
            if (p.Peek.Kind != TokenKind.End)
                throw Error(p.Peek.Position, $"invalid order_by clause '{clause}': expected ASC or DESC after the field, found '{p.Peek.Text}'", "order_by");
            keys.Add(new OrderKey(field, descending));
        }
        return keys;
    }

    public static SearchQuery Parse(SearchTarget target, string? filter, IEnumerable<string>? orderBy) =>
        new(ParseFilter(target, filter), ParseOrderBy(target, orderBy));

    internal static LineageException Error(int position, string message, string field = "filter") =>
        LineageException.Invalid(field, $"invalid {(field == "order_by" ? "order_by" : "filter")} at position {position}: {message}");

    // ---- fields per target ---------------------------------------------------------------

    private static readonly Dictionary<string, string> RunAttributes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["run_id"] = "run_id", ["run_uuid"] = "run_id", ["id"] = "run_id",
        ["run_name"] = "run_name", ["run name"] = "run_name", ["name"] = "run_name",
        ["status"] = "status", ["user_id"] = "user_id", ["user"] = "user_id",
        ["start_time"] = "start_time", ["created"] = "start_time", ["end_time"] = "end_time",
        ["artifact_uri"] = "artifact_uri", ["lifecycle_stage"] = "lifecycle_stage", ["experiment_id"] = "experiment_id",
    };

    private static readonly Dictionary<string, string> ExperimentAttributes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = "name", ["experiment_id"] = "experiment_id", ["id"] = "experiment_id",
        ["creation_time"] = "creation_time", ["last_update_time"] = "last_update_time", ["lifecycle_stage"] = "lifecycle_stage",
    };

    private static readonly Dictionary<string, string> ArtifactAttributes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = "name", ["version"] = "version", ["type"] = "type", ["kind"] = "kind", ["digest"] = "digest", ["size"] = "size",
        ["created_at"] = "created_at", ["creation_time"] = "created_at", ["created_by"] = "created_by", ["run_id"] = "run_id",
        ["lifecycle"] = "lifecycle", ["description"] = "description", ["id"] = "id",
    };

    // MLflow's registry filters: registered models by name (and tags), versions by name, version_number, run_id, source_path.
    private static readonly Dictionary<string, string> RegisteredModelAttributes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = "name", ["description"] = "description",
        ["creation_timestamp"] = "created_at", ["last_updated_timestamp"] = "updated_at",
    };

    private static readonly Dictionary<string, string> ModelVersionAttributes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = "name", ["version_number"] = "version", ["version"] = "version", ["run_id"] = "run_id",
        ["source_path"] = "source", ["source"] = "source", ["current_stage"] = "current_stage", ["status"] = "status",
        ["description"] = "description", ["creation_timestamp"] = "created_at", ["last_updated_timestamp"] = "updated_at",
    };

    private static readonly HashSet<string> NumericAttributes =
        ["start_time", "end_time", "creation_time", "last_update_time", "created_at", "updated_at", "version", "size", "id", "experiment_id"];

    private static readonly Dictionary<string, string> DatasetAttributes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = "name", ["digest"] = "digest", ["context"] = "context",
    };

    /// <summary>Whether comparisons on the field take numbers (metrics, times, sizes) or text.</summary>
    public static bool IsNumeric(FieldRef field) =>
        field.Kind == FieldKind.Metric || (field.Kind == FieldKind.Attribute && NumericAttributes.Contains(field.Key));

    /// <summary>
    /// Bounds that keep a hostile filter from exhausting the parser's stack or the database's expression depth
    /// (SQLite stops at 1,000 levels, PostgreSQL's parser runs out of memory): NOT and parentheses nest at most
    /// <see cref="MaxNesting"/> deep, and a filter compares at most <see cref="MaxComparisons"/> times.
    /// </summary>
    public const int MaxNesting = 32;

    public const int MaxComparisons = 100;

    private sealed class Cursor(List<Token> tokens, SearchTarget target, string what)
    {
        private int _at;
        private int _depth;
        private int _comparisons;

        public Token Peek => tokens[_at];

        public Token Next() => tokens[_at++];

        public FilterExpr ParseOr()
        {
            var left = ParseAnd();
            while (Peek.IsWord("OR"))
            {
                Next();
                left = new FilterExpr.Or(left, ParseAnd());
            }
            return left;
        }

        private FilterExpr ParseAnd()
        {
            var left = ParseUnary();
            while (Peek.IsWord("AND"))
            {
                Next();
                left = new FilterExpr.And(left, ParseUnary());
            }
            return left;
        }

        private FilterExpr ParseUnary()
        {
            if (Peek.IsWord("NOT") || Peek.Kind == TokenKind.LParen)
            {
                if (++_depth > MaxNesting)
                    throw Error(Peek.Position, $"the filter nests NOT and parentheses more than {MaxNesting} deep; simplify it");
                try
                {
                    if (Peek.IsWord("NOT"))
                    {
                        Next();
                        return new FilterExpr.Not(ParseUnary());
                    }
                    var open = Next();
                    var inner = ParseOr();
                    if (Peek.Kind != TokenKind.RParen) throw Error(Peek.Position, $"expected ')' to close the '(' at position {open.Position}");
                    Next();
                    return inner;
                }
                finally
                {
                    _depth--;
                }
            }
            if (++_comparisons > MaxComparisons)
                throw Error(Peek.Position, $"the filter has more than {MaxComparisons} comparisons; split the query or use IN (...)");
            return ParseComparison();
        }

        private FilterExpr ParseComparison()
        {
            var token = Next();
            if (token.Kind == TokenKind.End) throw Error(token.Position, "expected a comparison such as metrics.acc > 0.5, found the end of the filter");
            if (token.Kind is not (TokenKind.Identifier or TokenKind.String))
                throw Error(token.Position, $"expected a field such as metrics.acc, params.x, tags.x or an attribute, found '{token.Text}'");
            var field = Resolve(token, forOrder: false);
            var opToken = Peek;
            var op = ReadComparator();
            CheckComparator(field, op, opToken);
            if (op is Comparator.IsNull or Comparator.IsNotNull) return new FilterExpr.Compare(field, op, new FilterValue.None());
            var valueToken = Peek;
            var value = op is Comparator.In or Comparator.NotIn ? ReadList() : ReadScalar();
            CheckValue(field, value, valueToken);
            return new FilterExpr.Compare(field, op, value);
        }

        private Comparator ReadComparator()
        {
            var t = Next();
            if (t.Kind == TokenKind.Operator)
                return t.Text switch
                {
                    "=" or "==" => Comparator.Eq,
                    "!=" or "<>" => Comparator.NotEq,
                    "<" => Comparator.Lt,
                    "<=" => Comparator.LtEq,
                    ">" => Comparator.Gt,
                    ">=" => Comparator.GtEq,
                    _ => throw Error(t.Position, $"invalid comparator '{t.Text}'; use =, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL"),
                };
            if (t.IsWord("LIKE")) return Comparator.Like;
            if (t.IsWord("ILIKE")) return Comparator.ILike;
            if (t.IsWord("IN")) return Comparator.In;
            if (t.IsWord("NOT"))
            {
                var n = Next();
                if (n.IsWord("IN")) return Comparator.NotIn;
                throw Error(n.Position, $"expected IN after NOT, found '{n.Text}'");
            }
            if (t.IsWord("IS"))
            {
                var n = Next();
                if (n.IsWord("NULL")) return Comparator.IsNull;
                if (n.IsWord("NOT") && Next() is var m && m.IsWord("NULL")) return Comparator.IsNotNull;
                throw Error(n.Position, "expected NULL or NOT NULL after IS");
            }
            throw Error(t.Position, t.Kind == TokenKind.End
                ? "expected a comparator, found the end of the filter"
                : $"invalid comparator '{t.Text}'; use =, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL");
        }

        private FilterValue ReadScalar()
        {
            var t = Next();
            return t.Kind switch
            {
                TokenKind.String => new FilterValue.Text(t.Text),
                TokenKind.Number => new FilterValue.Number(double.Parse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture)),
                TokenKind.End => throw Error(t.Position, "expected a value, found the end of the filter"),
                _ => throw Error(t.Position, $"expected a quoted string or a number, found '{t.Text}'"),
            };
        }

        private FilterValue ReadList()
        {
            var open = Next();
            if (open.Kind != TokenKind.LParen) throw Error(open.Position, $"expected '(' to start the list after IN, found '{open.Text}'");
            var items = new List<FilterValue>();
            while (true)
            {
                items.Add(ReadScalar());
                var t = Next();
                if (t.Kind == TokenKind.RParen) break;
                if (t.Kind != TokenKind.Comma) throw Error(t.Position, $"expected ',' or ')' in the IN list, found '{t.Text}'");
            }
            return new FilterValue.List(items);
        }

        private void CheckComparator(FieldRef field, Comparator op, Token at)
        {
            var numeric = IsNumeric(field);
            if (field.Kind == FieldKind.Metadata) return; // JSON: numbers and text alike
            if (numeric && op is Comparator.Like or Comparator.ILike)
                throw Error(at.Position, $"{op.ToString().ToUpperInvariant()} does not apply to {field}, which holds numbers; use =, !=, <, <=, >, >=");
            if (!numeric && op is Comparator.Lt or Comparator.LtEq or Comparator.Gt or Comparator.GtEq)
                throw Error(at.Position, $"'{at.Text}' does not apply to {field}, which holds text; use =, !=, LIKE, ILIKE, IN or NOT IN");
        }

        private void CheckValue(FieldRef field, FilterValue value, Token at)
        {
            if (field.Kind == FieldKind.Metadata) return;
            var numeric = IsNumeric(field);
            foreach (var item in value is FilterValue.List l ? l.Items : [value])
            {
                if (numeric && item is not FilterValue.Number)
                    throw Error(at.Position, $"{field} holds numbers: expected a number, found {Show(item)}");
                if (!numeric && item is not FilterValue.Text)
                    throw Error(at.Position, $"{field} holds text: expected a quoted string, found {Show(item)}");
            }
        }

        private static string Show(FilterValue v) => v switch
        {
            FilterValue.Text t => $"'{t.Value}'",
            FilterValue.Number n => n.Value.ToString(CultureInfo.InvariantCulture),
            _ => "a list",
        };

        /// <summary>Maps an identifier to a field of the target, or fails naming the valid ones.</summary>
        public FieldRef Resolve(Token token, bool forOrder)
        {
            var segments = token.Kind == TokenKind.String ? [token.Text] : token.Segments!;
            string prefix, key;
            if (segments.Count == 1) { prefix = "attributes"; key = segments[0]; }
            else { prefix = segments[0].ToLowerInvariant(); key = segments[1]; }
            var pos = token.Position;
            var kind = prefix switch
            {
                "attribute" or "attributes" or "attr" or "run" => FieldKind.Attribute,
                "metric" or "metrics" when target == SearchTarget.Runs => FieldKind.Metric,
                "param" or "params" or "parameter" or "parameters" when target == SearchTarget.Runs => FieldKind.Param,
                "tag" or "tags" => FieldKind.Tag,
                "dataset" or "datasets" when target == SearchTarget.Runs && !forOrder => FieldKind.Dataset,
                "metadata" or "meta" when target == SearchTarget.Artifacts => FieldKind.Metadata,
                _ => throw Error(pos, $"unknown field prefix '{segments[0]}'; valid prefixes are {Prefixes()}", what),
            };
            if (key.Length == 0) throw Error(pos, "the key after the prefix must not be empty", what);
            switch (kind)
            {
                case FieldKind.Attribute:
                {
                    var attributes = target switch
                    {
                        SearchTarget.Runs => RunAttributes,
                        SearchTarget.Experiments => ExperimentAttributes,
                        SearchTarget.RegisteredModels => RegisteredModelAttributes,
                        SearchTarget.ModelVersions => ModelVersionAttributes,
                        _ => ArtifactAttributes,
                    };
                    if (!attributes.TryGetValue(key, out var canonical))
                        throw Error(pos, $"unknown attribute '{key}'; valid attributes are {string.Join(", ", attributes.Values.Distinct())}"
                                         + (segments.Count == 1 && target == SearchTarget.Runs ? " (or use a prefix: metrics., params., tags.)" : ""), what);
                    return new FieldRef(kind, canonical, pos);
                }
                case FieldKind.Dataset:
                    if (!DatasetAttributes.TryGetValue(key, out var ds))
                        throw Error(pos, $"unknown dataset field '{key}'; valid fields are name, digest, context", what);
                    return new FieldRef(kind, ds, pos);
                default:
                    return new FieldRef(kind, key, pos);
            }
        }

        private string Prefixes() => target switch
        {
            SearchTarget.Runs => "metrics., params., tags., attributes., datasets.",
            SearchTarget.Experiments or SearchTarget.RegisteredModels or SearchTarget.ModelVersions => "tags., attributes.",
            _ => "tags., metadata., attributes.",
        };
    }
}
