using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Lineage.Tests.Support;

/// <summary>
/// A real <c>lineage server</c> child process (the built CLI next to this assembly), for
/// what only a separate process can show: SIGKILL mid-write, several servers on one
/// database, start-up time and memory. Shared by tests and bench/.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, Uri address)
    {
        Process = process;
        Address = address;
    }

    public Process Process { get; }
    public Uri Address { get; }
    public int Pid => Process.Id;

    /// <summary>From process start to the first 200 from /ready.</summary>
    public TimeSpan StartupTime { get; private set; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static Task<ServerProcess> StartAsync(string database, string artifacts, params string[] extraArgs) =>
        StartInAsync(null, database, artifacts, extraArgs);

    /// <summary>As <see cref="StartAsync"/>, with the process's current directory set (relative paths in
    /// <paramref name="extraArgs"/>, such as <c>--key-file ./lineage-data/keys</c>, resolve against it).</summary>
    public static Task<ServerProcess> StartInAsync(string? workingDirectory, string database, string artifacts, params string[] extraArgs) =>
        StartWithAsync(workingDirectory, null, database, artifacts, extraArgs);

    /// <summary>As <see cref="StartInAsync"/>, with extra environment variables for the server process (the soak bench
    /// measures GC and allocator settings such as <c>DOTNET_GCConserveMemory</c> or <c>MALLOC_ARENA_MAX</c> this way).</summary>
    public static async Task<ServerProcess> StartWithAsync(string? workingDirectory, IReadOnlyDictionary<string, string>? environment,
        string database, string artifacts, params string[] extraArgs)
    {
        var port = FreePort();
        var start = LineageCommand();
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var a in new[] { "server", "--db", database, "--artifacts", artifacts, "--port", port.ToString() }.Concat(extraArgs))
            start.ArgumentList.Add(a);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var watch = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start lineage server");
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"lineage server exited with {process.ExitCode}:\n{server.Output}");
            try
            {
                using var ready = await http.GetAsync(new Uri(server.Address, "ready"));
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    server.StartupTime = watch.Elapsed;
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(10);
        }
        process.Kill(true);
        throw new TimeoutException($"lineage server did not become ready in 60 s:\n{server.Output}");
    }

    /// <summary>The built CLI: the apphost when present, else <c>dotnet lineage.dll</c>.</summary>
    public static ProcessStartInfo LineageCommand()
    {
        var dir = AppContext.BaseDirectory;
        var apphost = Path.Combine(dir, "lineage");
        if (File.Exists(apphost)) return new ProcessStartInfo(apphost) { UseShellExecute = false };
        var dll = Path.Combine(dir, "lineage.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"lineage CLI not built next to {dir}");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false };
        info.ArgumentList.Add(dll);
        return info;
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public void KillHard()
    {
        Process.Kill();
        Process.WaitForExit();
    }

    /// <summary>SIGTERM and wait: the graceful stop a service manager does.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (Process.HasExited) return;
        _ = kill(Process.Id, 15);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        await Process.WaitForExitAsync(cts.Token);
    }

    /// <summary>Resident set size from /proc (Linux).</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc status");
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!Process.HasExited)
            {
                await StopAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (OperationCanceledException)
        {
            Process.Kill(true);
        }
        Process.Dispose();
    }
}
