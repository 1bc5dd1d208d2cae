using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Events;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;
using Lineage.Storage.Tracking;

namespace Lineage.Storage.Events;

/// <summary>A webhook's queue head as claimed by one server: where to send, how to sign, and the next deliveries in event order.</summary>
public sealed record ClaimedWebhook(long Id, string Url, string Format, string Secret, IReadOnlyList<ClaimedDelivery> Deliveries);

public sealed record ClaimedDelivery(long Id, int Attempts, DomainEvent Event);

/// <summary>The outcome of one attempt: delivered, or failed with the time of the next attempt (null: dead-lettered).</summary>
public sealed record AttemptResult(long DeliveryId, bool Succeeded, int? ResponseCode, long LatencyMs, string? Error, long? NextAttemptAt);

/// <summary>
/// Webhooks (issue 14, part 3): their CRUD, the fan-out of numbered events into per-webhook delivery queues, and the
/// lease-based claim that lets exactly one of several servers sharing a PostgreSQL deliver a webhook's queue at a time
/// (in event order). Each public method is one transaction. Reads are project-scoped like every entity. Thread-safe.
/// <para>Errors: unknown or hidden webhook → RESOURCE_DOES_NOT_EXIST; name taken in the project → RESOURCE_ALREADY_EXISTS;
/// bad URL, type filter or format → INVALID_PARAMETER_VALUE.</para>
/// </summary>
public sealed class WebhookStore(Database db)
{
    /// <summary>Advisory lock key of the fan-out (PostgreSQL): one server moves events into queues at a time.</summary>
    public const long FanOutLockId = 0x4c_4e_45_56_46_41_4e; // "LNEVFAN"

    public const int MaxEventTypes = 50;

    private const string SelectWebhook = """
        SELECT w.id, p.name AS project, w.name, w.url, w.event_types, w.format, w.description, w.active, w.created_at, w.created_by,
               w.updated_at, w.updated_by
        FROM webhooks w JOIN projects p ON p.id = w.project_id
        """;

    public Database Database => db;

    /// <summary>A webhook was created, changed or had a delivery queued again in this process: wakes an idle delivery loop.</summary>
    public static EventSignal Changed { get; } = new();

    /// <summary>Creates a webhook that receives the events committed from now on. Returns it with its signing secret (shown only here).</summary>
    public Task<(Webhook Webhook, string Secret)> CreateAsync(WebhookSpec spec, string? secret = null)
    {
        Validate.Name(spec.Name, "name");
        var url = CheckUrl(spec.Url);
        var types = CheckTypes(spec.EventTypes, spec.Format);
        Validate.Text(spec.Description, "description", Limits.MaxDescriptionLength, required: false);
        secret = secret is null ? NewSecret() : CheckSecret(secret);
        return db.WriteAsync(async s =>
        {
            var project = spec.Project ?? s.RequestProject;
            var p = await ExperimentAccess.RequireProjectAsync(s, project);
            var now = Clock.NowMs();
            var sealedSecret = s.Fields.Seal(s, SecretBinding(p.Id, spec.Name), "secret", secret, marked: false, "secret");
            var id = await s.Connection.QueryFirstOrDefaultAsync<long?>("""
                INSERT INTO webhooks (project_id, name, url, event_types, format, secret, description, active, fanned_out_seq, created_at, created_by, updated_at, updated_by)
                VALUES (@projectId, @name, @url, @types, @format, @secret, @description, @active, (SELECT COALESCE(MAX(seq), 0) FROM events), @now, @by, @now, @by)
                ON CONFLICT (project_id, name) DO NOTHING RETURNING id
                """, new
            {
                projectId = p.Id, name = spec.Name, url, types = JsonSerializer.Serialize(types), format = spec.Format, secret = sealedSecret,
                description = spec.Description, active = spec.Active ? 1 : 0, now, by = s.Actor,
            }, s.Transaction) ?? throw LineageException.AlreadyExists($"webhook '{spec.Name}' already exists in project '{project}'");
            s.OnCommitted(Changed.Notify);
            return (await RequireAsync(s, id), secret);
        });
    }

    public Task<Webhook> GetAsync(long id) => db.ReadAsync(s => RequireAsync(s, id));

