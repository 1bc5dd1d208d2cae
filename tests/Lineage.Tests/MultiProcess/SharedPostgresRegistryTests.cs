using Lineage.Client;
using Lineage.Core.Contracts.V1;
using Lineage.Core.Errors;
using Lineage.Tests.Support;

namespace Lineage.Tests.MultiProcess;

/// <summary>The registry's uniqueness rules hold with two real server processes writing to one PostgreSQL database.</summary>
public sealed class SharedPostgresRegistryTests
{
    [Fact]
    public async Task two_servers_on_one_postgres_agree_on_model_names_version_numbers_aliases_and_live_deployments()
    {
        using var dir = new TempDir();
        var database = PostgresTarget.CreateDatabase();
        await using var a = await ServerProcess.StartAsync(database, dir.File("artifacts"));
        await using var b = await ServerProcess.StartAsync(database, dir.File("artifacts"));
        using var ca = new LineageClient(a.Address);
        using var cb = new LineageClient(b.Address);
        LineageClient[] clients = [ca, cb];

        // One model name created through both servers at once: exactly one wins.
        var created = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            try
            {
                await clients[i % 2].CreateModelAsync("shared-model");
                return true;
            }
            catch (LineageApiException ex) when (ex.Code == ErrorCode.ResourceAlreadyExists)
            {
                return false;
            }
        }));
        Assert.Equal(1, created.Count(c => c));

        // Versions registered through both: 1..N without gap or duplicate.
        var file = dir.File("w.bin");
        await File.WriteAllTextAsync(file, "weights");
        var artifact = await ca.RegisterArtifactAsync("shared-weights", file, "model");
        var versions = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
            (await clients[i % 2].CreateModelVersionAsync("shared-model", new CreateModelVersionRequest(new ArtifactRefDto(Id: artifact.Id)))).Version));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), versions.Order());

        // Concurrent alias moves through both: the last committed wins and every move is in the history, in a chain.
        await Task.WhenAll(Enumerable.Range(1, 10).Select(v => clients[v % 2].SetModelAliasAsync("shared-model", "champion", v)));
        var history = (await cb.GetModelHistoryAsync("shared-model", "alias", "champion")).Changes;
        Assert.Equal(10, history.Count);
        for (var i = 1; i < history.Count; i++) Assert.Equal(history[i - 1].NewValue, history[i].OldValue);
        Assert.Equal(long.Parse(history[^1].NewValue!), (await ca.GetModelAsync("shared-model")).Aliases["champion"]);

        // Concurrent deployments of the model to one environment: one live deployment at the end, the rest retired.
        await Task.WhenAll(Enumerable.Range(1, 8).Select(v => clients[v % 2].DeployAsync("production", "shared-model", v)));
        var live = (await ca.ListDeploymentsAsync(live: true)).Deployments;
        Assert.Single(live);
        var all = (await cb.ListDeploymentsAsync("production")).Deployments;
        Assert.Equal(8, all.Count);
        Assert.Equal(7, all.Count(d => d.Status == "retired"));
    }
}
