using System.CommandLine;
using Lineage.Cli.Output;
using Lineage.Core.Contracts;
using Lineage.Core.Contracts.V1;
using Spectre.Console;

namespace Lineage.Cli.Commands;

public static class GraphCommands
{
    public static Command Create()
    {
        var graph = new Command("graph", """
            Lineage: where an artifact came from and what depends on it.
            Nodes are written artifact:<name>@<version|latest|alias>, artifact:<id>, execution:<id> or run:<run id>.

            Examples:
              lineage graph show artifact:churn-model@3 --direction upstream
              lineage graph show artifact:sales@latest --format mermaid
              lineage graph impact sales@3
              lineage graph provenance churn-model@production
              lineage graph path artifact:sales@3 artifact:churn-model@3
            """);
        graph.Subcommands.Add(Show());
        graph.Subcommands.Add(Path());
        graph.Subcommands.Add(Impact());
        graph.Subcommands.Add(Provenance());
        return graph;
    }

    private static Command Show()
    {
        var node = new Argument<string>("node") { Description = "Start node, e.g. artifact:sales@3" };
        var direction = new Option<string>("--direction") { Description = "upstream, downstream or both", DefaultValueFactory = _ => "both" };
        direction.AcceptOnlyFromAmong("upstream", "downstream", "both");
        var depth = new Option<int>("--depth") { Description = "Maximum hops (1-100)", DefaultValueFactory = _ => 20 };
        var format = new Option<string>("--format") { Description = "table, dot (Graphviz) or mermaid", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "dot", "mermaid");
        var command = new Command("show", """
            The upstream and/or downstream closure of a node, as a table of nodes and edges, Graphviz DOT or Mermaid.

            Examples:
              lineage graph show artifact:churn-model@3 --direction upstream
              lineage graph show run:5f0c6f1e0c8d4f7a9b2e3d4c5b6a7980 --format dot | dot -Tsvg > lineage.svg
            """) { node, direction, depth, format };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var f = parse.GetValue(format)!;
            if (f != "table")
            {
                Terminal.Line((await client.ExportLineageAsync(parse.GetValue(node)!, f, parse.GetValue(direction)!, parse.GetValue(depth), ct)).TrimEnd());
                return 0;
            }
            var graph = await client.GetLineageAsync(parse.GetValue(node)!, parse.GetValue(direction)!, parse.GetValue(depth), ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(graph, LineageJson.Default.GraphResponse);
                return 0;
            }
            PrintGraph(graph);
            return 0;
        }));
        return command;
    }

    private static Command Path()
    {
        var from = new Argument<string>("from") { Description = "One node" };
        var to = new Argument<string>("to") { Description = "The other node" };
        var command = new Command("path", "The shortest lineage path between two nodes, in either direction.\n\nExample:\n  lineage graph path artifact:sales@3 artifact:churn-model@3")
        {
            from, to,
        };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var graph = await client.GetLineagePathAsync(parse.GetValue(from)!, parse.GetValue(to)!, ct);
            if (parse.GetValue(CliApp.JsonOption)) Terminal.Json(graph, LineageJson.Default.GraphResponse);
            else Terminal.Line(string.Join(" → ", graph.Nodes.Select(n => $"{n.Label} ({n.Type})")));
            return 0;
        }));
        return command;
    }

    private static Command Impact()
    {
        var artifact = new Argument<string>("artifact") { Description = "<name>@<version> or an artifact version id" };
        var command = new Command("impact", "Which runs, model versions and other artifacts depend on an artifact version.\n\nExample:\n  lineage graph impact sales@3")
        {
            artifact,
        };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var impact = await client.GetImpactAsync(parse.GetValue(artifact)!, ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(impact, LineageJson.Default.ImpactResponse);
                return 0;
            }
            Terminal.Line($"Model versions ({impact.ModelVersions.Count}): {string.Join(", ", impact.ModelVersions.Select(v => $"{v.Name} v{v.Version}"))}");
            Terminal.Line($"Runs ({impact.Runs.Count}): {string.Join(", ", impact.Runs)}");
            var table = Terminal.Table("Downstream artifact", "Version", "Type", "Aliases");
            foreach (var v in impact.Artifacts) table.AddRow(Terminal.Esc(v.Name), v.Version.ToString(), v.Type, Terminal.Esc(string.Join(", ", v.Aliases)));
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Provenance()
    {
        var artifact = new Argument<string>("artifact") { Description = "<name>@<version> or an artifact version id" };
        var command = new Command("provenance", "Which dataset versions, code, params and executions produced an artifact version.\n\nExample:\n  lineage graph provenance churn-model@3")
        {
            artifact,
        };
        command.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            using var client = CliApp.Client(parse);
            var p = await client.GetProvenanceAsync(parse.GetValue(artifact)!, ct);
            if (parse.GetValue(CliApp.JsonOption))
            {
                Terminal.Json(p, LineageJson.Default.ProvenanceResponse);
                return 0;
            }
            var table = Terminal.Table("Kind", "Name", "Version / state", "Detail");
            foreach (var v in p.Datasets) table.AddRow("dataset", Terminal.Esc(v.Name), $"v{v.Version}", $"sha256:{v.Digest[..12]}");
            foreach (var v in p.Code) table.AddRow("code", Terminal.Esc(v.Name), $"v{v.Version}", $"sha256:{v.Digest[..12]}");
            foreach (var v in p.OtherArtifacts) table.AddRow(v.Type, Terminal.Esc(v.Name), $"v{v.Version}", $"sha256:{v.Digest[..12]}");
            foreach (var e in p.Executions) table.AddRow($"execution ({e.Type})", Terminal.Esc(e.Name), e.State, e.RunId is null ? "" : $"run {e.RunId}");
            foreach (var (run, parameters) in p.RunParams)
                foreach (var (key, value) in parameters) table.AddRow("param", Terminal.Esc(key), Terminal.Esc(value), $"run {run}");
            Terminal.Write(table);
            return 0;
        }));
        return command;
    }

    private static void PrintGraph(GraphResponse graph)
    {
        var nodes = Terminal.Table("Node", "Kind", "Label", "Type", "Depth", "State");
        foreach (var n in graph.Nodes) nodes.AddRow(n.Id, n.Kind, Terminal.Esc(n.Label), n.Type, n.Depth.ToString(), n.State ?? "");
        Terminal.Write(nodes);
        var labels = graph.Nodes.ToDictionary(n => n.Id, n => n.Label);
        var edges = Terminal.Table("From", "Role", "To");
        foreach (var e in graph.Edges) edges.AddRow(Terminal.Esc(labels.GetValueOrDefault(e.From, e.From)), Terminal.Esc(e.Role), Terminal.Esc(labels.GetValueOrDefault(e.To, e.To)));
        Terminal.Write(edges);
    }
}
