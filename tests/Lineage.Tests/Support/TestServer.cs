using Lineage.Client;
using Lineage.Server;

namespace Lineage.Tests.Support;

/// <summary>
/// A real Lineage server on a free loopback port, in this process, over a fresh SQLite file
/// (or a fresh PostgreSQL database with <c>postgres: true</c>). Tests talk to it over real HTTP.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly TempDir _dir;

    private TestServer(TempDir dir, RunningServer server)
    {
        _dir = dir;
        Server = server;
        Http = new HttpClient { BaseAddress = server.Address };
        Client = new LineageClient(server.Address);
    }

    public RunningServer Server { get; }
    public Uri Address => Server.Address;
    public HttpClient Http { get; }
    public LineageClient Client { get; }
    public string DataDir => _dir.Path;

    /// <summary>The blobs the server's store holds (a folder or a bucket).</summary>
    public async Task<List<Lineage.Storage.Blobs.StoredBlob>> StoredBlobsAsync() => await Server.Blobs.ListAsync().ToListAsync();

    /// <summary>With <paramref name="s3"/> the artifacts go to a fresh bucket on the test S3 server (<see cref="S3Target"/>).</summary>
    public static async Task<TestServer> StartAsync(bool postgres = false, Func<ServerOptions, ServerOptions>? configure = null, bool s3 = false)
    {
        var dir = new TempDir();
        var options = new ServerOptions
        {
            Database = postgres ? PostgresTarget.CreateDatabase() : dir.File("lineage.db"),
            ArtifactRoot = s3 ? await S3Target.CreateBucketAsync() : dir.File("artifacts"),
            S3Endpoint = s3 ? S3Target.Endpoint : null,
            Port = 0,
        };
        var server = await LineageServer.StartAsync(configure is null ? options : configure(options));
        return new TestServer(dir, server);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Http.Dispose();
        await Server.DisposeAsync();
        _dir.Dispose();
    }
}
