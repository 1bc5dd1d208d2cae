using Lineage.Client;
using Lineage.Core.Contracts.V1;
using Lineage.Tests.Support;

namespace Lineage.Tests.MultiProcess;

/// <summary>A server killed with SIGKILL in the middle of ingestion keeps every batch it acknowledged.</summary>
public sealed class CrashSafetyTests
{
    [Fact]
    public async Task a_server_killed_with_sigkill_mid_ingestion_loses_no_acknowledged_batch_and_stores_no_partial_one()
    {
        using var dir = new TempDir();
        var db = dir.File("crash.db");
        string runId;
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<int>();
        const int batchSize = 500, writers = 4;

        await using (var server = await ServerProcess.StartAsync(db, dir.File("artifacts")))
        {
            using var client = new LineageClient(server.Address);
            runId = (await client.CreateRunAsync(new CreateRunRequest("0", "crash"))).RunId;
            using var stop = new CancellationTokenSource();
            var senders = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                for (var b = w; !stop.IsCancellationRequested; b += writers)
                {
                    var metrics = Enumerable.Range(0, batchSize)
                        .Select(i => new LogMetricRequest("m", b, (long)b * batchSize + i, 1)).ToList();
                    try
                    {
                        await client.LogBatchAsync(runId, new BatchRequest(metrics));
                        acknowledged.Add(b);
                    }
                    catch (LineageApiException)
                    {
                        return; // the server is gone
                    }
                }
            })).ToList();
            while (acknowledged.Count < 40) await Task.Delay(5);
            server.KillHard(); // writers are still sending
            stop.Cancel();
            await Task.WhenAll(senders);
        }

        await using (var restarted = await ServerProcess.StartAsync(db, dir.File("artifacts")))
        {
            using var client = new LineageClient(restarted.Address);
            var history = await client.GetFullMetricHistoryAsync(runId, "m");
            var perBatch = history.GroupBy(p => (int)p.Value).ToDictionary(g => g.Key, g => g.Count());
            foreach (var b in acknowledged)
                Assert.True(perBatch.TryGetValue(b, out var n) && n == batchSize, $"acknowledged batch {b} is missing after SIGKILL");
            // Batches in flight at the kill are all there or not at all.
            Assert.All(perBatch, kv => Assert.Equal(batchSize, kv.Value));
            Assert.Equal(history.Count, history.Select(p => p.Step).Distinct().Count());
        }
    }
}
