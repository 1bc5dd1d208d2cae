using System.CommandLine;
using System.Net.Sockets;
using Lineage.Cli.Output;
using Lineage.Core.Errors;
using Lineage.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lineage.Cli.Commands;

public static class ServerCommand
{
    public static readonly Option<string> DbOption = new("--db")
    {
        Description = "Store: a SQLite file path, or postgres://user:pass@host:port/db, or 'Host=…;Database=…'",
        DefaultValueFactory = _ => new ServerOptions().Database,
    };

    public static readonly Option<string> ArtifactsOption = new("--artifacts")
    {
        Description = "Where artifact content lives: a folder, or s3://bucket/prefix (credentials and region from the AWS environment variables)",
        DefaultValueFactory = _ => new ServerOptions().ArtifactRoot,
    };

    public static readonly Option<string?> S3EndpointOption = new("--s3-endpoint")
    {
        Description = "Endpoint of an S3-compatible store (MinIO, Ceph RGW…) for --artifacts s3://…, e.g. http://127.0.0.1:9000 (default: AWS, or $AWS_ENDPOINT_URL)",
    };

    // The time-based alert pass: below a second it would mostly re-read unchanged rows; above an hour a 'pending for N hours'
    // or 'no data for N minutes' rule would fire far too late.
    private const double MinAlertIntervalSeconds = 1, MaxAlertIntervalSeconds = 3600;

    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0 picks a free one)", DefaultValueFactory = _ => 5000 };
        var migrate = new Option<bool>("--migrate") { Description = "Upgrade an older database schema at start-up (back it up first)" };
        var logRequests = new Option<bool>("--log-requests") { Description = "Log every HTTP request" };
        var logFormat = new Option<string>("--log-format")
        {
            Description = "text (one line per entry) or json (one JSON object per line, with the request id of entries logged during a request)",
            DefaultValueFactory = _ => "text",
        };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var insecure = new Option<bool>("--insecure") { Description = "Allow a non-loopback --host without authentication (anyone on the network can read and write)" };
        var sensitiveKeys = new Option<string?>("--sensitive-keys")
        {
            Description = "Comma-separated case-insensitive globs of sensitive param/tag/metadata keys (default: $LINEAGE_SENSITIVE_KEYS, else *password*,*secret*,*token*,*api_key*)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("LINEAGE_SENSITIVE_KEYS") is { Length: > 0 } v ? v : null,
        };
        var defaults = new ServerOptions();
        var maxJson = new Option<int>("--max-json-mib") { Description = "Largest body of an ordinary JSON request, in MiB", DefaultValueFactory = _ => (int)(defaults.MaxJsonBodyBytes >> 20) };
        var maxBatch = new Option<int>("--max-batch-mib") { Description = "Largest log-batch body (native and MLflow) and OpenLineage batch body, in MiB", DefaultValueFactory = _ => (int)(defaults.MaxBatchBodyBytes >> 20) };
        var maxEvent = new Option<int>("--max-event-mib") { Description = "Largest OpenLineage event, in MiB", DefaultValueFactory = _ => (int)(defaults.MaxLineageEventBytes >> 20) };
        var maxArtifact = new Option<int>("--max-artifact-gib") { Description = "Largest artifact upload, in GiB (uploads are streamed)", DefaultValueFactory = _ => (int)(defaults.MaxArtifactBytes >> 30) };
        var rateLimit = new Option<int>("--rate-limit") { Description = "Sustained requests per second per principal (per client address when anonymous); 0 turns limiting off", DefaultValueFactory = _ => defaults.RateLimitPerSecond };
        var rateBurst = new Option<int>("--rate-burst") { Description = "Requests a principal may send at once (the bucket size; refilled at --rate-limit a second)", DefaultValueFactory = _ => defaults.RateLimitBurst };
        var trustedProxy = new Option<string[]>("--trusted-proxy") { Description = "Reverse proxy (IP or CIDR) whose X-Forwarded-For/-Proto is believed; repeatable", AllowMultipleArgumentsPerToken = false };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "Serve HTTPS with this certificate: PEM (with --tls-key) or .pfx/.p12 (password in $LINEAGE_TLS_PASSWORD)" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert" };
        var redirect = new Option<bool>("--artifacts-redirect")
        {
            Description = "Answer artifact content downloads with a 302 to a presigned URL of the object store (S3 only), so the bytes bypass the server",
        };
        var webhookPrivate = new Option<bool>("--webhook-allow-private")
        {
            Description = "Let webhooks deliver to loopback and private addresses (refused by default against SSRF; this server itself stays refused)",
        };
        var webhookAttempts = new Option<int>("--webhook-max-attempts") { Description = "Delivery attempts before an event is dead-lettered for a webhook", DefaultValueFactory = _ => defaults.WebhookMaxAttempts };
        var webhookTimeout = new Option<int>("--webhook-timeout-seconds") { Description = "How long a webhook receiver has to answer", DefaultValueFactory = _ => (int)defaults.WebhookTimeout.TotalSeconds };
        var alertInterval = new Option<double>("--alert-interval")
        {
            Description = $"Seconds between passes of the time-based alert rules (pending promotions, failed deployments, runs without data), "
                + $"{MinAlertIntervalSeconds:0}–{MaxAlertIntervalSeconds:0}; rules on metrics, models and datasets are evaluated as their data arrives, not by this pass",
            DefaultValueFactory = _ => defaults.AlertInterval.TotalSeconds,
        };
        var command = new Command("server", """
            Start the Lineage server (native API under /api/v1, OpenAPI at /openapi/v1.json, /health, /ready, /metrics).
            A new database is created; an older one needs --migrate or 'lineage db upgrade'.
            Authentication is on once a user exists ('lineage users create'); a non-loopback --host
            is refused without it unless --insecure is given.
            Field encryption is on with a key: --key-file (or LINEAGE_KEY_FILE), or LINEAGE_ENCRYPTION_KEY
            (base64); create a key file with 'lineage keys new --key-file <path>'.

            Examples:
              lineage server
              lineage server --db ./team.db --artifacts /data/lineage --port 8080
              lineage server --db postgres://lineage:secret@db:5432/lineage --host 0.0.0.0   (after 'lineage users create')
              lineage server --key-file ./lineage-data/keys
              lineage server --host 0.0.0.0 --port 8443 --tls-cert tls.crt --tls-key tls.key
              lineage server --trusted-proxy 127.0.0.1 --rate-limit 500 --rate-burst 1000
              lineage server --db postgres://… --artifacts s3://ml-artifacts/lineage --artifacts-redirect
              lineage server --artifacts s3://lineage/artifacts --s3-endpoint http://127.0.0.1:9000   (MinIO; AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY set)
              lineage server --log-format json --log-requests
            """)
        {
            DbOption, ArtifactsOption, S3EndpointOption, redirect, host, port, migrate, logRequests, logFormat, insecure, KeyCommands.KeyFileOption, sensitiveKeys,
            maxJson, maxBatch, maxEvent, maxArtifact, rateLimit, rateBurst, trustedProxy, tlsCert, tlsKey, webhookPrivate, webhookAttempts, webhookTimeout,
            alertInterval,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new ServerOptions
            {
                Database = parse.GetValue(DbOption)!,
                ArtifactRoot = parse.GetValue(ArtifactsOption)!,
                S3Endpoint = parse.GetValue(S3EndpointOption),
                ArtifactsRedirect = parse.GetValue(redirect),
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                Migrate = parse.GetValue(migrate),
                LogRequests = parse.GetValue(logRequests),
                LogFormat = parse.GetValue(logFormat)!,
                Insecure = parse.GetValue(insecure),
                KeyFile = parse.GetValue(KeyCommands.KeyFileOption),
                EncryptionKeys = Environment.GetEnvironmentVariable("LINEAGE_ENCRYPTION_KEY"),
                SensitiveKeys = parse.GetValue(sensitiveKeys),
                MaxJsonBodyBytes = (long)parse.GetValue(maxJson) << 20,
                MaxBatchBodyBytes = (long)parse.GetValue(maxBatch) << 20,
                MaxLineageEventBytes = (long)parse.GetValue(maxEvent) << 20,
                MaxArtifactBytes = (long)parse.GetValue(maxArtifact) << 30,
                RateLimitPerSecond = parse.GetValue(rateLimit),
                RateLimitBurst = parse.GetValue(rateBurst),
                TrustedProxies = parse.GetValue(trustedProxy) ?? [],
                TlsCertificatePath = parse.GetValue(tlsCert),
                TlsKeyPath = parse.GetValue(tlsKey),
                WebhookAllowPrivate = parse.GetValue(webhookPrivate),
                WebhookMaxAttempts = Math.Max(1, parse.GetValue(webhookAttempts)),
                WebhookTimeout = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(webhookTimeout))),
            };
            var alertSeconds = parse.GetValue(alertInterval);
            if (!double.IsFinite(alertSeconds) || alertSeconds < MinAlertIntervalSeconds || alertSeconds > MaxAlertIntervalSeconds)
            {
                Terminal.Error($"error: --alert-interval must be between {MinAlertIntervalSeconds:0} and {MaxAlertIntervalSeconds:0} seconds, got {alertSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
                return 2;
            }
            options = options with { AlertInterval = TimeSpan.FromSeconds(alertSeconds) };
            if (options.MaxJsonBodyBytes <= 0 || options.MaxBatchBodyBytes <= 0 || options.MaxLineageEventBytes <= 0 || options.MaxArtifactBytes <= 0
                || options.RateLimitPerSecond < 0 || options.RateLimitBurst < 0)
            {
                Terminal.Error("error: size limits must be positive and rate limits zero or positive");
                return 2;
            }
            RunningServer server;
            try
            {
                server = await LineageServer.StartAsync(options, ct);
            }
            catch (LineageException ex)
            {
                Terminal.Error($"error: {ex.Message}");
                return 1;
            }
            catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                Terminal.Error($"error: {options.Host}:{options.Port} is already in use; stop the other server or choose --port");
                return 1;
            }
            await using (server)
            {
                // With --log-format json every line on stdout is a JSON object, the start-up lines included.
                var startup = server.App.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Lineage.Server");
                Action<string> say = options.LogFormat == "json" ? line => startup.LogInformation("{Line}", line) : Terminal.Line;
                if (options.Insecure) Terminal.Error("warning: --insecure: no authentication is required; anyone who can reach this address can read and change everything");
                say($"Lineage {LineageServer.Version} listening on {server.Address.ToString().TrimEnd('/')} " +
                              $"(store: {server.Database.Description}, artifacts: {server.Blobs.Location})");
                say(await new Lineage.Storage.Governance.GovernanceStore(server.Database).AuthEnabledAsync()
                    ? "Authentication: on (Bearer token or Basic; 'lineage tokens create <user>')"
                    : "Authentication: off (no user exists; open to whoever reaches this address; 'lineage users create <name> --admin' turns it on)");
                var fields = Lineage.Storage.Governance.FieldProtection.Of(server.Database);
                say(fields.Keys is { } keys
                    ? $"Field encryption: on (AES-256-GCM, current key {keys.Current.CurrentId}, {keys.Current.Ids.Count} key(s) from {keys.FilePath ?? "LINEAGE_ENCRYPTION_KEY"}; sensitive keys: {string.Join(",", fields.Patterns.Patterns)})"
                    : $"Field encryption: off (no key configured: values under sensitive keys ({string.Join(",", fields.Patterns.Patterns)}) are stored in plaintext and shown redacted to non-admins; 'lineage keys new --key-file <path>' and --key-file turn it on)");
                try
                {
                    await server.WaitForShutdownAsync(ct);
                }
                catch (OperationCanceledException)
                {
                }
                say("Lineage stopped.");
            }
            return 0;
        });
        return command;
    }
}
