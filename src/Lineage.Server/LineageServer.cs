using System.Reflection;
using Lineage.Server.Hosting;
using Lineage.Server.Http;
using Lineage.Server.MLflow;
using Lineage.Server.V1;
using Lineage.Storage.Archive;
using Lineage.Storage.Artifacts;
using Lineage.Storage.Blobs;
using Lineage.Storage.Dashboards;
using Lineage.Storage.Engine;
using Lineage.Storage.Governance;
using Lineage.Storage.Lineage;
using Lineage.Storage.OpenLineage;
using Lineage.Storage.Registry;
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
        var blobs = await BlobStores.OpenAsync(options.ArtifactRoot, options.S3Endpoint, ct);
        Database db;
        try
        {
            db = await Database.OpenAsync(options.Database, options.Migrate, ct);
        }
        catch
        {
            (blobs as IDisposable)?.Dispose();
            throw;
        }
        try
        {
            await CheckExposureAsync(options, db);
            var fields = FieldProtectionOf(options);
            db.Fields = fields;
            await fields.CheckDatabaseAsync(db, ct);
            var app = Build(options, db, blobs);
            await app.StartAsync(ct);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new RunningServer(app, db, new Uri(address), blobs);
        }
        catch
        {
            await db.DisposeAsync();
            (blobs as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Safe default (governance issue): open access is for a laptop. On any address other than loopback
    /// the server starts only with authentication configured (a principal exists) or with --insecure.
    /// </summary>
    private static async Task CheckExposureAsync(ServerOptions options, Database db)
    {
        var loopback = options.Host is "localhost" || (System.Net.IPAddress.TryParse(options.Host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
        if (loopback || options.Insecure || await new GovernanceStore(db).AuthEnabledAsync()) return;
        throw new Core.Errors.LineageException(Core.Errors.ErrorCode.Unavailable,
            $"refusing to listen on {options.Host} without authentication: create a user first ('lineage users create <name> --admin --db …' " +
            "and 'lineage tokens create <name>'), or pass --insecure to serve everyone on the network without credentials");
    }

    /// <summary>The keyring (key file first, then key text) and the sensitive-key patterns; no keyring: redaction only.</summary>
    public static FieldProtection FieldProtectionOf(ServerOptions options)
    {
        var keys = options.KeyFile is { Length: > 0 } file ? KeySource.FromFile(file)
            : options.EncryptionKeys is { Length: > 0 } text ? KeySource.FromText(text, "LINEAGE_ENCRYPTION_KEY")
            : null;
        return new FieldProtection(keys, Core.Governance.SensitiveKeys.Parse(options.SensitiveKeys));
    }

    private static WebApplication Build(ServerOptions options, Database db, IBlobStore blobs)
    {
        // No configuration files are read, so none are watched: a reload watcher on the content root
        // (the working directory, which usually holds ./lineage-data) woke on every database write and
        // cost about a sixth of the server's CPU under write load.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        // Scopes on: ASP.NET Core puts the request's RequestId (the X-Request-Id answer header) into the scope of every line logged during it.
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.None);
        if (options.LogFormat == "json")
            builder.Logging.AddJsonConsole(o => { o.IncludeScopes = true; o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; });
        else
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; o.IncludeScopes = true; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Lineage", LogLevel.Information);
        if (options.LogRequests) builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Information);
        var certificate = options.TlsCertificatePath is { } cert ? TlsCertificate.Load(cert, options.TlsKeyPath) : null;
        builder.WebHost.UseKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxJsonBodyBytes; // per route: Http/RequestLimits
            k.AddServerHeader = false;
            if (certificate is not null) k.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
        });
        builder.WebHost.UseUrls($"{(certificate is null ? "http" : "https")}://{(options.Host.Contains(':') ? $"[{options.Host}]" : options.Host)}:{options.Port}");
        builder.Services.AddSingleton(db);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new TrackingStore(db));
        builder.Services.AddSingleton(blobs);
        builder.Services.AddSingleton(new ArtifactStore(db, blobs));
        builder.Services.AddSingleton(new ArtifactMaintenance(db, blobs));
        builder.Services.AddSingleton(new LineageStore(db));
        builder.Services.AddSingleton(new OpenLineageStore(db));
        builder.Services.AddSingleton(new MarquezReader(db));
        builder.Services.AddSingleton(new GovernanceStore(db));
        builder.Services.AddSingleton(new EntityProjects(db));
        builder.Services.AddSingleton(new AuditLog(db));
        builder.Services.AddSingleton<AuditWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AuditWriter>());
        builder.Services.AddSingleton(sp => new ServerMetrics(db, blobs, sp.GetRequiredService<AuditWriter>()));
        builder.Services.AddMlflow();
        builder.Services.AddSingleton(new RegistryStore(db));
        builder.Services.AddSingleton(new DeploymentStore(db));
        builder.Services.AddSingleton(new DatasetStore(db));
        builder.Services.AddSingleton(new FeatureStore(db));
        builder.Services.AddSingleton(new ManifestBuilder(db, blobs));
        builder.Services.AddSingleton(new DashboardStore(db));
        builder.Services.AddHostedService<IdempotencyPurgeService>();
        builder.Services.AddSingleton(new ReadTracker(db));
        builder.Services.AddHostedService<ReadTrackerFlushService>();
        builder.Services.AddEvents(options, db);
        builder.Services.AddPrincipalRateLimits(options);
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Lineage native API";
            doc.Info.Version = "v1";
            doc.Info.Description = "Experiments, runs, params, metrics and tags. Errors are {\"error_code\", \"message\", \"field\"}.";
            return Task.CompletedTask;
        }));

        var app = builder.Build();
        // Before everything else, so every answer — errors of later middleware included — has its request id and is counted.
        app.UseRequestTelemetry();
        // An MLflow tracking URI or OpenLineage URL may name a project (/projects/{name}/…): unwrapped before routing.
        app.UseLineageErrors();
        app.UseProjectPrefix();
        app.UseRouting();
        app.UseTrustedProxies(options.TrustedProxies);
        app.UseAccessControl();
        app.UsePrincipalRateLimits(options);
        app.UseRequestLimits(options);
        app.UseJsonTextGuard();
        app.UseIdempotencyKeys();
        app.UseOperationContext();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapHealth(options);
        app.MapMetrics();
        app.MapGroup("/api/v1").MapProjects().MapExperiments().MapRuns().MapBlobs(options).MapArtifacts(options).MapRetention().MapLineage().MapOpenLineage().MapMarquez();
        app.MapGroup("/api/v1").MapSearch();
        app.MapMlflow();
        app.MapGroup("/api/v1").MapModels().MapDeployments().MapDatasets().MapFeatures();
        app.MapGroup("/api/v1").MapAudit().MapDashboards();
        app.MapGroup("/api/v1").MapEvents().MapWebhooks().MapAlerts();
        app.UseWebUi(options.UiRoot);
        return app;
    }
}

/// <summary>A started server: its address, and disposal that stops it and closes the store.</summary>
public sealed class RunningServer(WebApplication app, Database db, Uri address, IBlobStore blobs) : IAsyncDisposable
{
    public Uri Address { get; } = address;

    public Database Database { get; } = db;

    public WebApplication App { get; } = app;

    public IBlobStore Blobs { get; } = blobs;

    public Task WaitForShutdownAsync(CancellationToken ct = default) => App.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        await Database.DisposeAsync();
        (Blobs as IDisposable)?.Dispose();
    }
}
