using System.Diagnostics;
using Lineage.Cli.Import;
using Lineage.Client;
using Lineage.Core.Contracts.V1;
using Lineage.Tests.Support;

namespace Lineage.Bench;

/// <summary>
/// Issue 12's import target: <c>lineage import mlflow</c> runs/s from a local MLflow-compatible source, each run with
/// 10 params and 10 metrics × 100 steps. Two real server processes (the source speaks MLflow's REST API, the target is
/// written through the SDK as the CLI does); the importer runs in this process with the CLI's default parallelism.
/// Each round imports the whole source into a fresh project of the target; the median round is quoted, then a
/// re-run of the last round (nothing new) is timed.
/// </summary>
public static class MlflowImportBench
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        var runs = o.Runs;
        using var dir = new TempDir();
        await using var sourceServer = await ServerProcess.StartAsync(dir.File("source.db"), dir.File("source-blobs"));
        await using var targetServer = await ServerProcess.StartAsync(dir.File("target.db"), dir.File("target-blobs"));
        using var source = new LineageClient(sourceServer.Address);
        using var target = new LineageClient(targetServer.Address);
        Console.WriteLine($"mlflow import: {runs:N0} runs × (10 params, 10 metrics × 100 steps), {o.Rounds} rounds, parallel {o.Concurrency}");

        var fill = Stopwatch.StartNew();
        var experiment = await source.CreateExperimentAsync("bench");
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < runs)
            {
                var run = await source.CreateRunAsync(new CreateRunRequest(experiment.Id, $"run-{i}", 1_700_000_000_000 + i));
                var metrics = new List<LogMetricRequest>(1000);
                for (var k = 0; k < 10; k++)
                    for (var s = 0; s < 100; s++)
                        metrics.Add(new LogMetricRequest($"m{k}", Math.Sin(i + k + s), s, 1_700_000_000_000 + i * 1000L + s));
                await source.LogBatchAsync(run.RunId, new BatchRequest(metrics,
                    Enumerable.Range(0, 10).Select(p => new KeyValueDto($"p{p}", $"value-{i % 7}-{p}")).ToList()));
                await source.UpdateRunAsync(run.RunId, new UpdateRunRequest("FINISHED", 1_700_000_100_000 + i));
            }
        })));
        Console.WriteLine($"  source filled in {fill.Elapsed.TotalSeconds:N1} s");

        var rates = new List<double>();
        double rerunSeconds = 0;
        for (var round = 0; round < o.Rounds; round++)
        {
            var project = $"import-{round}";
            await target.CreateProjectAsync(project);
            var journal = dir.File($"journal-{round}.jsonl");
            var options = new MlflowImportOptions(sourceServer.Address.AbsoluteUri.TrimEnd('/'), ["bench"], project, o.Concurrency, false, true, true);
            var cpu = CpuSnapshot.Take(sourceServer.Process, targetServer.Process);
            var report = await ImportAsync(source: sourceServer.Address, target, journal, options);
            var spent = CpuSnapshot.Take(sourceServer.Process, targetServer.Process).Minus(cpu);
            if (report.Failed.Count > 0 || report.RunsCreated != runs)
                throw new InvalidOperationException($"round {round}: {report.RunsCreated} runs created, failures: {string.Join("; ", report.Failed)}");
            var rate = runs / report.Seconds;
            rates.Add(rate);
            Console.WriteLine($"  round {round + 1}: {report.Seconds:N2} s, {rate:N0} runs/s, {report.MetricPoints / report.Seconds:N0} points/s; " +
                              $"CPU per run: source {spent.Source / runs:N1} ms, target {spent.Target / runs:N1} ms, importer {spent.Self / runs:N1} ms");
            if (round == o.Rounds - 1)
            {
                var again = await ImportAsync(sourceServer.Address, target, journal, options);
                if (again.RunsCreated + again.RunsUpdated != 0) throw new InvalidOperationException("the re-run imported runs again");
                rerunSeconds = again.Seconds;
            }
        }

        Console.WriteLine();
        Console.WriteLine("| measure | value | target |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| `lineage import mlflow`, {runs:N0} runs × (10 params, 10 metrics × 100 steps), median of {o.Rounds} rounds | " +
                          $"{Statistics.Median(rates):N0} runs/s ({Statistics.Median(rates) * 1000:N0} metric points/s) | ≥ 200 runs/s |");
        Console.WriteLine($"| the same import again (nothing new: journal hit for every run) | {rerunSeconds:N2} s | |");
        return 0;
    }

    private static async Task<MlflowImportReport> ImportAsync(Uri source, LineageClient target, string journalPath, MlflowImportOptions options)
    {
        using var mlflow = new MlflowRest(source);
        using var targetMlflow = new MlflowRest(target.BaseAddress, project: options.Project);
        using var journal = await ImportJournal.OpenAsync(journalPath, $"{options.Source} -> {target.BaseAddress} project {options.Project}", CancellationToken.None);
        return await new MlflowImporter(target, mlflow, targetMlflow, journal, options).RunAsync((_, _) => { }, CancellationToken.None);
    }

    /// <summary>CPU time (user + system, ms) used so far by the source server, the target server and this process (the importer).</summary>
    private readonly record struct CpuSnapshot(double Source, double Target, double Self)
    {
        public static CpuSnapshot Take(Process source, Process target)
        {
            source.Refresh();
            target.Refresh();
            return new(source.TotalProcessorTime.TotalMilliseconds, target.TotalProcessorTime.TotalMilliseconds,
                Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds);
        }

        public CpuSnapshot Minus(CpuSnapshot before) => new(Source - before.Source, Target - before.Target, Self - before.Self);
    }
}
