using System.CommandLine;
using Lineage.Cli.Commands;
using Lineage.Cli.Output;
using Lineage.Client;
using Lineage.Core.Errors;

namespace Lineage.Cli;

/// <summary>
/// The <c>lineage</c> command line. Exit codes: 0 success, 1 the operation failed (the error is
/// printed as <c>error: CODE: message</c>), 2 the command line itself is wrong (usage shown).
/// </summary>
public static class CliApp
{
    public static readonly Option<string> ServerOption = new("--server")
    {
        Description = "Lineage server URL (default: $LINEAGE_SERVER_URL, else http://127.0.0.1:5000)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("LINEAGE_SERVER_URL") is { Length: > 0 } url ? url : "http://127.0.0.1:5000",
    };

    public static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Print machine-readable JSON instead of tables",
        Recursive = true,
    };

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct = default)
    {
        var root = new RootCommand("""
            Lineage: ML metadata and lineage store. Runs the server and talks to it.

            Start here:
              lineage server                      start on ./lineage-data, http://127.0.0.1:5000
              lineage experiments list            what has been tracked
              lineage runs show <run-id>          one run with params, tags, metrics
            """);
        root.Options.Add(ServerOption);
        root.Options.Add(JsonOption);
        root.Subcommands.Add(ServerCommand.Create());
        root.Subcommands.Add(DbCommands.Create());
        root.Subcommands.Add(ProjectCommands.Create());
        root.Subcommands.Add(ExperimentCommands.Create());
        root.Subcommands.Add(RunCommands.Create());
        root.Subcommands.Add(ArtifactCommands.Create());
        root.Subcommands.Add(GraphCommands.Create());
        root.Subcommands.Add(ModelCommands.Create());
        root.Subcommands.Add(DeploymentCommands.Create());
        root.Subcommands.Add(EventCommands.Events());
        root.Subcommands.Add(EventCommands.Webhooks());
        root.Subcommands.Add(AlertCommands.Alerts());
        root.Subcommands.Add(ManifestCommand.Create());
        root.Subcommands.Add(MaintenanceCommands.Gc());
        root.Subcommands.Add(MaintenanceCommands.Verify());
        root.Subcommands.Add(MaintenanceCommands.Stats());
        root.Subcommands.Add(ArchiveCommands.Create());
        root.Subcommands.Add(BackupCommands.Backup());
        root.Subcommands.Add(BackupCommands.Restore());
        root.Subcommands.Add(GovernanceCommands.Users());
        root.Subcommands.Add(GovernanceCommands.Tokens());
        root.Subcommands.Add(GovernanceCommands.Roles());
        root.Subcommands.Add(GovernanceCommands.Audit());
        root.Subcommands.Add(ErasureCommand.Create());
        root.Subcommands.Add(KeyCommands.Create());
        root.Subcommands.Add(ImportCommands.Create());
        root.Subcommands.Add(BundleCommands.Export());

        Terminal.Configure(stdout, stderr);
        var parse = root.Parse(args);
        var code = await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, ct);
        return parse.Errors.Count > 0 ? 2 : code; // usage errors are told apart from failed operations
    }

    /// <summary>Wraps a command body: Lineage errors become one line on stderr and exit code 1.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Handle(Func<ParseResult, CancellationToken, Task<int>> body) =>
        async (parse, ct) =>
        {
            try
            {
                return await body(parse, ct);
            }
            catch (LineageApiException ex) when (ex.HttpStatus is null && ex.Code == ErrorCode.Unavailable)
            {
                Terminal.Error($"error: {ex.Message}\nIs the server running? Start one with 'lineage server', or point --server / LINEAGE_SERVER_URL at it.");
                return 1;
            }
            catch (LineageException ex)
            {
                Terminal.Error($"error: {ex.Code.WireName()}: {ex.Message}{(ex.Field is null ? "" : $" (field: {ex.Field})")}");
                return 1;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Terminal.Error("cancelled");
                return 130;
            }
        };

    public static LineageClient Client(ParseResult parse)
    {
        var url = parse.GetValue(ServerOption)!;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw LineageException.Invalid("--server", $"'{url}' is not an http(s) URL");
        return new LineageClient(uri);
    }
}
