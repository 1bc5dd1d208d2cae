using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Lineage.Client;

/// <summary>
/// What a run records about where it ran, without anyone typing it: git commit, branch,
/// dirty flag and remote (inside a repository), host, OS, runtime, command line and user.
/// Stored as system tags under <c>lineage.</c>.
/// </summary>
public static class RunEnvironment
{
    public const string User = "lineage.user";
    public const string Host = "lineage.host";
    public const string Os = "lineage.os";
    public const string Runtime = "lineage.runtime";
    public const string Command = "lineage.command";
    public const string WorkingDirectory = "lineage.cwd";
    public const string GitCommit = "lineage.source.git.commit";
    public const string GitBranch = "lineage.source.git.branch";
    public const string GitDirty = "lineage.source.git.dirty";
    public const string GitRemote = "lineage.source.git.remote";

    /// <summary>Captures the tags for the current process and working directory.</summary>
    public static Dictionary<string, string> Capture(string? workingDirectory = null)
    {
        workingDirectory ??= Environment.CurrentDirectory;
        var tags = new Dictionary<string, string>
        {
            [User] = Environment.UserName,
            [Host] = Environment.MachineName,
            [Os] = RuntimeInformation.OSDescription,
            [Runtime] = RuntimeInformation.FrameworkDescription,
            [Command] = Truncate(Environment.CommandLine, 8000),
            [WorkingDirectory] = Truncate(workingDirectory, 8000),
        };
        var commit = Git(workingDirectory, "rev-parse", "HEAD");
        if (commit is null) return tags;
        tags[GitCommit] = commit;
        tags[GitDirty] = Git(workingDirectory, "status", "--porcelain", "--untracked-files=no") is { Length: > 0 } ? "true" : "false";
        if (Git(workingDirectory, "rev-parse", "--abbrev-ref", "HEAD") is { } branch && branch != "HEAD") tags[GitBranch] = branch;
        if (Git(workingDirectory, "config", "--get", "remote.origin.url") is { Length: > 0 } remote) tags[GitRemote] = StripCredentials(remote);
        return tags;
    }

    /// <summary>Runs git; null when git is missing, the folder is not a repository, or it takes too long.</summary>
    private static string? Git(string directory, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo("git")
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in args) start.ArgumentList.Add(arg);
            using var process = Process.Start(start);
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(5000))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }
            return process.ExitCode == 0 ? output.Result.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // git is not installed
        }
    }

    /// <summary>https://user:token@host/repo → https://host/repo: tokens never end up in tags.</summary>
    private static string StripCredentials(string remote) =>
        Uri.TryCreate(remote, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
            ? new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString()
            : remote;

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];
}
