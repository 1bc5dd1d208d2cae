using System.Diagnostics;
using Lineage.Client;
using Lineage.Tests.Support;

namespace Lineage.Tests.Sdk;

public sealed class RunEnvironmentTests
{
    private static void Git(string dir, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)} failed: {p.StandardError.ReadToEnd()}");
    }

    [Fact]
    public void inside_a_git_repository_the_commit_branch_dirty_flag_and_remote_without_credentials_are_captured()
    {
        using var dir = new TempDir();
        Git(dir.Path, "init", "-q", "-b", "main");
        Git(dir.Path, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "init");
        Git(dir.Path, "remote", "add", "origin", "https://alice:s3cret@git.example.com/ml/model.git");
        File.WriteAllText(dir.File("train.py"), "print(1)");
        Git(dir.Path, "add", "train.py");
        Git(dir.Path, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "code");

        var clean = RunEnvironment.Capture(dir.Path);
        Assert.Matches("^[0-9a-f]{40}$", clean[RunEnvironment.GitCommit]);
        Assert.Equal("false", clean[RunEnvironment.GitDirty]);
        Assert.Equal("main", clean[RunEnvironment.GitBranch]);
        Assert.Equal("https://git.example.com/ml/model.git", clean[RunEnvironment.GitRemote]);

        File.WriteAllText(dir.File("train.py"), "print(2)");
        Assert.Equal("true", RunEnvironment.Capture(dir.Path)[RunEnvironment.GitDirty]);
    }

    [Fact]
    public void outside_a_repository_there_are_no_git_tags_but_host_and_runtime_are_there()
    {
        using var dir = new TempDir();
        var tags = RunEnvironment.Capture(dir.Path);
        Assert.DoesNotContain(RunEnvironment.GitCommit, tags.Keys);
        Assert.Equal(Environment.MachineName, tags[RunEnvironment.Host]);
        Assert.Equal(dir.Path, tags[RunEnvironment.WorkingDirectory]);
    }
}
