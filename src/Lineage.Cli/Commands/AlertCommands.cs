using System.CommandLine;
using System.Globalization;
using Lineage.Cli.Output;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary><c>lineage alerts …</c>: alert rules, the firing history, acknowledge, resolve, mute (issue 14, part 5).</summary>
public static class AlertCommands
{
    private static readonly Option<string?> Project = new("--project") { Description = "Project (default: every project you may read; creating: default)", Recursive = true };

    public static Command Alerts()
    {
        var alerts = new Command("alerts", """
            Alert rules the server evaluates as data arrives, and the alerts they fire. A rule fires once when its condition
            turns true for a subject (a run, a model version, a dataset version, a promotion, a deployment) and resolves when
            it turns false; each is also an alert.fired / alert.resolved event (stream, webhooks). See docs/events.md.

            Kinds: metric_threshold (--query), model_regression (--model --alias --metric [--direction --tolerance]),
                   data_drift (--dataset --model --alias|--environment --threshold [--method psi|ks --column]),
                   promotion_pending (--hours [--model]), deployment_failed ([--environment --model]), run_stale (--minutes)

            Examples:
              lineage alerts rules create slow-loss --kind metric_threshold --query "metrics.val_loss > 0.5 AND tags.team = 'growth'"
              lineage alerts rules create drift --kind data_drift --dataset customers --model churn --alias champion --threshold 0.2
              lineage alerts rules list
              lineage alerts list --state firing
              lineage alerts ack 12
              lineage alerts resolve 12
              lineage alerts mute 3 --for 2h
            """) { Project };
        alerts.Subcommands.Add(Rules());
        alerts.Subcommands.Add(List());
        alerts.Subcommands.Add(Ack());
        alerts.Subcommands.Add(Resolve());
        alerts.Subcommands.Add(Mute());
        return alerts;
    }

    private static readonly Argument<string> RuleId = new("rule") { Description = "Rule id (from 'lineage alerts rules list')" };
    private static readonly Argument<string> AlertId = new("alert") { Description = "Alert id (from 'lineage alerts list')" };

    private static Command Rules()
    {
        var rules = new Command("rules", """
            Manage alert rules (project admins create, change and delete them; readers list them).

            Examples:
              lineage alerts rules list --project churn
              lineage alerts rules create regress --kind model_regression --model churn --alias champion --metric auc --tolerance 0.01
              lineage alerts rules update 4 --threshold 0.3
              lineage alerts rules delete 4
            """);
        rules.Subcommands.Add(ListRules());
        rules.Subcommands.Add(CreateRule());
        rules.Subcommands.Add(UpdateRule());
        rules.Subcommands.Add(DeleteRule());
        return rules;
    }

