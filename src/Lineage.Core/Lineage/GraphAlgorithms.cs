using System.Text;

namespace Lineage.Core.Lineage;

/// <summary>Pure graph work over a loaded subgraph: shortest paths and text exports.</summary>
public static class GraphAlgorithms
{
    /// <summary>Shortest directed path from <paramref name="from"/> to <paramref name="to"/> along the edges, or null.</summary>
    public static IReadOnlyList<NodeId>? ShortestPath(IEnumerable<GraphEdge> edges, NodeId from, NodeId to)
    {
        var next = edges.ToLookup(e => e.From, e => e.To);
        var previous = new Dictionary<NodeId, NodeId> { [from] = from };
        var queue = new Queue<NodeId>([from]);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (node == to)
            {
                var path = new List<NodeId> { to };
                while (path[^1] != from) path.Add(previous[path[^1]]);
                path.Reverse();
                return path;
            }
            foreach (var n in next[node])
                if (previous.TryAdd(n, node)) queue.Enqueue(n);
        }
        return null;
    }

    /// <summary>Graphviz DOT: artifacts as boxes, executions as ellipses, edges labelled with their role.</summary>
    public static string ToDot(LineageGraph graph)
    {
        var sb = new StringBuilder("digraph lineage {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        foreach (var n in graph.Nodes)
        {
            var shape = n.Id.Kind == NodeKind.Artifact ? "box" : "ellipse";
            var style = n.Id == graph.Root ? ", style=bold" : "";
            sb.Append($"  \"{n.Id}\" [label=\"{Dot(n.Label)}\\n({Dot(n.Type)})\", shape={shape}{style}];\n");
        }
        foreach (var e in graph.Edges)
            sb.Append($"  \"{e.From}\" -> \"{e.To}\" [label=\"{Dot(e.Role)}\"];\n");
        return sb.Append("}\n").ToString();
    }

    /// <summary>Mermaid flowchart (<c>graph LR</c>): artifacts as rectangles, executions as rounded nodes.</summary>
    public static string ToMermaid(LineageGraph graph)
    {
        var sb = new StringBuilder("graph LR\n");
        foreach (var n in graph.Nodes)
        {
            var id = MermaidId(n.Id);
            var text = Mermaid($"{n.Label} ({n.Type})");
            sb.Append(n.Id.Kind == NodeKind.Artifact ? $"  {id}[\"{text}\"]\n" : $"  {id}([\"{text}\"])\n");
        }
        foreach (var e in graph.Edges)
            sb.Append($"  {MermaidId(e.From)} -->|{Mermaid(e.Role)}| {MermaidId(e.To)}\n");
        return sb.ToString();
    }

    private static string MermaidId(NodeId id) => (id.Kind == NodeKind.Artifact ? "a" : "e") + id.Id;

    private static string Dot(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"");

    private static string Mermaid(string text) => text.Replace("\"", "#quot;").Replace("|", "#124;");
}
