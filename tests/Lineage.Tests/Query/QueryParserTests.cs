using Lineage.Core.Errors;
using Lineage.Core.Query;

namespace Lineage.Tests.Query;

/// <summary>The filter grammar: MLflow's search syntax as cases, then the extensions, then errors with positions.</summary>
public class QueryParserTests
{
    private static FilterExpr Runs(string filter) => QueryParser.ParseFilter(SearchTarget.Runs, filter)!;

    private static FilterExpr.Compare Single(string filter, SearchTarget target = SearchTarget.Runs) =>
        Assert.IsType<FilterExpr.Compare>(QueryParser.ParseFilter(target, filter));

    private static LineageException Fails(string filter, SearchTarget target = SearchTarget.Runs) =>
        Assert.Throws<LineageException>(() => QueryParser.ParseFilter(target, filter));

    // ---- MLflow's syntax ----------------------------------------------------------------

    [Theory]
    [InlineData("metrics.rmse < 0.3", FieldKind.Metric, "rmse", Comparator.Lt)]
    [InlineData("metric.acc > 0.9", FieldKind.Metric, "acc", Comparator.Gt)]
    [InlineData("params.model = 'rf'", FieldKind.Param, "model", Comparator.Eq)]
    [InlineData("param.model != 'rf'", FieldKind.Param, "model", Comparator.NotEq)]
    [InlineData("parameters.model = 'rf'", FieldKind.Param, "model", Comparator.Eq)]
    [InlineData("tags.team LIKE 'ml-%'", FieldKind.Tag, "team", Comparator.Like)]
    [InlineData("tag.team ILIKE 'ML-%'", FieldKind.Tag, "team", Comparator.ILike)]
    [InlineData("attributes.status = 'FINISHED'", FieldKind.Attribute, "status", Comparator.Eq)]
    [InlineData("attribute.run_id = 'abc'", FieldKind.Attribute, "run_id", Comparator.Eq)]
    [InlineData("run_name LIKE 'tour%'", FieldKind.Attribute, "run_name", Comparator.Like)]
    [InlineData("attributes.created < 5", FieldKind.Attribute, "start_time", Comparator.Lt)]
    [InlineData("attributes.start_time >= 1795338896688", FieldKind.Attribute, "start_time", Comparator.GtEq)]
    [InlineData("attributes.end_time <= 10", FieldKind.Attribute, "end_time", Comparator.LtEq)]
    [InlineData("attributes.artifact_uri LIKE '%abc%'", FieldKind.Attribute, "artifact_uri", Comparator.Like)]
    [InlineData("dataset.name = 'tiny'", FieldKind.Dataset, "name", Comparator.Eq)]
    [InlineData("datasets.digest = '85abe2dc'", FieldKind.Dataset, "digest", Comparator.Eq)]
    [InlineData("datasets.context = 'training'", FieldKind.Dataset, "context", Comparator.Eq)]
    [InlineData("attributes.run_id IN ('a', 'b')", FieldKind.Attribute, "run_id", Comparator.In)]
    [InlineData("attributes.run_id NOT IN ('a')", FieldKind.Attribute, "run_id", Comparator.NotIn)]
    public void mlflow_comparisons_resolve_to_their_field_and_comparator(string filter, FieldKind kind, string key, Comparator op)
    {
        var c = Single(filter);
        Assert.Equal(kind, c.Field.Kind);
        Assert.Equal(key, c.Field.Key);
        Assert.Equal(op, c.Op);
    }

    [Fact]
    public void keys_may_be_quoted_with_backquotes_or_double_quotes_and_hold_spaces_slashes_and_dots()
    {
        Assert.Equal("data set", Single("tags.`data set` = 'flowers'").Field.Key);
        Assert.Equal("data set", Single("tags.\"data set\" = 'leaves'").Field.Key);
        Assert.Equal("notes/owner name", Single("tags.`notes/owner name` LIKE 'x%'", SearchTarget.Experiments).Field.Key);
        Assert.Equal("val.loss", Single("metrics.val.loss < 1").Field.Key);
        Assert.Equal("val/f1", Single("metrics.val/f1 > 0").Field.Key);
    }

    [Fact]
    public void values_may_be_single_or_double_quoted_and_numbers_take_any_float_form()
    {
        Assert.Equal(new FilterValue.Text("sgd"), Single("params.optimizer = \"sgd\"").Value);
        Assert.Equal(new FilterValue.Text("it's"), Single("params.x = 'it''s'").Value);
        Assert.Equal(new FilterValue.Number(-1.5e-3), Single("metrics.x > -1.5e-3").Value);
        Assert.Equal(new FilterValue.Number(0.5), Single("metrics.x > .5").Value);
    }

    [Fact]
    public void and_joins_clauses_in_any_case()
    {
        var e = Runs("metrics.acc > 0.5 AND params.optimizer = 'adam' and tags.team = 'nlp'");
        var outer = Assert.IsType<FilterExpr.And>(e);
        Assert.IsType<FilterExpr.And>(outer.Left);
        Assert.Equal("team", Assert.IsType<FilterExpr.Compare>(outer.Right).Field.Key);
    }

    [Fact]
    public void an_empty_or_blank_filter_means_no_filter()
    {
        Assert.Null(QueryParser.ParseFilter(SearchTarget.Runs, ""));
        Assert.Null(QueryParser.ParseFilter(SearchTarget.Runs, "   "));
        Assert.Null(QueryParser.ParseFilter(SearchTarget.Runs, null));
    }

