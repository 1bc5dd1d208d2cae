using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lineage.Cli.Output;
using Lineage.Client;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Spectre.Console;
using Lineage.Core.Errors;

namespace Lineage.Cli.Commands;

public static class ArtifactCommands
{
    private static readonly Option<string?> Project = new("--project") { Description = "Project (default: default)", Recursive = true };

    public static Command Create()
    {
        var artifacts = new Command("artifacts", """
            Versioned, immutable artifacts: datasets, models, feature sets, code, configs, reports.

            Examples:
              lineage artifacts push sales-features ./features.parquet --type feature_set --metadata '{"rows": 120000}'
              lineage artifacts list --type model
              lineage artifacts show bert production
              lineage artifacts pull bert ./bert --version 3
              lineage artifacts alias set bert production 3
            """) { Project };
        artifacts.Subcommands.Add(Push());
        artifacts.Subcommands.Add(Pull());
        artifacts.Subcommands.Add(List());
        artifacts.Subcommands.Add(Show());
        artifacts.Subcommands.Add(Alias());
        artifacts.Subcommands.Add(Delete());
        artifacts.Subcommands.Add(Retention());
        return artifacts;
    }

    private static Command Push()
    {
        var name = new Argument<string>("name") { Description = "Artifact name" };
        var path = new Argument<string>("path") { Description = "A file or a directory" };
        var type = new Option<string>("--type") { Description = "dataset, model, feature_set, code, config, metrics, report or your own", Required = true };
        var metadata = new Option<string?>("--metadata") { Description = "JSON object stored with the version (immutable)" };
        var description = new Option<string?>("--description") { Description = "Free text (editable later)" };
        var run = new Option<string?>("--run") { Description = "Run id that produced it (recorded as producer)" };
        var command = new Command("push", """
            Upload a file or a whole directory as the next version of an artifact. Content the server
            already has is not sent again; every file is checked against its SHA-256.

            Examples:
              lineage artifacts push churn-model ./model --type model --metadata '{"framework": "sklearn"}'
              lineage artifacts push sales ./sales.csv --type dataset --run 5f0c6f1e0c8d4f7a9b2e3d4c5b6a7980
            """) { name, path, type, metadata, description, run };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var source = parse.GetValue(path)!;
            var total = File.Exists(source) ? new FileInfo(source).Length
                : Directory.Exists(source) ? new DirectoryInfo(source).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
                : throw LineageException.Invalid("path", $"'{source}' is neither a file nor a directory");
            object? meta = parse.GetValue(metadata) is { } json ? ParseJson(json) : null;
            using var client = CliApp.Client(parse);
            var version = await Transfers.RunAsync($"push {parse.GetValue(name)}", total, progress =>
                client.RegisterArtifactAsync(parse.GetValue(name)!, source, parse.GetValue(type)!, meta, parse.GetValue(Project),
                    parse.GetValue(description), runId: parse.GetValue(run), progress: progress, ct: ct));
            Print(parse, version);
            return 0;
        }));
        return command;
    }

    private static Command Pull()
    {
        var name = new Argument<string>("name") { Description = "Artifact name" };
        var destination = new Argument<string>("destination") { Description = "File path (file artifacts) or folder (directory artifacts)" };
        var version = new Option<string>("--version") { Description = "Version number, 'latest' or an alias", DefaultValueFactory = _ => "latest" };
        var command = new Command("pull", """
            Download a version. Files are verified against their SHA-256 and appear only when complete.

            Examples:
              lineage artifacts pull churn-model ./model
              lineage artifacts pull churn-model ./model --version production
            """) { name, destination, version };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var info = await client.GetArtifactAsync(parse.GetValue(name)!, parse.GetValue(version)!, parse.GetValue(Project), ct);
            var result = await Transfers.RunAsync($"pull {info.Name} v{info.Version}", info.Size, progress =>
                client.DownloadAsync(info.Name, parse.GetValue(destination)!, info.Version.ToString(CultureInfo.InvariantCulture),
                    parse.GetValue(Project), progress, ct));
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(result, LineageJson.Default.ArtifactVersionDto);
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var name = new Option<string?>("--name") { Description = "Only versions of this name" };
        var type = new Option<string?>("--type") { Description = "Only this type" };
        var metadata = new Option<string[]>("--where") { Description = "Metadata filter key=value; repeat for more" };
        var lifecycle = new Option<string>("--lifecycle") { Description = "active, deleted or all", DefaultValueFactory = _ => "active" };
        lifecycle.AcceptOnlyFromAmong("active", "deleted", "all");
        var limit = new Option<int>("--limit") { Description = "Versions per page (1-1000)", DefaultValueFactory = _ => 100 };
        var command = new Command("list", """
            List artifact versions, newest first.

            Examples:
              lineage artifacts list --type model
              lineage artifacts list --name sales --lifecycle all
              lineage artifacts list --type dataset --where source=crm --json
            """) { name, type, metadata, lifecycle, limit };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var filters = (parse.GetValue(metadata) ?? []).Select(w =>
            {
                var cut = w.IndexOf('=');
                return cut > 0 ? (w[..cut], w[(cut + 1)..]) : throw LineageException.Invalid("--where", $"'{w}' is not key=value");
            }).ToDictionary(kv => kv.Item1, kv => kv.Item2);
            var page = await client.ListArtifactsAsync(parse.GetValue(name), parse.GetValue(type), filters, parse.GetValue(Project),
                parse.GetValue(lifecycle), parse.GetValue(limit), ct: ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(page, LineageJson.Default.ArtifactListResponse);
                return 0;
            }
            var table = Terminal.Table("Name", "Version", "Type", "Kind", "Size", "Aliases", "Digest", "Created (UTC)", "By", "State");
            foreach (var v in page.Artifacts)
                table.AddRow(Terminal.Esc(v.Name), v.Version.ToString(CultureInfo.InvariantCulture), v.Type, v.Kind, Terminal.Bytes(v.Size),
                    Terminal.Esc(string.Join(", ", v.Aliases)), v.Digest[..12], Terminal.Time(v.CreatedAt), Terminal.Esc(v.CreatedBy), v.Lifecycle);
            Terminal.Write(table);
            Terminal.Line($"{page.Artifacts.Count} version(s)" + (page.NextPageToken is null ? "" : "; more exist: use a larger --limit"));
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var name = new Argument<string>("name") { Description = "Artifact name" };
        var version = new Argument<string>("version") { Description = "Version number, 'latest' or an alias", DefaultValueFactory = _ => "latest" };
        var command = new Command("show", """
            Show one version: digest, size, storage URI, metadata, aliases, producer run and, for directories, the files.

            Examples:
              lineage artifacts show churn-model
              lineage artifacts show churn-model production
            """) { name, version };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var v = await client.GetArtifactAsync(parse.GetValue(name)!, parse.GetValue(version)!, parse.GetValue(Project), ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(v, LineageJson.Default.ArtifactVersionDto);
                return 0;
            }
            var table = Terminal.Table("Field", "Value");
            table.AddRow("name", Terminal.Esc($"{v.Project}/{v.Name}"));
            table.AddRow("version", v.Version.ToString(CultureInfo.InvariantCulture));
            table.AddRow("type / kind", $"{v.Type} / {v.Kind}");
            table.AddRow("digest", $"sha256:{v.Digest}");
            table.AddRow("size", $"{Terminal.Bytes(v.Size)} ({v.Size:N0} bytes)");
            table.AddRow("storage", Terminal.Esc(v.StorageUri));
            table.AddRow("aliases", Terminal.Esc(string.Join(", ", v.Aliases)));
            table.AddRow("metadata", Terminal.Esc(v.Metadata.GetRawText()));
            table.AddRow("description", Terminal.Esc(v.Description));
            table.AddRow("tags", Terminal.Esc(string.Join(", ", v.Tags.Select(t => $"{t.Key}={t.Value}"))));
            table.AddRow("produced by run", v.ProducerRunId ?? "");
            table.AddRow("created (UTC)", $"{Terminal.Time(v.CreatedAt)} by {Terminal.Esc(v.CreatedBy ?? "unknown")}");
            table.AddRow("state", v.Lifecycle);
            Terminal.Write(table);
            if (v.Kind == "directory")
            {
                var manifest = await client.GetManifestAsync(v.Name, v.Version.ToString(CultureInfo.InvariantCulture), parse.GetValue(Project), ct);
                var files = Terminal.Table("Path", "Size", "Digest");
                foreach (var f in manifest.Files) files.AddRow(Terminal.Esc(f.Path), Terminal.Bytes(f.Size ?? 0), f.Digest![..12]);
                Terminal.Line($"\nFiles ({manifest.Files.Count})");
                Terminal.Write(files);
            }
            return 0;
        }));
        return command;
    }

    private static Command Alias()
    {
        var alias = new Command("alias", """
            Point an alias (production, champion, …) at a version, or remove it. Moves are atomic and kept in history.

            Examples:
              lineage artifacts alias set churn-model production 4
              lineage artifacts alias delete churn-model staging
              lineage artifacts alias history churn-model
            """);
        var name = new Argument<string>("name") { Description = "Artifact name" };
        var aliasName = new Argument<string>("alias") { Description = "Alias" };
        var version = new Argument<long>("version") { Description = "Version number" };
        var set = new Command("set", "Point the alias at a version.\n\nExample:\n  lineage artifacts alias set churn-model production 4") { name, aliasName, version };
        set.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var v = await client.SetAliasAsync(parse.GetValue(name)!, parse.GetValue(aliasName)!, parse.GetValue(version), parse.GetValue(Project), ct);
            Terminal.Line($"{v.Name}@{parse.GetValue(aliasName)} → version {v.Version}");
            return 0;
        }));
        var delName = new Argument<string>("name") { Description = "Artifact name" };
        var delAlias = new Argument<string>("alias") { Description = "Alias" };
        var delete = new Command("delete", "Remove the alias.\n\nExample:\n  lineage artifacts alias delete churn-model staging") { delName, delAlias };
        delete.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            await client.DeleteAliasAsync(parse.GetValue(delName)!, parse.GetValue(delAlias)!, parse.GetValue(Project), ct);
            Terminal.Line($"removed alias {parse.GetValue(delAlias)} of {parse.GetValue(delName)}");
            return 0;
        }));
        var histName = new Argument<string>("name") { Description = "Artifact name" };
        var history = new Command("history", "Every alias move of an artifact, oldest first.\n\nExample:\n  lineage artifacts alias history churn-model") { histName };
        history.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var changes = await client.GetAliasHistoryAsync(parse.GetValue(histName)!, parse.GetValue(Project), ct: ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(changes, LineageJson.Default.AliasHistoryResponse);
                return 0;
            }
            var table = Terminal.Table("When (UTC)", "Alias", "Version", "By");
            foreach (var c in changes.Changes)
                table.AddRow(Terminal.Time(c.ChangedAt), Terminal.Esc(c.Alias), c.Version?.ToString(CultureInfo.InvariantCulture) ?? "(removed)", Terminal.Esc(c.ChangedBy));
            Terminal.Write(table);
            return 0;
        }));
        alias.Subcommands.Add(set);
        alias.Subcommands.Add(delete);
        alias.Subcommands.Add(history);
        return alias;
    }

    private static Command Delete()
    {
        var name = new Argument<string>("name") { Description = "Artifact name" };
        var version = new Argument<long>("version") { Description = "Version number" };
        var restore = new Option<bool>("--restore") { Description = "Undo an earlier delete instead" };
        var command = new Command("delete", """
            Soft-delete a version (restorable until gc purges it). A version an alias points to cannot be deleted.

            Examples:
              lineage artifacts delete churn-model 2
              lineage artifacts delete churn-model 2 --restore
            """) { name, version, restore };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var v = parse.GetValue(restore)
                ? await client.RestoreArtifactVersionAsync(parse.GetValue(name)!, parse.GetValue(version), parse.GetValue(Project), ct)
                : await client.DeleteArtifactVersionAsync(parse.GetValue(name)!, parse.GetValue(version), parse.GetValue(Project), ct);
            Terminal.Line($"{v.Name} version {v.Version} is {v.Lifecycle}");
            return 0;
        }));
        return command;
    }

    private static Command Retention()
    {
        var retention = new Command("retention", """
            Retention policies applied by 'lineage gc': per artifact name or per type, keep the newest N
            versions and/or those younger than D days. Versions an alias points to are always kept.

            Examples:
              lineage artifacts retention set --name nightly-features --keep-last 10
              lineage artifacts retention set --type report --keep-days 30
              lineage artifacts retention list
            """);
        var name = new Option<string?>("--name") { Description = "Policy for this artifact name" };
        var type = new Option<string?>("--type") { Description = "Policy for this artifact type" };
        var keepLast = new Option<int?>("--keep-last") { Description = "Keep the newest N versions" };
        var keepDays = new Option<int?>("--keep-days") { Description = "Keep versions younger than D days" };
        var set = new Command("set", "Create or replace a policy.\n\nExample:\n  lineage artifacts retention set --name nightly --keep-last 10") { name, type, keepLast, keepDays };
        set.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var (scope, target) = Scope(parse.GetValue(name), parse.GetValue(type));
            using var client = CliApp.Client(parse);
            await client.SetRetentionPolicyAsync(new RetentionPolicyDto(parse.GetValue(Project), scope, target, parse.GetValue(keepLast), parse.GetValue(keepDays)), ct);
            Terminal.Line($"retention for {scope} '{target}': keep last {parse.GetValue(keepLast)?.ToString() ?? "-"}, younger than {parse.GetValue(keepDays)?.ToString() ?? "-"} days");
            return 0;
        }));
        var list = new Command("list", "List policies.\n\nExample:\n  lineage artifacts retention list");
        list.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var policies = await client.ListRetentionPoliciesAsync(ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(policies, LineageJson.Default.RetentionPolicyListResponse);
                return 0;
            }
            var table = Terminal.Table("Project", "Scope", "Target", "Keep last", "Keep days");
            foreach (var p in policies.Policies)
                table.AddRow(Terminal.Esc(p.Project), p.Scope ?? "", Terminal.Esc(p.Target), p.KeepLast?.ToString(CultureInfo.InvariantCulture) ?? "-",
                    p.KeepDays?.ToString(CultureInfo.InvariantCulture) ?? "-");
            Terminal.Write(table);
            return 0;
        }));
        var delName = new Option<string?>("--name") { Description = "Policy of this artifact name" };
        var delType = new Option<string?>("--type") { Description = "Policy of this artifact type" };
        var delete = new Command("delete", "Remove a policy.\n\nExample:\n  lineage artifacts retention delete --type report") { delName, delType };
        delete.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var (scope, target) = Scope(parse.GetValue(delName), parse.GetValue(delType));
            using var client = CliApp.Client(parse);
            await client.DeleteRetentionPolicyAsync(parse.GetValue(Project), scope, target, ct);
            Terminal.Line($"removed retention for {scope} '{target}'");
            return 0;
        }));
        retention.Subcommands.Add(set);
        retention.Subcommands.Add(list);
        retention.Subcommands.Add(delete);
        return retention;
    }

    private static (string Scope, string Target) Scope(string? name, string? type) => (name, type) switch
    {
        ({ } n, null) => ("name", n),
        (null, { } t) => ("type", t),
        _ => throw LineageException.Invalid("--name", "give exactly one of --name or --type"),
    };

    private static void Print(ParseResult parse, ArtifactVersionDto v)
    {
        if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(v, LineageJson.Default.ArtifactVersionDto);
        else Terminal.Line($"{v.Project}/{v.Name} version {v.Version}: {v.Kind}, {Terminal.Bytes(v.Size)}, sha256:{v.Digest}, {v.StorageUri}");
    }

    private static JsonElement ParseJson(string json)
    {
        try
        {
            return JsonDocument.Parse(json).RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw LineageException.Invalid("--metadata", $"not valid JSON: {ex.Message}");
        }
    }
}
