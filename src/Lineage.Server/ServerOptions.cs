namespace Lineage.Server;

/// <summary>How to start a server. Defaults: the embedded store under ./lineage-data on 127.0.0.1:5000.</summary>
public sealed record ServerOptions
{
    public const string DefaultDataDir = "lineage-data";

    /// <summary>SQLite file path, or a PostgreSQL <c>postgres://…</c> URI / <c>Host=…</c> connection string.</summary>
    public string Database { get; init; } = Path.Combine(DefaultDataDir, "lineage.db");

    /// <summary>Where artifact bytes live: a folder (the local blob store) or <c>s3://bucket/prefix</c> (issue 13).</summary>
    public string ArtifactRoot { get; init; } = Path.Combine(DefaultDataDir, "artifacts");

    /// <summary>Endpoint of an S3-compatible store (MinIO, Ceph RGW…) for an <c>s3://</c> <see cref="ArtifactRoot"/>; null: AWS (or AWS_ENDPOINT_URL).</summary>
    public string? S3Endpoint { get; init; }

    /// <summary>
    /// Answer artifact content reads with a 302 to a short-lived presigned URL of the object store, so large downloads bypass
    /// the server. Only where the store can sign such URLs (S3); the local folder always streams.
    /// </summary>
    public bool ArtifactsRedirect { get; init; }

    /// <summary>How long a redirect's presigned URL stays valid.</summary>
    public TimeSpan ArtifactsRedirectValidity { get; init; } = TimeSpan.FromMinutes(5);

    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 5000;

    /// <summary>Upgrade an older database schema at start-up instead of refusing to start.</summary>
    public bool Migrate { get; init; }

    /// <summary>Largest body of an ordinary JSON request (create, update, tag, search…); see <c>Http/RequestLimits</c>.</summary>
    public long MaxJsonBodyBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>
    /// Largest body of a log-batch request (native <c>runs/{id}/batch</c>, MLflow <c>runs/log-batch</c>). MLflow's own
    /// limits (1,000 metrics, 100 params of 6,000 characters, 100 tags of 8,000) fit in about 2 MB; a native batch of
    /// 10,000 points is about 1 MB.
    /// </summary>
    public long MaxBatchBodyBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Largest OpenLineage event (<c>POST /api/v1/lineage</c>); schema and SQL facets make events larger than most JSON.</summary>
    public long MaxLineageEventBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Largest artifact upload accepted (uploads are streamed; this is a policy limit, not memory).</summary>
    public long MaxArtifactBytes { get; init; } = 100L * 1024 * 1024 * 1024;

    /// <summary>Sustained requests per second allowed to one principal (or one client address when anonymous); 0 turns rate limiting off.</summary>
    public int RateLimitPerSecond { get; init; } = 3000;

    /// <summary>Requests one principal may send at once: the token bucket's size, refilled at <see cref="RateLimitPerSecond"/>.</summary>
    public int RateLimitBurst { get; init; } = 6000;

    /// <summary>
    /// Proxies (addresses or CIDR networks) whose <c>X-Forwarded-For</c>/<c>X-Forwarded-Proto</c> are believed; the header
    /// of anyone else is ignored. Empty: the connection's own address is the client.
    /// </summary>
    public IReadOnlyList<string> TrustedProxies { get; init; } = [];

    /// <summary>Serve HTTPS with this certificate: a PEM file (with <see cref="TlsKeyPath"/>) or a PKCS#12 (.pfx/.p12) file. Null: plain HTTP.</summary>
    public string? TlsCertificatePath { get; init; }

    /// <summary>The PEM private key of <see cref="TlsCertificatePath"/>; not used for PKCS#12.</summary>
    public string? TlsKeyPath { get; init; }

    /// <summary>
    /// <c>text</c> (one line per entry) or <c>json</c> (one JSON object per line: timestamp, level, category, message, and the
    /// request's scope with its <c>RequestId</c>, for log shippers).
    /// </summary>
    public string LogFormat { get; init; } = "text";

    /// <summary>Log every request (off by default: ingestion runs at thousands of requests a second).</summary>
    public bool LogRequests { get; init; }

    /// <summary>How long a checked credential is trusted before it is checked again (a revoked token works at most this long).</summary>
    public TimeSpan CredentialCache { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Serve without authentication on a non-loopback address (refused otherwise while no user exists).</summary>
    public bool Insecure { get; init; }

    /// <summary>Key file for field encryption (base64 keys, one per line, current last); null: <see cref="EncryptionKeys"/> or none.</summary>
    public string? KeyFile { get; init; }

    /// <summary>Encryption keys as text (base64, comma-separated, current last), e.g. from LINEAGE_ENCRYPTION_KEY.</summary>
    public string? EncryptionKeys { get; init; }

    /// <summary>Comma-separated globs of sensitive keys; null: <c>*password*,*secret*,*token*,*api_key*</c>.</summary>
    public string? SensitiveKeys { get; init; }

    /// <summary>Folder of the built web UI (index.html and assets/); null: <c>wwwroot</c> next to the server assembly.</summary>
    public string? UiRoot { get; init; }

    /// <summary>
    /// Let webhooks deliver to loopback, private (RFC 1918, unique-local), link-local and other non-public addresses. Off: such
    /// URLs are refused at creation and any such address a name resolves to is refused before connecting (SSRF). A URL that
    /// reaches this server itself is refused either way.
    /// </summary>
    public bool WebhookAllowPrivate { get; init; }

    /// <summary>How long a receiver has to answer one delivery.</summary>
    public TimeSpan WebhookTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts before a delivery is dead-lettered (redeliver it by hand).</summary>
    public int WebhookMaxAttempts { get; init; } = 10;

    /// <summary>The first retry's delay; each further retry doubles it (with jitter) up to <see cref="WebhookRetryMax"/>.</summary>
    public TimeSpan WebhookRetryBase { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan WebhookRetryMax { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How often the time-based alert rules (pending promotions, failed deployments, runs without data) are checked.</summary>
    public TimeSpan AlertInterval { get; init; } = TimeSpan.FromSeconds(30);
}