    [Fact]
    public void mlflow_type_rules_hold_numbers_for_metrics_and_times_text_for_params_and_tags()
    {
        Assert.Contains("expected a number", Fails("metrics.acc > 'high'").Message);
        Assert.Contains("does not apply", Fails("params.optimizer > 'a'").Message);
        Assert.Contains("expected a quoted string", Fails("tags.team = 5").Message);
        Assert.Contains("does not apply", Fails("metrics.acc LIKE '1%'").Message);
        Assert.Contains("expected a number", Fails("attributes.start_time > 'yesterday'").Message);
    }

    // ---- extensions ---------------------------------------------------------------------

    [Fact]
    public void or_binds_looser_than_and_and_parentheses_override_it()
    {
        var loose = Assert.IsType<FilterExpr.Or>(Runs("params.a = '1' AND params.b = '2' OR params.c = '3'"));
        Assert.IsType<FilterExpr.And>(loose.Left);
        var grouped = Assert.IsType<FilterExpr.And>(Runs("params.a = '1' AND (params.b = '2' OR params.c = '3')"));
        Assert.IsType<FilterExpr.Or>(grouped.Right);
    }

    [Fact]
    public void not_negates_a_clause_or_a_group()
    {
        var not = Assert.IsType<FilterExpr.Not>(Runs("NOT (metrics.acc > 0.5 OR tags.x = 'y')"));
        Assert.IsType<FilterExpr.Or>(not.Inner);
        Assert.IsType<FilterExpr.Compare>(Assert.IsType<FilterExpr.Not>(Runs("not params.a = 'b'")).Inner);
    }

    [Fact]
    public void in_and_not_in_work_on_every_field_with_the_fields_value_type()
    {
        var p = Single("params.optimizer IN ('adam', 'sgd')");
        Assert.Equal(2, Assert.IsType<FilterValue.List>(p.Value).Items.Count);
        Assert.Equal(Comparator.NotIn, Single("metrics.epochs NOT IN (1, 2, 3)").Op);
        Assert.Equal(Comparator.In, Single("attributes.status IN ('FAILED', 'KILLED')").Op);
        Assert.Contains("expected a number", Fails("metrics.epochs IN (1, 'two')").Message);
    }

    [Fact]
    public void is_null_and_is_not_null_ask_whether_a_key_is_there()
    {
        Assert.Equal(Comparator.IsNull, Single("tags.reviewed IS NULL").Op);
        Assert.Equal(Comparator.IsNotNull, Single("metrics.acc is not null").Op);
        Assert.Equal(Comparator.IsNull, Single("attributes.end_time IS NULL").Op);
    }

    [Fact]
    public void artifacts_compare_metadata_keys_as_numbers_or_text()
    {
        var rows = Single("metadata.rows > 1000", SearchTarget.Artifacts);
        Assert.Equal(FieldKind.Metadata, rows.Field.Kind);
        Assert.Equal(new FilterValue.Number(1000), rows.Value);
        Assert.Equal(FieldKind.Metadata, Single("metadata.format = 'parquet'", SearchTarget.Artifacts).Field.Kind);
        Assert.Equal("type", Single("type = 'dataset'", SearchTarget.Artifacts).Field.Key);
        Assert.Contains("unknown field prefix 'metadata'", Fails("metadata.rows > 1").Message);
    }

    [Fact]
    public void experiments_know_their_own_attributes()
    {
        Assert.Equal("creation_time", Single("creation_time >= 1", SearchTarget.Experiments).Field.Key);
        Assert.Equal("name", Single("attribute.name = 'x'", SearchTarget.Experiments).Field.Key);
        Assert.Contains("unknown attribute 'owner'", Fails("owner = 'x'", SearchTarget.Experiments).Message);
        Assert.Contains("unknown field prefix 'metrics'", Fails("metrics.x > 1", SearchTarget.Experiments).Message);
    }

    // ---- order by -------------------------------------------------------------------------

    [Fact]
    public void order_by_takes_several_keys_with_asc_or_desc()
    {
        var keys = QueryParser.ParseOrderBy(SearchTarget.Runs, ["metrics.`loss` DESC", "params.optimizer", "attributes.start_time asc"]);
        Assert.Equal(3, keys.Count);
        Assert.True(keys[0].Descending);
        Assert.Equal("loss", keys[0].Field.Key);
        Assert.False(keys[1].Descending);
        Assert.Equal("start_time", keys[2].Field.Key);
        Assert.Throws<LineageException>(() => QueryParser.ParseOrderBy(SearchTarget.Runs, ["metrics.acc SIDEWAYS"]));
        Assert.Throws<LineageException>(() => QueryParser.ParseOrderBy(SearchTarget.Runs, ["attributes.colour"]));
    }

    // ---- errors point at the bad token ---------------------------------------------------------

    [Theory]
    [InlineData("metrics.acc >> 0.5", 12)]
    [InlineData("foo.acc > 0.5", 0)]
    [InlineData("metrics.acc > 0.5 AND", 21)]
    [InlineData("metrics.acc > 0.5 params.x = 'a'", 18)]
    [InlineData("(metrics.acc > 0.5", 18)]
    [InlineData("metrics.acc > 0.5)", 17)]
    [InlineData("params.x = 'open", 11)]
    [InlineData("attributes.colour = 'red'", 0)]
    [InlineData("params.x IN 'a'", 12)]
    [InlineData("metrics.acc ~ 1", 12)]
    [InlineData("params.x = 'a' # 'b'", 15)]
    public void errors_are_invalid_parameter_value_with_the_position_of_the_bad_token(string filter, int position)
    {
        var ex = Fails(filter);
        Assert.Equal(ErrorCode.InvalidParameterValue, ex.Code);
        Assert.Equal("filter", ex.Field);
        Assert.Contains($"at position {position}:", ex.Message);
    }
}