    /// <summary>The webhooks of one project (or of every visible project), by id.</summary>
    public Task<IReadOnlyList<Webhook>> ListAsync(string? project) =>
        db.ReadAsync<IReadOnlyList<Webhook>>(async s =>
        {
            long? projectId = project is null ? null : (await ExperimentAccess.RequireProjectAsync(s, project)).Id;
            var rows = await s.Connection.QueryAsync<WebhookRow>(
                $"{SelectWebhook} WHERE 1 = 1{(projectId is null ? "" : " AND w.project_id = @projectId")}{s.Visible("w.project_id")} ORDER BY w.id",
                new { projectId }, s.Transaction);
            return rows.Select(r => r.ToModel()).ToList();
        });

    public Task<Webhook> UpdateAsync(long id, WebhookChange change)
    {
        var url = change.Url is null ? null : CheckUrl(change.Url);
        Validate.Text(change.Description, "description", Limits.MaxDescriptionLength, required: false);
        if (change.Name is not null) Validate.Name(change.Name, "name");
        var newSecret = change.Secret is null ? null : CheckSecret(change.Secret);
        return db.WriteAsync(async s =>
        {
            var current = await RequireAsync(s, id);
            var types = change.EventTypes is null ? null : JsonSerializer.Serialize(CheckTypes(change.EventTypes, current.Format));
            var row = await SealedSecretAsync(s, id);
            var name = change.Name ?? current.Name;
            if (name != current.Name && await s.Connection.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM webhooks WHERE project_id = @projectId AND name = @name", new { projectId = row.ProjectId, name }, s.Transaction) > 0)
                throw LineageException.AlreadyExists($"webhook '{name}' already exists in project '{current.Project}'");
            // The sealed secret is bound to the webhook's name: a rename seals the same secret again under the new one.
            var secret = newSecret ?? (name != current.Name ? s.Fields.Open(SecretBinding(row.ProjectId, current.Name), row.Secret) : null);
            var sealedSecret = secret is null ? null : s.Fields.Seal(s, SecretBinding(row.ProjectId, name), "secret", secret, marked: false, "secret");
            await s.Connection.ExecuteAsync("""
                UPDATE webhooks SET url = COALESCE(@url, url), event_types = COALESCE(@types, event_types), description = COALESCE(@description, description),
                    active = COALESCE(@active, active), name = @name, secret = COALESCE(@secret, secret), updated_at = @now, updated_by = @by
                WHERE id = @id
                """, new
                {
                    id, url, types, description = change.Description, active = change.Active is { } a ? a ? 1 : 0 : (int?)null, name, secret = sealedSecret,
                    now = Clock.NowMs(), by = s.Actor,
                },
                s.Transaction);
            s.OnCommitted(Changed.Notify);
            return await RequireAsync(s, id);
        });
    }

    /// <summary>The webhook with its signing secret in clear, for a delivery sent outside the queue (a synchronous test).</summary>
    public Task<(Webhook Webhook, string Secret)> SigningTargetAsync(long id) =>
        db.ReadAsync(async s =>
        {
            var hook = await RequireAsync(s, id);
            var row = await SealedSecretAsync(s, id);
            return (hook, s.Fields.Open(SecretBinding(row.ProjectId, hook.Name), row.Secret));
        });

    /// <summary>Deletes the webhook and its delivery log.</summary>
    public Task<bool> DeleteAsync(long id) =>
        db.WriteAsync(async s =>
        {
            await RequireAsync(s, id);
            await s.Connection.ExecuteAsync("DELETE FROM webhook_deliveries WHERE webhook_id = @id", new { id }, s.Transaction);
            await s.Connection.ExecuteAsync("DELETE FROM webhooks WHERE id = @id", new { id }, s.Transaction);
            return true;
        });

    /// <summary>The delivery log, newest event first; optionally one status; <paramref name="beforeEvent"/> pages.</summary>
    public Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(long id, string? status, int limit, long? beforeEvent)
    {
        if (status is not (null or DeliveryStatus.Pending or DeliveryStatus.Succeeded or DeliveryStatus.Dead))
            throw LineageException.Invalid("status", $"'status' must be pending, succeeded or dead, got '{Validate.Shorten(status)}'");
        Validate.PageSize(limit);
        return db.ReadAsync<IReadOnlyList<WebhookDelivery>>(async s =>
        {
            await RequireAsync(s, id);
            var rows = await s.Connection.QueryAsync<DeliveryRow>($"""
                SELECT d.id, d.webhook_id, d.event_seq, e.type AS event_type, d.status, d.attempts, d.next_attempt_at, d.response_code, d.latency_ms,
                       d.last_error, d.last_attempt_at, d.created_at, d.delivered_at
                FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
                WHERE d.webhook_id = @id{(status is null ? "" : " AND d.status = @status")}{(beforeEvent is null ? "" : " AND d.event_seq < @beforeEvent")}
                ORDER BY d.event_seq DESC LIMIT @limit
                """, new { id, status, beforeEvent, limit }, s.Transaction);
            return rows.Select(r => r.ToModel()).ToList();
        });
    }

    /// <summary>Queues a delivery again from its first attempt (a dead or delivered one: manual redelivery). It keeps its place in event order.</summary>
    public Task<WebhookDelivery> RedeliverAsync(long id, long deliveryId) =>
        db.WriteAsync(async s =>
        {
            await RequireAsync(s, id);
            var now = Clock.NowMs();
            if (await s.Connection.ExecuteAsync("""
                    UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = @now WHERE id = @deliveryId AND webhook_id = @id
                    """, new { id, deliveryId, now }, s.Transaction) == 0)
                throw LineageException.NotFound($"webhook {id} has no delivery {deliveryId}");
            s.OnCommitted(Changed.Notify);
            return (await s.Connection.QueryAsync<DeliveryRow>("""
                SELECT d.id, d.webhook_id, d.event_seq, e.type AS event_type, d.status, d.attempts, d.next_attempt_at, d.response_code, d.latency_ms,
                       d.last_error, d.last_attempt_at, d.created_at, d.delivered_at
                FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = @deliveryId
                """, new { deliveryId }, s.Transaction)).Single().ToModel();
        });

    /// <summary>
    /// "Send test event": appends a <c>webhook.test</c> event for this webhook only. It goes through the outbox, the queue and
    /// the signing like any event, so a test that arrives proves the whole path.
    /// </summary>
    public Task<bool> SendTestAsync(long id) =>
        db.WriteAsync(async s =>
        {
            var w = await RequireAsync(s, id);
            await EventOutbox.AppendAsync(s, EventTypes.WebhookTest, EventProject.Named(w.Project), $"webhook:{id}",
                TestPayload(w));
            return true;
        });

    // ---- delivery machinery (the server's delivery service) -------------------------------------------------

    /// <summary>
    /// A read that tells whether any webhook is active and whether <see cref="FanOutAsync"/> or <see cref="ClaimAsync"/> has
    /// anything to do, so the delivery loop costs the write path nothing while no webhook needs work (the SQLite writer is shared),
    /// and waits for a webhook change instead of new events while none is active.
    /// </summary>
    public Task<(bool Any, bool FanOut, bool Claim)> PendingWorkAsync() =>
        db.ReadAsync(async s =>
        {
            var now = Clock.NowMs();
            var row = await s.Connection.QuerySingleAsync<(long Any, long FanOut, long Claim)>("""
                SELECT
                  CASE WHEN EXISTS (SELECT 1 FROM webhooks WHERE active = 1) THEN 1 ELSE 0 END,
                  CASE WHEN EXISTS (SELECT 1 FROM webhooks WHERE active = 1 AND fanned_out_seq < (SELECT COALESCE(MAX(seq), 0) FROM events)) THEN 1 ELSE 0 END,
                  CASE WHEN EXISTS (SELECT 1 FROM webhooks w WHERE w.active = 1 AND (w.lease_until IS NULL OR w.lease_until < @now)
                       AND (SELECT d.next_attempt_at FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending'
                            ORDER BY d.event_seq LIMIT 1) <= @now) THEN 1 ELSE 0 END
                """, new { now }, s.Transaction);
            return (row.Any != 0, row.FanOut != 0, row.Claim != 0);
        });

    /// <summary>
    /// Moves numbered events past each active webhook's position into its queue (matching project and type filter), at
    /// most <paramref name="batch"/> events a call; returns how many events were read. One server at a time on PostgreSQL
    /// (advisory lock), so positions move forward once.
    /// </summary>
    public async Task<int> FanOutAsync(int batch = 2000, CancellationToken ct = default)
    {
        var read = await db.WriteAsync(async s =>
        {
            await s.Dialect.TransactionLockAsync(s, FanOutLockId);
            var hooks = (await s.Connection.QueryAsync<FanOutRow>(
                "SELECT id, project_id, event_types, format, fanned_out_seq FROM webhooks WHERE active = 1", transaction: s.Transaction)).ToList();
            if (hooks.Count == 0) return 0;
            var from = hooks.Min(h => h.FannedOutSeq);
            var events = (await s.Connection.QueryAsync<FanOutEvent>(
                "SELECT seq, type, project_id, entity, payload FROM events WHERE seq > @from ORDER BY seq LIMIT @batch",
                new { from, batch }, s.Transaction)).ToList();
            if (events.Count == 0) return 0;
            var now = Clock.NowMs();
            var last = events[^1].Seq;
            foreach (var h in hooks)
            {
                var patterns = JsonSerializer.Deserialize<List<string>>(h.EventTypes) ?? [];
                var matching = events.Where(e => e.Seq > h.FannedOutSeq && e.ProjectId == h.ProjectId && Wants(h, patterns, e)).Select(e => e.Seq).ToList();
                if (matching.Count > 0)
                    await s.Connection.ExecuteAsync($"""
                        INSERT INTO webhook_deliveries (webhook_id, event_seq, status, attempts, next_attempt_at, created_at)
                        SELECT @id, seq, 'pending', 0, @now, @now FROM events WHERE {s.Dialect.InSet("seq", "seqs")}
                        ON CONFLICT (webhook_id, event_seq) DO NOTHING
                        """, new { id = h.Id, now, seqs = s.Dialect.Set(matching) }, s.Transaction);
                if (h.FannedOutSeq < last)
                    await s.Connection.ExecuteAsync("UPDATE webhooks SET fanned_out_seq = @last WHERE id = @Id AND fanned_out_seq < @last",
                        new { h.Id, last }, s.Transaction);
            }
            return events.Count;
        }, ct: ct);
        return read;
    }

    /// <summary>Whether a webhook takes an event: a test event only by its own webhook; MLflow webhooks by MLflow event name.</summary>
    private static bool Wants(FanOutRow h, List<string> patterns, FanOutEvent e)
    {
        if (e.Type == EventTypes.WebhookTest) return e.Entity == $"webhook:{h.Id}";
        if (h.Format == WebhookFormat.Mlflow)
            return MlflowWebhookEvents.NameOf(e.Type, e.Payload) is { } name && patterns.Contains(name);
        return patterns.Any(p => EventTypes.Matches(p, e.Type));
    }

    /// <summary>
    /// Leases up to <paramref name="maxWebhooks"/> webhooks whose queue head is due and that no live lease holds, and returns
    /// each with its first <paramref name="batch"/> pending deliveries in event order. On PostgreSQL the candidate rows are
    /// locked <c>FOR UPDATE SKIP LOCKED</c>, so servers claiming at once take different webhooks; the lease (not a lock) then
    /// keeps the webhook theirs while they send, and a crashed server's lease simply expires.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedWebhook>> ClaimAsync(string server, TimeSpan lease, int maxWebhooks, int batch, CancellationToken ct = default)
    {
        var claimed = await db.WriteAsync(async s =>
        {
            var now = Clock.NowMs();
            var ids = (await s.Connection.QueryAsync<long>($"""
                SELECT w.id FROM webhooks w
                WHERE w.active = 1 AND (w.lease_until IS NULL OR w.lease_until < @now)
                  AND (SELECT d.next_attempt_at FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending'
                       ORDER BY d.event_seq LIMIT 1) <= @now
                ORDER BY w.id LIMIT @maxWebhooks{(s.Dialect == SqlDialect.Postgres ? " FOR UPDATE SKIP LOCKED" : "")}
                """, new { now, maxWebhooks }, s.Transaction)).ToList();
            if (ids.Count == 0) return [];
            await s.Connection.ExecuteAsync($"UPDATE webhooks SET leased_by = @server, lease_until = @until WHERE {s.Dialect.InSet("id", "ids")}",
                new { server, until = now + (long)lease.TotalMilliseconds, ids = s.Dialect.Set(ids) }, s.Transaction);
            var result = new List<ClaimedWebhook>(ids.Count);
            foreach (var id in ids)
            {
                var w = await s.Connection.QuerySingleAsync<(long Id, long ProjectId, string Name, string Url, string Format, string Secret)>(
                    "SELECT id, project_id, name, url, format, secret FROM webhooks WHERE id = @id", new { id }, s.Transaction);
                var deliveries = (await s.Connection.QueryAsync<ClaimRow>("""
                    SELECT d.id, d.attempts, e.seq, e.type, p.name AS project, e.time, e.actor, e.entity, e.payload
                    FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq JOIN projects p ON p.id = e.project_id
                    WHERE d.webhook_id = @id AND d.status = 'pending' ORDER BY d.event_seq LIMIT @batch
                    """, new { id, batch }, s.Transaction))
                    .Select(r => new ClaimedDelivery(r.Id, (int)r.Attempts, new DomainEvent(r.Seq, r.Type, r.Project, r.Time, r.Actor, r.Entity, r.Payload)))
                    .ToList();
                result.Add(new ClaimedWebhook(w.Id, w.Url, w.Format, s.Fields.Open(SecretBinding(w.ProjectId, w.Name), w.Secret), deliveries));
            }
            return result;
        }, ct: ct);
        return claimed;
    }

    /// <summary>
    /// Records attempts and, when <paramref name="release"/>, releases the lease, in one transaction. A delivery another server
    /// already finished is left as it is.
    /// </summary>
    public Task CompleteAsync(string server, long webhookId, IReadOnlyList<AttemptResult> results, bool release, CancellationToken ct = default) =>
        db.WriteAsync(async s =>
        {
            var now = Clock.NowMs();
            foreach (var r in results)
                await s.Connection.ExecuteAsync("""
                    UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = @now, response_code = @ResponseCode, latency_ms = @LatencyMs,
                        last_error = @Error,
                        status = CASE WHEN @Succeeded THEN 'succeeded' WHEN @NextAttemptAt IS NULL THEN 'dead' ELSE 'pending' END,
                        next_attempt_at = COALESCE(@NextAttemptAt, next_attempt_at),
                        delivered_at = CASE WHEN @Succeeded THEN @now ELSE delivered_at END
                    WHERE id = @DeliveryId AND status = 'pending'
                    """, new { now, r.ResponseCode, r.LatencyMs, Error = r.Error is { Length: > 1000 } e ? e[..1000] : r.Error, r.Succeeded, r.NextAttemptAt, r.DeliveryId },
                    s.Transaction);
            if (release)
                await s.Connection.ExecuteAsync("UPDATE webhooks SET leased_by = NULL, lease_until = NULL WHERE id = @webhookId AND leased_by = @server",
                    new { webhookId, server }, s.Transaction);
            return true;
        }, ct: ct, durable: false);

    // ---- rules ------------------------------------------------------------------------------------------------

    /// <summary>http(s) with a host, no credentials in it. Where it may point (SSRF) is the server's decision, made before this.</summary>
    public static string CheckUrl(string? url)
    {
        Validate.Text(url, "url", 2000);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            throw LineageException.Invalid("url", $"'url' must be an absolute http:// or https:// URL, got '{Validate.Shorten(url!)}'");
        if (uri.UserInfo.Length > 0) throw LineageException.Invalid("url", "'url' must not carry credentials; sign deliveries with the webhook's secret instead");
        return uri.AbsoluteUri;
    }

    private static List<string> CheckTypes(IReadOnlyList<string>? types, string format)
    {
        if (format is not (WebhookFormat.Lineage or WebhookFormat.Mlflow))
            throw LineageException.Invalid("format", $"'format' must be lineage or mlflow, got '{Validate.Shorten(format)}'");
        if (types is null || types.Count == 0) return format == WebhookFormat.Mlflow ? throw LineageException.Invalid("events", "give at least one event") : ["*"];
        if (types.Count > MaxEventTypes) throw LineageException.Invalid("eventTypes", $"at most {MaxEventTypes} event types, got {types.Count}");
        foreach (var t in types)
            if (format == WebhookFormat.Mlflow ? !MlflowWebhookEvents.Names.Contains(t) : !EventTypes.IsValidPattern(t))
                throw LineageException.Invalid("eventTypes", format == WebhookFormat.Mlflow
                    ? $"unknown MLflow webhook event '{Validate.Shorten(t)}'; use one of {string.Join(", ", MlflowWebhookEvents.Names)}"
                    : $"unknown event type '{Validate.Shorten(t)}'; use one of {string.Join(", ", EventTypes.All)}, 'entity.*' or '*'");
        return types.Distinct().ToList();
    }

    /// <summary>Standard Webhooks secret: <c>whsec_</c> + base64 of 32 random bytes (the bytes are the HMAC key).</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static string CheckSecret(string secret)
    {
        Validate.Text(secret, "secret", 200);
        if (secret.Length < 8) throw LineageException.Invalid("secret", "'secret' must be at least 8 characters");
        return secret;
    }

    private static Task<(long ProjectId, string Secret)> SealedSecretAsync(DbSession s, long id) =>
        s.Connection.QuerySingleAsync<(long ProjectId, string Secret)>("SELECT project_id, secret FROM webhooks WHERE id = @id", new { id }, s.Transaction);

    /// <summary>The payload of a <c>webhook.test</c> event, queued (<see cref="SendTestAsync"/>) or sent at once by the server.</summary>
    public static object TestPayload(Webhook w) => new { webhookId = w.Id, name = w.Name, message = "test event sent from Lineage" };

    private static string SecretBinding(long projectId, string name) => $"webhooks/{projectId}/{name}/secret";

    private static async Task<Webhook> RequireAsync(DbSession s, long id) =>
        (await s.Connection.QueryFirstOrDefaultAsync<WebhookRow>($"{SelectWebhook} WHERE w.id = @id{s.Visible("w.project_id")}", new { id }, s.Transaction))
        ?.ToModel() ?? throw LineageException.NotFound($"webhook {id} does not exist");

    private sealed class WebhookRow
    {
        public long Id { get; set; }
        public string Project { get; set; } = "";
        public string Name { get; set; } = "";
        public string Url { get; set; } = "";
        public string EventTypes { get; set; } = "[]";
        public string Format { get; set; } = "";
        public string? Description { get; set; }
        public long Active { get; set; }
        public long CreatedAt { get; set; }
        public string? CreatedBy { get; set; }
        public long UpdatedAt { get; set; }
        public string? UpdatedBy { get; set; }

        public Webhook ToModel() => new(Id, Project, Name, Url, JsonSerializer.Deserialize<List<string>>(EventTypes) ?? [], Format, Description, Active != 0,
            CreatedAt, CreatedBy, UpdatedAt, UpdatedBy);
    }

    private sealed class DeliveryRow
    {
        public long Id { get; set; }
        public long WebhookId { get; set; }
        public long EventSeq { get; set; }
        public string EventType { get; set; } = "";
        public string Status { get; set; } = "";
        public long Attempts { get; set; }
        public long NextAttemptAt { get; set; }
        public long? ResponseCode { get; set; }
        public long? LatencyMs { get; set; }
        public string? LastError { get; set; }
        public long? LastAttemptAt { get; set; }
        public long CreatedAt { get; set; }
        public long? DeliveredAt { get; set; }

        public WebhookDelivery ToModel() => new(Id, WebhookId, EventSeq, EventType, Status, (int)Attempts,
            Status == DeliveryStatus.Pending ? NextAttemptAt : null, (int?)ResponseCode, LatencyMs, LastError, LastAttemptAt, CreatedAt, DeliveredAt);
    }

    private sealed class FanOutRow
    {
        public long Id { get; set; }
        public long ProjectId { get; set; }
        public string EventTypes { get; set; } = "[]";
        public string Format { get; set; } = "";
        public long FannedOutSeq { get; set; }
    }

    private sealed class FanOutEvent
    {
        public long Seq { get; set; }
        public string Type { get; set; } = "";
        public long ProjectId { get; set; }
        public string Entity { get; set; } = "";
        public string Payload { get; set; } = "{}";
    }

    private sealed class ClaimRow
    {
        public long Id { get; set; }
        public long Attempts { get; set; }
        public long Seq { get; set; }
        public string Type { get; set; } = "";
        public string Project { get; set; } = "";
        public long Time { get; set; }
        public string? Actor { get; set; }
        public string Entity { get; set; } = "";
        public string Payload { get; set; } = "{}";
    }
}
