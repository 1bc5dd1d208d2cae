using Lineage.Cli;

namespace Lineage.Tests.Support;

/// <summary>Runs the <c>lineage</c> command in this process (<see cref="CliApp"/>), capturing its output.</summary>
public static class InProcessCli
{
    public static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
