using System.CommandLine;
using System.Globalization;
using Lineage.Cli.Output;
using Lineage.Client;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary><c>lineage models …</c>: the model registry.</summary>
public static class ModelCommands
{
    private static readonly Option<string?> Project = new("--project") { Description = "Project (default: default)", Recursive = true };

    /// <summary>The acting user (Lineage-User) for aliases, stages and approvals; defaults to the OS user.</summary>
    internal static readonly Option<string?> As = new("--as") { Description = "Act as this user (default: the OS user)", Recursive = true };

    public static Command Create()
    {
        var models = new Command("models", """
            The model registry: registered models, versions from artifacts, aliases, stages, approvals, history.

            Examples:
              lineage models create churn --description "churn classifier" --approver carol
              lineage models register churn --artifact churn-weights@3
              lineage models list
              lineage models show churn:champion
              lineage models alias churn champion 3
              lineage models stage churn 3 Production --archive-existing
              lineage models promote churn 3 --alias champion --comment "better recall"
              lineage models approve 12 --as carol
              lineage models history churn
            """) { Project, As };
        models.Subcommands.Add(CreateModel());
        models.Subcommands.Add(List());
        models.Subcommands.Add(Show());
        models.Subcommands.Add(Register());
        models.Subcommands.Add(Search());
        models.Subcommands.Add(Alias());
        models.Subcommands.Add(Stage());
        models.Subcommands.Add(History());
        models.Subcommands.Add(Promote());
        models.Subcommands.Add(Requests());
        models.Subcommands.Add(Decide("approve", true));
        models.Subcommands.Add(Decide("reject", false));
        models.Subcommands.Add(Delete());
        return models;
    }

    internal static LineageClient Client(ParseResult parse)
    {
        using var probe = CliApp.Client(parse);
        return parse.GetValue(As) is { Length: > 0 } user ? new LineageClient(probe.BaseAddress) { User = user } : new LineageClient(probe.BaseAddress);
    }