    private static Command ListRules()
    {
        var command = new Command("list", "The alert rules.\n\nExample:\n  lineage alerts rules list --project churn");
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var list = await client.ListAlertRulesAsync(parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(list, EventsJson.Default.AlertRuleListResponse);
                return 0;
            }
            var table = Terminal.Table("Id", "Project", "Name", "Kind", "Condition", "Severity", "Muted until (UTC)");
            foreach (var r in list.Rules)
                table.AddRow(r.Id.ToString(CultureInfo.InvariantCulture), Terminal.Esc(r.Project), Terminal.Esc(r.Name), r.Kind, Terminal.Esc(Describe(r.Condition)),
                    r.Severity, r.MutedUntil is { } m ? Terminal.Time(m) : "-");
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    /// <summary>The condition options, shared by create and update.</summary>
    private sealed class ConditionOptions
    {
        public readonly Option<string?> Query = new("--query") { Description = "metric_threshold: a run filter in the query language" };
        public readonly Option<string?> Model = new("--model") { Description = "Registered model (regression, drift baseline; filter for pending/failed)" };
        public readonly Option<string?> Alias = new("--alias") { Description = "Alias whose version is the reference (regression, drift)" };
        public readonly Option<string?> Environment = new("--environment") { Description = "drift: the version live there is the baseline; deployment_failed: filter" };
        public readonly Option<string?> Metric = new("--metric") { Description = "model_regression: the metric compared (the versions' runs' latest values)" };
        public readonly Option<string?> Direction = new("--direction") { Description = "model_regression: which way is better, higher (default) or lower" };
        public readonly Option<double?> Tolerance = new("--tolerance") { Description = "model_regression: how much worse is still fine (default 0)" };
        public readonly Option<string?> Dataset = new("--dataset") { Description = "data_drift: the dataset whose new versions are compared" };
        public readonly Option<string?> Method = new("--method") { Description = "data_drift: psi (default, histograms/frequencies) or ks (quantiles)" };
        public readonly Option<double?> Threshold = new("--threshold") { Description = "data_drift: fire when a column's statistic is above this" };
        public readonly Option<string[]> Columns = new("--column") { Description = "data_drift: compare only these columns (repeatable; default: all profiled)" };
        public readonly Option<double?> Hours = new("--hours") { Description = "promotion_pending: hours a request may wait" };
        public readonly Option<double?> Minutes = new("--minutes") { Description = "run_stale: minutes a RUNNING run may go without data" };

        public IEnumerable<Option> All => [Query, Model, Alias, Environment, Metric, Direction, Tolerance, Dataset, Method, Threshold, Columns, Hours, Minutes];

        public AlertConditionDto Read(ParseResult p) => new(p.GetValue(Query), p.GetValue(Model), p.GetValue(Alias), p.GetValue(Environment), p.GetValue(Metric),
            p.GetValue(Direction), p.GetValue(Tolerance), p.GetValue(Dataset), p.GetValue(Method), p.GetValue(Threshold),
            p.GetValue(Columns) is { Length: > 0 } c ? c.ToList() : null, p.GetValue(Hours), p.GetValue(Minutes));

        public bool Given(ParseResult p) => All.Any(o => p.GetResult(o) is not null);
    }

    private static Command CreateRule()
    {
        var name = new Argument<string>("name") { Description = "Name, unique in the project" };
        var kind = new Option<string>("--kind") { Description = "metric_threshold, model_regression, data_drift, promotion_pending, deployment_failed or run_stale", Required = true };
        var severity = new Option<string?>("--severity") { Description = "info, warning (default) or critical" };
        var description = new Option<string?>("--description") { Description = "What it is for" };
        var condition = new ConditionOptions();
        var command = new Command("create", """
            Create an alert rule; the server evaluates it from now on.

            Examples:
              lineage alerts rules create slow-loss --kind metric_threshold --query "metrics.val_loss > 0.5"
              lineage alerts rules create stale --kind run_stale --minutes 30 --severity critical
            """) { name, kind, severity, description };
        foreach (var o in condition.All) command.Options.Add(o);
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var r = await client.CreateAlertRuleAsync(new CreateAlertRuleRequest(parse.GetValue(name), parse.GetValue(kind), condition.Read(parse),
                parse.GetValue(Project), parse.GetValue(severity), parse.GetValue(description)), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(r, EventsJson.Default.AlertRuleDto);
            else Terminal.Line($"alert rule {r.Id} '{r.Name}' ({r.Kind}: {Describe(r.Condition)})");
            return 0;
        }));
        return command;
    }

    private static Command UpdateRule()
    {
        var severity = new Option<string?>("--severity") { Description = "info, warning or critical" };
        var description = new Option<string?>("--description") { Description = "New description" };
        var condition = new ConditionOptions();
        var command = new Command("update", """
            Change a rule's severity, description or condition (condition options replace the whole condition).

            Example:
              lineage alerts rules update 4 --severity critical
            """) { RuleId, severity, description };
        foreach (var o in condition.All) command.Options.Add(o);
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var r = await client.UpdateAlertRuleAsync(parse.GetValue(RuleId)!, new UpdateAlertRuleRequest(
                condition.Given(parse) ? condition.Read(parse) : null, parse.GetValue(severity), parse.GetValue(description)), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(r, EventsJson.Default.AlertRuleDto);
            else Terminal.Line($"alert rule {r.Id} '{r.Name}' ({r.Kind}: {Describe(r.Condition)}, {r.Severity})");
            return 0;
        }));
        return command;
    }

    private static Command DeleteRule()
    {
        var command = new Command("delete", "Delete a rule and its alert history.\n\nExample:\n  lineage alerts rules delete 4") { RuleId };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            await client.DeleteAlertRuleAsync(parse.GetValue(RuleId)!, ct);
            Terminal.Line($"alert rule {parse.GetValue(RuleId)} deleted");
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var state = new Option<string?>("--state") { Description = "firing or resolved (default: both)" };
        state.AcceptOnlyFromAmong("firing", "resolved");
        var rule = new Option<string?>("--rule") { Description = "Only this rule's alerts" };
        var limit = new Option<int>("--limit") { Description = "At most this many", DefaultValueFactory = _ => 50 };
        var command = new Command("list", """
            Alerts, newest first: what fired, for which subject, and whether it was acknowledged or resolved.

            Example:
              lineage alerts list --state firing --project churn
            """) { state, rule, limit };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var page = await client.ListAlertsAsync(parse.GetValue(Project), parse.GetValue(state), parse.GetValue(rule), parse.GetValue(limit), ct: ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(page, EventsJson.Default.AlertListResponse);
                return 0;
            }
            var table = Terminal.Table("Id", "Fired (UTC)", "Rule", "Severity", "Subject", "State", "Acknowledged", "Message");
            foreach (var a in page.Alerts)
                table.AddRow(a.Id.ToString(CultureInfo.InvariantCulture), Terminal.Time(a.FiredAt), Terminal.Esc($"{a.Rule} ({a.RuleId})"), a.Severity,
                    Terminal.Esc(a.Subject), a.State == "resolved" ? $"resolved{(a.ResolvedBy is { } by ? $" by {Terminal.Esc(by)}" : "")}" : "[red]firing[/]",
                    a.AcknowledgedBy is { } ack ? Terminal.Esc(ack) : a.AcknowledgedAt is null ? "-" : "yes", Terminal.Esc(a.Message));
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Ack()
    {
        var command = new Command("ack", "Acknowledge a firing alert (someone is on it); it stays firing until it clears or is resolved.\n\nExample:\n  lineage alerts ack 12")
        {
            AlertId,
        };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var a = await client.AcknowledgeAlertAsync(parse.GetValue(AlertId)!, ct);
            Terminal.Line($"alert {a.Id} acknowledged ({a.Subject})");
            return 0;
        }));
        return command;
    }

    private static Command Resolve()
    {
        var command = new Command("resolve", """
            Resolve a firing alert by hand. The rule fires again for that subject only after its condition clears and returns.

            Example:
              lineage alerts resolve 12
            """) { AlertId };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var a = await client.ResolveAlertAsync(parse.GetValue(AlertId)!, ct);
            Terminal.Line($"alert {a.Id} resolved ({a.Subject})");
            return 0;
        }));
        return command;
    }

    private static Command Mute()
    {
        var until = new Option<DateTimeOffset?>("--until") { Description = "Mute until this time (ISO 8601, e.g. 2026-12-08T09:00Z)" };
        var duration = new Option<string?>("--for") { Description = "Mute for a while: 90m, 2h, 1d" };
        var off = new Option<bool>("--off") { Description = "Unmute" };
        var command = new Command("mute", """
            Mute a rule: while muted its condition changes are remembered but fire nothing (a condition that turned true
            meanwhile does not fire when the mute ends; it fires on its next change).

            Examples:
              lineage alerts mute 3 --for 2h
              lineage alerts mute 3 --until 2026-12-08T09:00Z
              lineage alerts mute 3 --off
            """) { RuleId, until, duration, off };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var id = parse.GetValue(RuleId)!;
            AlertRuleDto r;
            if (parse.GetValue(off)) r = await client.UnmuteAlertRuleAsync(id, ct);
            else if (parse.GetValue(until) is { } at) r = await client.MuteAlertRuleAsync(id, new MuteAlertRuleRequest(Until: at.ToUnixTimeMilliseconds()), ct);
            else if (parse.GetValue(duration) is { } text) r = await client.MuteAlertRuleAsync(id, new MuteAlertRuleRequest(Minutes: Minutes(text)), ct);
            else
            {
                Terminal.Error("give --for, --until or --off");
                return 2;
            }
            Terminal.Line(r.MutedUntil is { } m ? $"alert rule {r.Id} '{r.Name}' muted until {Terminal.Time(m)} UTC" : $"alert rule {r.Id} '{r.Name}' unmuted");
            return 0;
        }));
        return command;
    }

    /// <summary>"90m", "2h", "1d" (a bare number is minutes) as minutes.</summary>
    private static double Minutes(string text)
    {
        var unit = text.Length > 0 && char.IsLetter(text[^1]) ? char.ToLowerInvariant(text[^1]) : 'm';
        var number = text.Length > 0 && char.IsLetter(text[^1]) ? text[..^1] : text;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || unit is not ('m' or 'h' or 'd'))
            throw LineageException.Invalid("--for", $"'--for {text}': give a number with m, h or d, e.g. 90m, 2h, 1d");
        return unit switch { 'h' => n * 60, 'd' => n * 1440, _ => n };
    }

    private static string Describe(AlertConditionDto c)
    {
        var parts = new List<string>();
        void Add(string name, object? value)
        {
            if (value is not null) parts.Add($"{name}={Convert.ToString(value, CultureInfo.InvariantCulture)}");
        }
        if (c.Query is not null) parts.Add(c.Query);
        Add("model", c.Model);
        Add("alias", c.Alias);
        Add("environment", c.Environment);
        Add("metric", c.Metric);
        Add("direction", c.Direction);
        Add("tolerance", c.Tolerance);
        Add("dataset", c.Dataset);
        Add("method", c.Method);
        Add("threshold", c.Threshold);
        if (c.Columns is { } cols) Add("columns", string.Join(",", cols));
        Add("hours", c.Hours);
        Add("minutes", c.Minutes);
        return string.Join(" ", parts);
    }
}
