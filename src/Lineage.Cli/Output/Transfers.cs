using Lineage.Client;
using Spectre.Console;

namespace Lineage.Cli.Output;

/// <summary>A progress bar with bytes, rate and ETA for uploads and downloads (plain summary when not on a terminal).</summary>
public static class Transfers
{
    public static async Task<T> RunAsync<T>(string label, long totalBytes, Func<IProgress<TransferProgress>, Task<T>> transfer)
    {
        var started = DateTime.UtcNow;
        T result;
        if (!Terminal.Interactive)
        {
            result = await transfer(new Progress<TransferProgress>(_ => { }));
        }
        else
        {
            result = await Terminal.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                    new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask(Terminal.Esc(label), maxValue: Math.Max(1, totalBytes));
                    var r = await transfer(new SyncProgress(p => task.Value = p.Done));
                    task.Value = task.MaxValue;
                    return r;
                });
        }
        var seconds = Math.Max(0.001, (DateTime.UtcNow - started).TotalSeconds);
        Terminal.Line($"{label}: {Terminal.Bytes(totalBytes)} in {seconds:0.0}s ({Terminal.Bytes((long)(totalBytes / seconds))}/s)");
        return result;
    }

    private sealed class SyncProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }
}