    private static Command CreateModel()
    {
        var name = new Argument<string>("name") { Description = "Model name" };
        var description = new Option<string?>("--description") { Description = "Free text" };
        var tags = new Option<string[]>("--tag") { Description = "key=value; repeat for more" };
        var approvers = new Option<string[]>("--approver") { Description = "A user who may approve promotions; repeat for more" };
        var command = new Command("create", """
            Register a model name. With approvers, only they move its aliases and stages; others file promotion requests.

            Example:
              lineage models create churn --description "churn classifier" --tag team=growth --approver carol
            """) { name, description, tags, approvers };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            var m = await client.CreateModelAsync(parse.GetValue(name)!, parse.GetValue(description), Pairs(parse.GetValue(tags), "--tag"),
                parse.GetValue(approvers), parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(m, LineageJson.Default.RegisteredModelDto);
            else Terminal.Line($"created registered model {m.Name}");
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var contains = new Option<string?>("--name-contains") { Description = "Only names containing this text" };
        var tags = new Option<string[]>("--tag") { Description = "key=value filter; repeat for more" };
        var command = new Command("list", "List registered models with their latest version and aliases.\n\nExample:\n  lineage models list --tag team=growth")
        {
            contains, tags,
        };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            var page = await client.ListModelsAsync(parse.GetValue(contains), Pairs(parse.GetValue(tags), "--tag"), parse.GetValue(Project), ct: ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(page, LineageJson.Default.ModelListResponse);
                return 0;
            }
            var table = Terminal.Table("Name", "Latest", "Aliases", "Approvers", "Tags", "Updated (UTC)");
            foreach (var m in page.Models)
                table.AddRow(Terminal.Esc(m.Name), m.LatestVersion.ToString(CultureInfo.InvariantCulture),
                    Terminal.Esc(string.Join(", ", m.Aliases.Select(a => $"{a.Key}→v{a.Value}"))), Terminal.Esc(string.Join(", ", m.Approvers)),
                    Terminal.Esc(string.Join(", ", m.Tags.Select(t => $"{t.Key}={t.Value}"))), Terminal.Time(m.UpdatedAt));
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var reference = new Argument<string>("model") { Description = "<model>[:<version|alias|latest>]" };
        var command = new Command("show", """
            One model version: status, stage, aliases, artifact and digest, run, feature set, tags.

            Examples:
              lineage models show churn
              lineage models show churn:champion
            """) { reference };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            var (model, version) = Split(parse.GetValue(reference)!);
            var v = await client.GetModelVersionAsync(model, version, parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(v, LineageJson.Default.ModelVersionDto);
                return 0;
            }
            var table = Terminal.Table("Field", "Value");
            table.AddRow("model", Terminal.Esc($"{v.Project}/{v.Model} v{v.Version}"));
            table.AddRow("status", Terminal.Esc(v.Status + (v.StatusMessage is null ? "" : $" ({v.StatusMessage})")));
            table.AddRow("stage", v.Stage);
            table.AddRow("aliases", Terminal.Esc(string.Join(", ", v.Aliases)));
            table.AddRow("artifact", Terminal.Esc($"{v.Artifact.Name} v{v.Artifact.Version} sha256:{v.Artifact.Digest}"));
            table.AddRow("run", v.RunId ?? "");
            table.AddRow("feature set", Terminal.Esc(v.FeatureSet is null ? "" : $"{v.FeatureSet.Name} v{v.FeatureSet.Version}"));
            table.AddRow("input features", Terminal.Esc(string.Join(", ", v.InputFeatures.Select(f => $"{f.Name}:{f.Dtype}"))));
            table.AddRow("tags", Terminal.Esc(string.Join(", ", v.Tags.Select(t => $"{t.Key}={t.Value}"))));
            table.AddRow("description", Terminal.Esc(v.Description));
            table.AddRow("created (UTC)", $"{Terminal.Time(v.CreatedAt)} by {Terminal.Esc(v.CreatedBy ?? "unknown")}");
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Register()
    {
        var model = new Argument<string>("model") { Description = "Registered model name" };
        var artifact = new Option<string>("--artifact") { Description = "<artifact>@<version|alias|latest> or an artifact version id", Required = true };
        var run = new Option<string?>("--run") { Description = "The run that produced the artifact (checked)" };
        var description = new Option<string?>("--description") { Description = "Free text" };
        var tags = new Option<string[]>("--tag") { Description = "key=value; repeat for more" };
        var command = new Command("register", """
            Create the next version of a model from an artifact version; the producing run and its data lineage come with it.

            Examples:
              lineage models register churn --artifact churn-weights@3
              lineage models register churn --artifact churn-weights@latest --run 5f0c6f1e0c8d4f7a9b2e3d4c5b6a7980 --tag framework=xgboost
            """) { model, artifact, run, description, tags };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            var text = parse.GetValue(artifact)!;
            var cut = text.LastIndexOf('@');
            var reference = long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _)
                ? new ArtifactRefDto(Id: text)
                : new ArtifactRefDto(Name: cut < 0 ? text : text[..cut], Version: cut < 0 ? "latest" : text[(cut + 1)..], Project: parse.GetValue(Project));
            var v = await client.CreateModelVersionAsync(parse.GetValue(model)!, new CreateModelVersionRequest(reference, parse.GetValue(run),
                parse.GetValue(description), Pairs(parse.GetValue(tags), "--tag")), parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(v, LineageJson.Default.ModelVersionDto);
            else Terminal.Line($"registered {v.Model} v{v.Version} from {v.Artifact.Name} v{v.Artifact.Version} ({v.Status})");
            return 0;
        }));
        return command;
    }

    private static Command Search()
    {
        var model = new Option<string?>("--model") { Description = "Only versions of this model" };
        var tags = new Option<string[]>("--tag") { Description = "key=value; every one must match; repeat for more" };
        var stage = new Option<string?>("--stage") { Description = "None, Staging, Production or Archived" };
        var limit = new Option<int>("--limit") { Description = "Versions per page (1-1000)", DefaultValueFactory = _ => 100 };
        var command = new Command("versions", """
            Search model versions across models by tags, stage; newest first.

            Examples:
              lineage models versions --model churn
              lineage models versions --tag team=search --tag framework=sklearn --tag region=eu
            """) { model, tags, stage, limit };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            var page = await client.SearchModelVersionsAsync(parse.GetValue(model), Pairs(parse.GetValue(tags), "--tag"), parse.GetValue(stage), null,
                parse.GetValue(Project), parse.GetValue(limit), ct: ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(page, LineageJson.Default.ModelVersionListResponse);
                return 0;
            }
            var table = Terminal.Table("Model", "Version", "Status", "Stage", "Aliases", "Artifact", "Run", "Tags", "Created (UTC)");
            foreach (var v in page.Versions)
                table.AddRow(Terminal.Esc(v.Model), v.Version.ToString(CultureInfo.InvariantCulture), v.Status, v.Stage, Terminal.Esc(string.Join(", ", v.Aliases)),
                    Terminal.Esc($"{v.Artifact.Name} v{v.Artifact.Version}"), v.RunId is null ? "" : v.RunId[..8],
                    Terminal.Esc(string.Join(", ", v.Tags.Select(t => $"{t.Key}={t.Value}"))), Terminal.Time(v.CreatedAt));
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Alias()
    {
        var model = new Argument<string>("model") { Description = "Model name" };
        var alias = new Argument<string>("alias") { Description = "Alias (champion, production, …)" };
        var version = new Argument<long?>("version") { Description = "Version number; omit with --delete", Arity = ArgumentArity.ZeroOrOne };
        var delete = new Option<bool>("--delete") { Description = "Remove the alias" };
        var command = new Command("alias", """
            Point an alias at a version (atomic move, kept in history), or remove it. Only READY versions; approvers only when the model has some.

            Examples:
              lineage models alias churn champion 4
              lineage models alias churn champion --delete
            """) { model, alias, version, delete };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            if (parse.GetValue(delete))
            {
                await client.DeleteModelAliasAsync(parse.GetValue(model)!, parse.GetValue(alias)!, parse.GetValue(Project), ct);
                Terminal.Line($"removed alias {parse.GetValue(alias)}");
                return 0;
            }
            var v = parse.GetValue(version) ?? throw LineageException.Invalid("version", "give the version the alias should point at, or --delete");
            var moved = await client.SetModelAliasAsync(parse.GetValue(model)!, parse.GetValue(alias)!, v, parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(moved, LineageJson.Default.ModelVersionDto);
            else Terminal.Line($"{parse.GetValue(alias)} → {moved.Model} v{moved.Version}");
            return 0;
        }));
        return command;
    }

    private static Command Delete()
    {
        var model = new Argument<string>("model") { Description = "Model name" };
        var version = new Option<long?>("--version") { Description = "Delete only this version" };
        var command = new Command("delete", """
            Delete a registered model with all its versions (project admins), or one version (writers). The artifact
            versions and their lineage stay. Refused while deployed; a version an alias names is refused too: move or
            delete the alias first.

            Examples:
              lineage models delete churn --version 3
              lineage models delete churn-experimental
            """) { model, version };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            var name = parse.GetValue(model)!;
            if (parse.GetValue(version) is { } v)
            {
                await client.DeleteModelVersionAsync(name, v, parse.GetValue(Project), ct);
                Terminal.Line($"deleted version {v} of {name}");
            }
            else
            {
                await client.DeleteModelAsync(name, parse.GetValue(Project), ct);
                Terminal.Line($"deleted model {name}");
            }
            return 0;
        }));
        return command;
    }

    private static Command Stage()
    {
        var model = new Argument<string>("model") { Description = "Model name" };
        var version = new Argument<long>("version") { Description = "Version number" };
        var stage = new Argument<string>("stage") { Description = "None, Staging, Production or Archived" };
        var archive = new Option<bool>("--archive-existing") { Description = "Move the versions already in that stage to Archived" };
        var command = new Command("stage", """
            Move a version to a stage (MLflow stages). Only READY versions go to Staging or Production.

            Example:
              lineage models stage churn 4 Production --archive-existing
            """) { model, version, stage, archive };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            var v = await client.TransitionModelStageAsync(parse.GetValue(model)!, parse.GetValue(version), parse.GetValue(stage)!, parse.GetValue(archive),
                parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(v, LineageJson.Default.ModelVersionDto);
            else Terminal.Line($"{v.Model} v{v.Version} is now in {v.Stage}");
            return 0;
        }));
        return command;
    }

    private static Command History()
    {
        var model = new Argument<string>("model") { Description = "Model name" };
        var kind = new Option<string?>("--kind") { Description = "alias or stage" };
        var alias = new Option<string?>("--alias") { Description = "Only this alias" };
        var command = new Command("history", """
            Every alias and stage change of a model, oldest first, with who, when and the approved request.

            Examples:
              lineage models history churn
              lineage models history churn --alias champion --json
            """) { model, kind, alias };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            var history = await client.GetModelHistoryAsync(parse.GetValue(model)!, parse.GetValue(kind), parse.GetValue(alias), null, parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(history, LineageJson.Default.RegistryHistoryResponse);
                return 0;
            }
            var table = Terminal.Table("When (UTC)", "Kind", "Alias", "Version", "From", "To", "By", "Request");
            foreach (var c in history.Changes)
                table.AddRow(Terminal.Time(c.ChangedAt), c.Kind, Terminal.Esc(c.Name), c.Version?.ToString(CultureInfo.InvariantCulture) ?? "",
                    Terminal.Esc(c.OldValue), Terminal.Esc(c.NewValue), Terminal.Esc(c.ChangedBy), c.RequestId ?? "");
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Promote()
    {
        var model = new Argument<string>("model") { Description = "Model name" };
        var version = new Argument<long>("version") { Description = "Version number" };
        var alias = new Option<string?>("--alias") { Description = "Request this alias for the version" };
        var stage = new Option<string?>("--stage") { Description = "Request this stage for the version" };
        var archive = new Option<bool>("--archive-existing") { Description = "With --stage: archive the versions already there" };
        var comment = new Option<string?>("--comment") { Description = "Why" };
        var command = new Command("promote", """
            File a promotion request for an approver (one of --alias or --stage).

            Examples:
              lineage models promote churn 4 --alias champion --comment "better recall"
              lineage models promote churn 4 --stage Production --archive-existing
            """) { model, version, alias, stage, archive, comment };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            var request = await client.RequestPromotionAsync(parse.GetValue(model)!, new CreatePromotionRequest(parse.GetValue(version), parse.GetValue(alias),
                parse.GetValue(stage), parse.GetValue(archive), parse.GetValue(comment)), parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(request, LineageJson.Default.PromotionDto);
            else Terminal.Line($"promotion request {request.Id}: {request.Model} v{request.Version} → {request.Kind} {request.Target} ({request.Status})");
            return 0;
        }));
        return command;
    }

    private static Command Requests()
    {
        var model = new Option<string?>("--model") { Description = "Only requests for this model" };
        var status = new Option<string?>("--status") { Description = "PENDING (default), APPROVED, REJECTED or all", DefaultValueFactory = _ => "PENDING" };
        var command = new Command("requests", "Promotion requests, newest first (pending by default).\n\nExample:\n  lineage models requests --model churn")
        {
            model, status,
        };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            var s = parse.GetValue(status);
            var page = await client.ListPromotionsAsync(parse.GetValue(model), s is null or "all" ? null : s, parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(page, LineageJson.Default.PromotionListResponse);
                return 0;
            }
            var table = Terminal.Table("Id", "Model", "Version", "Target", "Status", "Requested by", "Comment", "Decided by");
            foreach (var r in page.Requests)
                table.AddRow(r.Id, Terminal.Esc(r.Model), r.Version.ToString(CultureInfo.InvariantCulture), Terminal.Esc($"{r.Kind} {r.Target}"), r.Status,
                    Terminal.Esc(r.RequestedBy), Terminal.Esc(r.Comment), Terminal.Esc(r.DecidedBy));
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Decide(string verb, bool approve)
    {
        var id = new Argument<string>("request") { Description = "Promotion request id" };
        var comment = new Option<string?>("--comment") { Description = "Why" };
        var command = new Command(verb, $"""
            {(approve ? "Approve a pending promotion request: the alias or stage change is applied at once." : "Reject a pending promotion request.")}
            Needs the approver role on the model (the acting user: --as, else the OS user).

            Example:
              lineage models {verb} 12 --as carol --comment "checked the eval report"
            """) { id, comment };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = Client(parse);
            var decided = approve
                ? await client.ApprovePromotionAsync(parse.GetValue(id)!, parse.GetValue(comment), ct)
                : await client.RejectPromotionAsync(parse.GetValue(id)!, parse.GetValue(comment), ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(decided, LineageJson.Default.PromotionDto);
            else Terminal.Line($"promotion request {decided.Id} {decided.Status.ToLowerInvariant()} by {decided.DecidedBy}");
            return 0;
        }));
        return command;
    }

    /// <summary>"model:version" or "model@version"; the version defaults to latest.</summary>
    internal static (string Model, string Version) Split(string text)
    {
        var cut = text.LastIndexOfAny([':', '@']);
        return cut <= 0 ? (text, "latest") : (text[..cut], text[(cut + 1)..]);
    }

    internal static Dictionary<string, string>? Pairs(string[]? items, string option)
    {
        if (items is null || items.Length == 0) return null;
        return items.Select(w =>
        {
            var cut = w.IndexOf('=');
            return cut > 0 ? (w[..cut], w[(cut + 1)..]) : throw LineageException.Invalid(option, $"'{w}' is not key=value");
        }).ToDictionary(kv => kv.Item1, kv => kv.Item2);
    }
}
