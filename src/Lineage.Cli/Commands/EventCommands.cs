using System.CommandLine;
using System.Globalization;
using Lineage.Cli.Output;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary><c>lineage events …</c> and <c>lineage webhooks …</c> (issue 14).</summary>
public static class EventCommands
{
    private static readonly Option<string?> Project = new("--project") { Description = "Project (default: every project you may read; webhooks: default)", Recursive = true };
    private static readonly Option<string[]> Types = new("--type")
    {
        Description = "Event type, exact or entity.* (repeatable; default: every type)", AllowMultipleArgumentsPerToken = false,
    };

    public static Command Events()
    {
        var events = new Command("events", """
            The event log: every committed change someone may care about (runs created/finished/failed, metrics logged,
            artifact versions, aliases, stages, promotions, deployments, OpenLineage runs …), in commit order.

            Examples:
              lineage events list --type run.* --limit 20
              lineage events list --after 1200 --project churn
              lineage events tail --type deployment.status_changed     follow live (Ctrl-C stops)
            """) { Project };
        var after = new Option<long?>("--after") { Description = "Only events with a larger id" };
        var limit = new Option<int>("--limit") { Description = "At most this many (1-1000)", DefaultValueFactory = _ => 100 };
        var list = new Command("list", "Events in id order.\n\nExample:\n  lineage events list --type model_version.* --after 40") { Types, after, limit };
        list.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var page = await client.ListEventsAsync(parse.GetValue(Types), parse.GetValue(Project), parse.GetValue(after), parse.GetValue(limit), ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(page, EventsJson.Default.EventListResponse);
                return 0;
            }
            var table = Terminal.Table("Id", "Time (UTC)", "Type", "Project", "Entity", "Actor");
            foreach (var e in page.Events)
                table.AddRow(e.Id.ToString(CultureInfo.InvariantCulture), Terminal.Time(e.Time), e.Type, Terminal.Esc(e.Project), Terminal.Esc(e.Entity),
                    Terminal.Esc(e.Actor));
            Terminal.Write(table);
            if (page.NextAfter is { } next) Terminal.Line($"more: --after {next}");
            return 0;
        }));
        var tail = new Command("tail", """
            Follow new events as they commit (Server-Sent Events), one line each; --after replays from an id first.

            Example:
              lineage events tail --type run.failed --project churn
            """) { Types, after };
        tail.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            try
            {
                await foreach (var e in client.StreamEventsAsync(parse.GetValue(Types), parse.GetValue(Project), parse.GetValue(after), ct))
                    if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(e, EventsJson.Default.EventDto);
                    else Terminal.Line($"{e.Id}  {Terminal.Time(e.Time)}  {e.Type}  {e.Project}  {e.Entity}");
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl-C.
            }
            return 0;
        }));
        events.Subcommands.Add(list);
        events.Subcommands.Add(tail);
        return events;
    }

    public static Command Webhooks()
    {
        var hooks = new Command("webhooks", """
            Webhooks: signed HTTP POSTs of events to your endpoint, at least once, in order per webhook, retried with
            backoff and dead-lettered after the server's maximum attempts (project admins manage them).
            Deliveries carry webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks); format mlflow
            sends MLflow 3's event names, payloads and X-MLflow-* headers instead. See docs/events.md.

            Examples:
              lineage webhooks create ci https://ci.example.com/hooks/lineage --type model_version.created --type model_alias.moved
              lineage webhooks create mlflow-ci https://ci.example.com/mlflow --format mlflow --type model_version.created
              lineage webhooks list
              lineage webhooks deliveries 3 --status dead
              lineage webhooks redeliver 3 118
              lineage webhooks test 3
            """) { Project };
        hooks.Subcommands.Add(Create());
        hooks.Subcommands.Add(List());
        hooks.Subcommands.Add(Update());
        hooks.Subcommands.Add(Delete());
        hooks.Subcommands.Add(Deliveries());
        hooks.Subcommands.Add(Redeliver());
        hooks.Subcommands.Add(Test());
        return hooks;
    }

    private static readonly Argument<string> Id = new("webhook") { Description = "Webhook id" };

    private static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Name, unique in the project" };
        var url = new Argument<string>("url") { Description = "http(s) URL that receives the POSTs" };
        var format = new Option<string>("--format") { Description = "lineage (default) or mlflow", DefaultValueFactory = _ => "lineage" };
        format.AcceptOnlyFromAmong("lineage", "mlflow");
        var description = new Option<string?>("--description") { Description = "What it is for" };
        var secret = new Option<string?>("--secret") { Description = "Signing secret (default: a new random whsec_… secret, printed once)" };
        var disabled = new Option<bool>("--disabled") { Description = "Create it switched off" };
        var command = new Command("create", """
            Create a webhook; it receives the events committed from now on. Prints the signing secret once: keep it.

            Example:
              lineage webhooks create alerts https://hooks.example.com/lineage --type run.failed --type deployment.*
            """) { name, url, Types, format, description, secret, disabled };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var w = await client.CreateWebhookAsync(new CreateWebhookRequest(parse.GetValue(Project), parse.GetValue(name), parse.GetValue(url),
                parse.GetValue(Types) is { Length: > 0 } t ? t.ToList() : null, parse.GetValue(format), parse.GetValue(description),
                !parse.GetValue(disabled), parse.GetValue(secret)), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(w, EventsJson.Default.WebhookDto);
            else
            {
                Terminal.Line($"webhook {w.Id} '{w.Name}' → {w.Url} ({string.Join(", ", w.EventTypes)})");
                Terminal.Line($"signing secret (shown once): {w.Secret}");
            }
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "The project's webhooks.\n\nExample:\n  lineage webhooks list --project churn");
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var list = await client.ListWebhooksAsync(parse.GetValue(Project) ?? "default", ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(list, EventsJson.Default.WebhookListResponse);
                return 0;
            }
            var table = Terminal.Table("Id", "Name", "URL", "Events", "Format", "Active", "Created (UTC)", "By");
            foreach (var w in list.Webhooks)
                table.AddRow(w.Id.ToString(CultureInfo.InvariantCulture), Terminal.Esc(w.Name), Terminal.Esc(w.Url), Terminal.Esc(string.Join(", ", w.EventTypes)),
                    w.Format, w.Active ? "yes" : "no", Terminal.Time(w.CreatedAt), Terminal.Esc(w.CreatedBy));
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Update()
    {
        var url = new Option<string?>("--url") { Description = "New URL" };
        var enable = new Option<bool>("--enable") { Description = "Switch it on" };
        var disable = new Option<bool>("--disable") { Description = "Switch it off (events committed meanwhile are not queued for it)" };
        var description = new Option<string?>("--description") { Description = "New description" };
        var command = new Command("update", "Change URL, event types (--type replaces them), description, on/off.\n\nExample:\n  lineage webhooks update 3 --disable")
        {
            Id, url, Types, enable, disable, description,
        };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            bool? active = parse.GetValue(enable) ? true : parse.GetValue(disable) ? false : null;
            var w = await client.UpdateWebhookAsync(parse.GetValue(Id)!, new UpdateWebhookRequest(parse.GetValue(url),
                parse.GetValue(Types) is { Length: > 0 } t ? t.ToList() : null, parse.GetValue(description), active), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(w, EventsJson.Default.WebhookDto);
            else Terminal.Line($"webhook {w.Id} '{w.Name}' → {w.Url} ({string.Join(", ", w.EventTypes)}){(w.Active ? "" : ", disabled")}");
            return 0;
        }));
        return command;
    }

    private static Command Delete()
    {
        var command = new Command("delete", "Delete a webhook and its delivery log.\n\nExample:\n  lineage webhooks delete 3") { Id };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            await client.DeleteWebhookAsync(parse.GetValue(Id)!, ct);
            Terminal.Line($"webhook {parse.GetValue(Id)} deleted");
            return 0;
        }));
        return command;
    }

    private static Command Deliveries()
    {
        var status = new Option<string?>("--status") { Description = "pending, succeeded or dead" };
        var limit = new Option<int>("--limit") { Description = "At most this many", DefaultValueFactory = _ => 50 };
        var command = new Command("deliveries", """
            The delivery log, newest event first: status, attempts, last response code and latency, next attempt, last error.

            Example:
              lineage webhooks deliveries 3 --status dead
            """) { Id, status, limit };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var page = await client.ListWebhookDeliveriesAsync(parse.GetValue(Id)!, parse.GetValue(status), parse.GetValue(limit), ct: ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(page, EventsJson.Default.WebhookDeliveryListResponse);
                return 0;
            }
            var table = Terminal.Table("Delivery", "Event", "Type", "Status", "Attempts", "Code", "Latency", "Next attempt (UTC)", "Last error");
            foreach (var d in page.Deliveries)
                table.AddRow(d.Id.ToString(CultureInfo.InvariantCulture), d.EventId.ToString(CultureInfo.InvariantCulture), d.EventType, d.Status,
                    d.Attempts.ToString(CultureInfo.InvariantCulture), d.ResponseCode?.ToString(CultureInfo.InvariantCulture) ?? "-",
                    d.LatencyMs is { } ms ? $"{ms} ms" : "-", d.NextAttemptAt is { } next ? Terminal.Time(next) : "-", Terminal.Esc(d.LastError));
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Redeliver()
    {
        var delivery = new Argument<string>("delivery") { Description = "Delivery id (from 'deliveries')" };
        var command = new Command("redeliver", "Queue a delivery again (a dead one, or one to send again); it keeps its place in event order.\n\nExample:\n  lineage webhooks redeliver 3 118")
        {
            Id, delivery,
        };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var d = await client.RedeliverAsync(parse.GetValue(Id)!, parse.GetValue(delivery)!, ct);
            Terminal.Line($"delivery {d.Id} of event {d.EventId} queued again");
            return 0;
        }));
        return command;
    }

    private static Command Test()
    {
        var command = new Command("test", "Send a webhook.test event to this webhook only (through the same queue and signing as any event).\n\nExample:\n  lineage webhooks test 3")
        {
            Id,
        };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            await client.TestWebhookAsync(parse.GetValue(Id)!, ct);
            Terminal.Line($"test event queued for webhook {parse.GetValue(Id)}; see 'lineage webhooks deliveries {parse.GetValue(Id)}'");
            return 0;
        }));
        return command;
    }
}
