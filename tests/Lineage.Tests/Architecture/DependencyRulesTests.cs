using System.Text.RegularExpressions;
using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using Lineage.Storage.Engine;

namespace Lineage.Tests.Architecture;

/// <summary>
/// The allowed dependencies of docs/architecture.md ("Allowed dependencies"), checked on the built assemblies: every
/// type a type uses (fields, signatures, base types, attributes and method bodies — async bodies and lambdas included,
/// which the compiler moves into nested types that count as their outer type's) must be allowed by each rule.
/// </summary>
public sealed class DependencyRulesTests
{
    /// <summary>
    /// A rule: types of <paramref name="From"/> must not use types <paramref name="Forbidden"/> picks. With
    /// <paramref name="StoreConstants"/>, uses of a store's constants (<c>TrackingStore.DefaultProject</c>) count too:
    /// the compiler copies a constant's value into its users, so no IL reader sees them, and the sources are read instead.
    /// </summary>
    private sealed record Rule(string Name, Func<IType, bool> From, Func<IType, IType, bool> Forbidden, string Why, bool StoreConstants = false);

    private static readonly Lazy<ArchUnitNET.Domain.Architecture> Built = new(() => new ArchLoader().LoadAssemblies(
        typeof(global::Lineage.Core.Errors.LineageException).Assembly,
        typeof(Database).Assembly,
        typeof(global::Lineage.Server.LineageServer).Assembly,
        typeof(global::Lineage.Client.LineageClient).Assembly,
        typeof(global::Lineage.Cli.CliApp).Assembly).Build());

    /// <summary>Namespaces that do I/O or serve HTTP: the domain core stays free of them.</summary>
    private static readonly string[] InputOutput =
    [
        "Lineage.Storage", "Lineage.Server", "Lineage.Client", "Lineage.Cli",
        "Microsoft.AspNetCore", "Microsoft.Data.Sqlite", "Npgsql", "Dapper", "Amazon", "System.Net.Http", "System.Data",
    ];

    private static readonly Rule[] Rules =
    [
        new("core has no I/O", t => In(t, "Lineage.Core"), (_, d) => InputOutput.Any(n => In(d, n)),
            "Lineage.Core holds the domain records, rules and wire contracts every other project shares; storage, HTTP and drivers stay out"),
        new("storage knows nothing of HTTP", t => In(t, "Lineage.Storage"),
            (_, d) => In(d, "Lineage.Server") || In(d, "Lineage.Cli") || In(d, "Lineage.Client") || In(d, "Microsoft.AspNetCore"),
            "store operations are called by the server, the CLI and background jobs alike"),
        new("the server does not touch SQL", t => In(t, "Lineage.Server"),
            (_, d) => In(d, "Microsoft.Data.Sqlite") || In(d, "Npgsql") || In(d, "Dapper"),
            "endpoints call store operations; SQL and drivers live in Lineage.Storage"),
        new("the client shares only the wire contracts", t => In(t, "Lineage.Client"),
            (_, d) => In(d, "Lineage.Storage") || In(d, "Lineage.Server") || In(d, "Lineage.Cli") || In(d, "Microsoft.AspNetCore"),
            "the SDK talks HTTP to any server and is shipped without the server"),
        new("the engine does not know governance", t => In(t, "Lineage.Storage.Engine"), (_, d) => In(d, "Lineage.Storage.Governance"),
            "the engine offers hooks (before commit, value protection) that governance plugs into (issue 11, item 2)"),
        new("a store does not call another store", IsStore, (t, d) => IsStore(d) && Outer(d) != Outer(t),
            "shared lookups live in the *Access classes below the stores, so each store depends only on accesses (issue 11, item 2)",
            StoreConstants: true),
        new("an access does not call a store", IsAccess, (_, d) => IsStore(d),
            "accesses are the data-access layer below the stores: store operation → access → SQL", StoreConstants: true),
    ];

    public static TheoryData<string> RuleNames() => new(Rules.Select(r => r.Name));

    [Theory]
    [MemberData(nameof(RuleNames))]
    public void dependencies_keep_to_the_rule(string name)
    {
        var rule = Rules.Single(r => r.Name == name);
        var found = Violations(Built.Value, rule).Union(rule.StoreConstants ? StoreConstantUses(Built.Value, rule) : []).Order(StringComparer.Ordinal).ToList();
        Assert.True(found.Count == 0, $"rule '{rule.Name}' ({rule.Why}) is broken by:\n  " + string.Join("\n  ", found));
    }

