namespace Lineage.Core.Query;

/// <summary>What a filter is about: which fields exist and which values they take.</summary>
public enum SearchTarget { Runs, Experiments, Artifacts, RegisteredModels, ModelVersions }

/// <summary>The family of a field: a column of the item itself, or one entry of a key/value collection.</summary>
public enum FieldKind { Attribute, Metric, Param, Tag, Dataset, Metadata }

/// <summary>
/// A resolved field. For attributes and datasets <see cref="Key"/> is the canonical attribute
/// name (<c>start_time</c> for <c>created</c>); for the others it is the user's key.
/// <see cref="Position"/> is the 0-based offset of the field in the filter text.
/// </summary>
public sealed record FieldRef(FieldKind Kind, string Key, int Position)
{
    public override string ToString() => Kind switch
    {
        FieldKind.Attribute => $"attributes.{Key}",
        FieldKind.Metric => $"metrics.{Key}",
        FieldKind.Param => $"params.{Key}",
        FieldKind.Tag => $"tags.{Key}",
        FieldKind.Dataset => $"datasets.{Key}",
        _ => $"metadata.{Key}",
    };
}

/// <summary>Comparison operators, spelled as in the filter text.</summary>
public enum Comparator { Eq, NotEq, Lt, LtEq, Gt, GtEq, Like, ILike, In, NotIn, IsNull, IsNotNull }

/// <summary>A literal on the right-hand side of a comparison.</summary>
public abstract record FilterValue
{
    public sealed record Text(string Value) : FilterValue;
    public sealed record Number(double Value) : FilterValue;
    public sealed record List(IReadOnlyList<FilterValue> Items) : FilterValue;
    public sealed record None : FilterValue;
}

/// <summary>A parsed filter: comparisons joined by AND, OR and NOT.</summary>
public abstract record FilterExpr
{
    public sealed record Compare(FieldRef Field, Comparator Op, FilterValue Value) : FilterExpr;
    public sealed record And(FilterExpr Left, FilterExpr Right) : FilterExpr;
    public sealed record Or(FilterExpr Left, FilterExpr Right) : FilterExpr;
    public sealed record Not(FilterExpr Inner) : FilterExpr;
}

/// <summary>One key of an ORDER BY list.</summary>
public sealed record OrderKey(FieldRef Field, bool Descending);

/// <summary>
/// A search request in the query language: an optional filter and ordering keys, already
/// checked against the target's fields. Built by <see cref="QueryParser"/>; compiled to SQL by the store.
/// </summary>
public sealed record SearchQuery(FilterExpr? Filter, IReadOnlyList<OrderKey> OrderBy)
{
    public static readonly SearchQuery Empty = new(null, []);
}
