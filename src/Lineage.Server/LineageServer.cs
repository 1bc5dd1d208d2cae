using System.Reflection;
using Lineage.Server.Hosting;
using Lineage.Server.Http;
using Lineage.Server.MLflow;
using Lineage.Server.V1;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Storage.Engine;
using Lineage.Storage.Lineage;
using Lineage.Storage.OpenLineage;
using Lineage.Storage.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lineage.Server;

/// <summary>
/// Builds and starts the HTTP server. The only place that wires concrete storage types;
/// endpoints see <see cref="TrackingStore"/> and <see cref="Database"/> through DI.
/// </summary>
public static class LineageServer
{
    public static string Version { get; } =
        typeof(LineageServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Opens the store, starts listening and returns the running app; dispose it to stop.</summary>
    public static async Task<RunningServer> StartAsync(ServerOptions options, CancellationToken ct = default)
    {
        Directory.CreateDirectory(options.ArtifactRoot);
        var db = await Database.OpenAsync(options.Database, options.Migrate, ct);
        try
        {
            var app = Build(options, db);
            await app.StartAsync(ct);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new RunningServer(app, db, new Uri(address));
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    private static WebApplication Build(ServerOptions options, Database db)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Lineage", LogLevel.Information);
        if (options.LogRequests) builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Information);
        builder.WebHost.UseKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        builder.WebHost.UseUrls($"http://{(options.Host.Contains(':') ? $"[{options.Host}]" : options.Host)}:{options.Port}");
        builder.Services.AddSingleton(db);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new TrackingStore(db));
        var blobs = new LocalFolderBlobStore(options.ArtifactRoot);
        builder.Services.AddSingleton<IBlobStore>(blobs);
        builder.Services.AddSingleton(new ArtifactStore(db, blobs));
        builder.Services.AddSingleton(new ArtifactMaintenance(db, blobs));
        builder.Services.AddSingleton(new LineageStore(db));
        builder.Services.AddSingleton(new OpenLineageStore(db));
        builder.Services.AddMlflow();
        builder.Services.AddHostedService<IdempotencyPurgeService>();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Lineage native API";
            doc.Info.Version = "v1";
            doc.Info.Description = "Experiments, runs, params, metrics and tags. Errors are {\"error_code\", \"message\", \"field\"}.";
            return Task.CompletedTask;
        }));

        var app = builder.Build();
        app.UseLineageErrors();
        app.UseIdempotencyKeys();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapHealth(options);
        app.MapGroup("/api/v1").MapProjects().MapExperiments().MapRuns().MapBlobs(options).MapArtifacts(options).MapRetention().MapLineage().MapOpenLineage();
        app.MapGroup("/api/v1").MapSearch();
        app.MapMlflow();
        return app;
    }
}

/// <summary>A started server: its address, and disposal that stops it and closes the store.</summary>
public sealed class RunningServer(WebApplication app, Database db, Uri address) : IAsyncDisposable
{
    public Uri Address { get; } = address;

    public Database Database { get; } = db;

    public WebApplication App { get; } = app;

    public Task WaitForShutdownAsync(CancellationToken ct = default) => App.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        await Database.DisposeAsync();
    }
}