    /// <summary>The rules see what only a method body uses, after an await and inside a lambda (a reader that missed those would pass everything).</summary>
    [Fact]
    public void the_dependency_reader_sees_async_bodies_and_lambdas()
    {
        var probe = new ArchLoader().LoadNamespacesWithinAssembly(typeof(AsyncProbe).Assembly, typeof(AsyncProbe).Namespace!).Build();
        var rule = new Rule("probe", t => Outer(t) == typeof(AsyncProbe).FullName, (_, d) => In(d, "System.Collections.Concurrent") || In(d, "System.Text"), "");
        Assert.Equal(
            [$"{typeof(AsyncProbe).FullName} → System.Collections.Concurrent.ConcurrentBag`1", $"{typeof(AsyncProbe).FullName} → System.Text.StringBuilder"],
            Violations(probe, rule));
    }

    /// <summary>"origin → target" for each outer type of <see cref="Rule.From"/> using a type the rule forbids, sorted.</summary>
    private static List<string> Violations(ArchUnitNET.Domain.Architecture architecture, Rule rule) =>
        architecture.Types
            .Where(rule.From)
            .SelectMany(t => t.Dependencies.Select(d => d.Target).Where(d => rule.Forbidden(t, d)).Select(d => $"{Outer(t)} → {Outer(d)}"))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// "origin → store" for each source file of Lineage.Storage whose first type is one of <see cref="Rule.From"/> and that
    /// names a store's member (<c>TrackingStore.DefaultProject</c>) other than its own: what the IL cannot show.
    /// </summary>
    private static IEnumerable<string> StoreConstantUses(ArchUnitNET.Domain.Architecture architecture, Rule rule)
    {
        var types = architecture.Types.GroupBy(Outer).ToDictionary(g => g.Key, g => g.First());
        var stores = types.Values.Where(IsStore).ToDictionary(t => t.Name, t => Outer(t));
        var folder = Path.Combine(RepositoryRoot(), "src", "Lineage.Storage");
        foreach (var file in Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                                 && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            var ns = Regex.Match(text, @"^namespace\s+([\w.]+)", RegexOptions.Multiline).Groups[1].Value;
            // Top-level types start a line (file-scoped namespaces); a use belongs to the last one declared before it.
            var declared = Regex.Matches(text, @"^(?:(?:public|internal|static|sealed|abstract|partial)\s+)*(?:class|record|struct|interface)\s+(\w+)",
                RegexOptions.Multiline);
            foreach (Match use in Regex.Matches(text, @"\b(\w+Store)\.[A-Z]\w*"))
            {
                var owner = declared.LastOrDefault(d => d.Index < use.Index);
                if (owner is null || !types.TryGetValue($"{ns}.{owner.Groups[1].Value}", out var origin) || !rule.From(origin)) continue;
                if (stores.TryGetValue(use.Groups[1].Value, out var store) && store != Outer(origin))
                    yield return $"{Outer(origin)} → {store}";
            }
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Lineage.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("repository root (Lineage.slnx) not found above " + AppContext.BaseDirectory);
    }

    // Generic parameters of compiler-generated methods (<PrivateImplementationDetails>.InlineArrayAsReadOnlySpan<TBuffer, TElement>
    // for collection expressions, the request delegate generator's helpers) have no namespace.
    private static bool In(IType type, string ns) =>
        type.Namespace?.FullName is { } name && (name == ns || name.StartsWith(ns + ".", StringComparison.Ordinal));

    /// <summary>The outermost declaring type: async state machines, lambda closures and nested helpers count as their outer type.</summary>
    private static string Outer(IType type)
    {
        var name = type.FullName;
        var nested = name.IndexOfAny(['+', '/']);
        return nested < 0 ? name : name[..nested];
    }

    /// <summary>A data-access class of Lineage.Storage (statements inside the caller's transaction, never a commit).</summary>
    private static bool IsAccess(IType type) => In(type, "Lineage.Storage") && Outer(type).EndsWith("Access", StringComparison.Ordinal);

    /// <summary>A store: a class of Lineage.Storage whose name ends in "Store" (its public operations, one transaction each). Blob stores hold bytes below the stores and are not counted.</summary>
    private static bool IsStore(IType type) =>
        In(type, "Lineage.Storage") && !In(type, "Lineage.Storage.Blobs") && Outer(type).EndsWith("Store", StringComparison.Ordinal);
}

/// <summary>Uses two types only inside method bodies: one after an await, one inside a lambda (see the test above).</summary>
internal static class AsyncProbe
{
    public static async Task<int> CountAsync()
    {
        await Task.Yield();
        var bag = new System.Collections.Concurrent.ConcurrentBag<int> { 1 };
        Func<string> text = () => new System.Text.StringBuilder("x").ToString();
        return bag.Count + text().Length;
    }
}
