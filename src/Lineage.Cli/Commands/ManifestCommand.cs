using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lineage.Cli.Output;
using Lineage.Core.Contracts;
using Lineage.Core.Errors;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary><c>lineage manifest</c>: the reproducibility manifest of a model version, and re-checking its digests.</summary>
public static class ManifestCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "<model>:<version|alias|latest>" };
        var verify = new Option<bool>("--verify") { Description = "Re-check every digest the manifest names (store records and bytes)" };
        var file = new Option<string?>("--file") { Description = "With --verify: check this saved manifest instead of fetching the current one" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the manifest to this file" };
        var project = new Option<string?>("--project") { Description = "Project (default: default)" };
        var command = new Command("manifest", """
            Everything needed to rebuild a model version: code version, environment, params, seeds, input dataset
            versions with digests, preprocessing and feature steps, metrics, registry and deployment facts (JSON).

            Exit code 1 when --verify finds a digest that does not check out.

            Examples:
              lineage manifest house-price-rf:1
              lineage manifest house-price-rf:champion -o manifest.json
              lineage manifest house-price-rf:1 --verify
              lineage manifest house-price-rf:1 --verify --file manifest.json
            """) { model, verify, file, output, project };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var (name, version) = ModelCommands.Split(parse.GetValue(model)!);
            JsonObject manifest;
            if (parse.GetValue(file) is { } path)
            {
                if (!parse.GetValue(verify)) throw LineageException.Invalid("--file", "--file is for --verify: it names a saved manifest to check");
                manifest = JsonNode.Parse(await File.ReadAllTextAsync(path, ct)) as JsonObject
                           ?? throw LineageException.Invalid("--file", $"'{path}' does not hold a JSON object");
            }
            else manifest = await client.GetModelManifestAsync(name, version, parse.GetValue(project), ct);
            var text = manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            if (parse.GetValue(output) is { } target) await File.WriteAllTextAsync(target, text, ct);
            if (!parse.GetValue(verify))
            {
                if (parse.GetValue(output) is null) Terminal.Line(text);
                return 0;
            }
            var result = await client.VerifyManifestAsync(manifest, ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(result, LineageJson.Default.VerifyManifestResponse);
            else
            {
                var table = Terminal.Table("Artifact", "Version", "Digest", "Check", "Detail");
                foreach (var c in result.Checks)
                    table.AddRow(Terminal.Esc(c.Name), $"{c.Version}", c.Digest.Length > 12 ? c.Digest[..12] : c.Digest, c.Status, Terminal.Esc(c.Detail));
                Terminal.Write(table);
                Terminal.Line(result.Ok ? $"all {result.Checks.Count} digests check out" : "some digests do NOT check out");
            }
            return result.Ok ? 0 : 1;
        }));
        return command;
    }
}
