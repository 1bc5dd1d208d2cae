using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Dapper;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Core.Tracking;
using Lineage.Storage.Engine;

namespace Lineage.Storage.Governance;

/// <summary>
/// Encryption of sensitive fields at rest, and who sees them. Sensitive: run params and tags,
/// experiment tags and top-level artifact metadata entries whose key matches <see cref="Patterns"/>,
/// and run params and tags marked sensitive on write. With a keyring they are stored sealed
/// (<see cref="FieldEnvelope"/>); without one, pattern matches are stored as sent (the server says
/// "field encryption: off") and an explicit mark is refused.
/// <para>Reads: a caller whose <see cref="RevealRights"/> may not reveal sees <see cref="SensitiveKeys.Redacted"/>;
/// one who may sees the plaintext and the field is recorded in its rights, for the audit log. The result
/// of a write made under an Idempotency-Key is always redacted (<see cref="DbSession.KeepsResult"/>), because it is
/// kept in the database for replays. In-process callers without a scope (the CLI on the database, tests) see plaintext.</para>
/// Thread-safe.
/// </summary>
public sealed class FieldProtection(KeySource? keys, SensitiveKeys patterns) : IValueProtection
{
    /// <summary>No keyring, default patterns: redaction without encryption.</summary>
    public static FieldProtection Off { get; } = new(null, SensitiveKeys.Parse(null));

    /// <summary>The protection <paramref name="db"/> was given, for governance's own work (key rotation, start-up checks).</summary>
    public static FieldProtection Of(Database db) => db.Fields as FieldProtection ?? Off;

    private readonly ConcurrentDictionary<string, bool> _recordedKeyIds = new();

    public SensitiveKeys Patterns { get; } = patterns;

    public KeySource? Keys { get; } = keys;

    public bool Encrypts => Keys is not null;

    public bool IsSensitive(string key) => Patterns.Matches(key);

    /// <summary>What to store for <paramref name="value"/> under <paramref name="key"/>, bound to <paramref name="binding"/>.</summary>
    public string Seal(DbSession s, string binding, string key, string value, bool marked, string field)
    {
        var sensitive = marked || Patterns.Matches(key);
        var keyring = Keys?.Current;
        if (!sensitive || keyring is null)
        {
            if (marked)
                throw LineageException.Invalid(field, $"'{key}' is marked sensitive but this server has no encryption key configured " +
                                                      "(--key-file / LINEAGE_KEY_FILE or LINEAGE_ENCRYPTION_KEY); refusing to store it in plaintext");
            // Stored as sent: such a value must not look like an envelope, or reading it would fail its integrity check.
            if (FieldEnvelope.IsSealed(value))
                throw LineageException.Invalid(field, $"values may not start with '{FieldEnvelope.Prefix}' (reserved for encrypted values)");
            return value;
        }
        return SealWithCurrent(s, keyring, binding, value);
    }

    /// <summary>Re-encrypts a sealed value with the current key (key rotation); plaintext values are left as they are.</summary>
    internal string Reseal(DbSession s, string binding, string stored) =>
        FieldEnvelope.IsSealed(stored) ? SealWithCurrent(s, Keys!.Current, binding, Open(binding, stored)) : stored;

    private string SealWithCurrent(DbSession s, Keyring keyring, string binding, string value)
    {
        if (!_recordedKeyIds.ContainsKey(keyring.CurrentId))
        {
            // Once per key and process: the database remembers which keys it needs (start-up check, key status).
            s.Connection.Execute("INSERT INTO encryption_keys (key_id, first_used_at) VALUES (@id, @now) ON CONFLICT (key_id) DO NOTHING",
                new { id = keyring.CurrentId, now = Clock.NowMs() }, s.Transaction);
            s.OnCommitted(() => _recordedKeyIds[keyring.CurrentId] = true);
        }
        return FieldEnvelope.Seal(keyring, binding, value);
    }

    /// <summary>Forgets that a key was recorded in the database (after <c>keys retire</c> removed its row).</summary>
    internal void ForgetRecorded(string keyId) => _recordedKeyIds.TryRemove(keyId, out _);

    /// <summary>What the current caller sees of a stored value; <paramref name="label"/> names it in the audit log.</summary>
    public string Show(DbSession s, string binding, string label, string key, string stored)
    {
        var isSealed = FieldEnvelope.IsSealed(stored);
        if (!isSealed && !Patterns.Matches(key)) return stored;
        var scope = s.Operation.Reveal;
        if (s.KeepsResult || scope is { MayReveal: false }) return SensitiveKeys.Redacted;
        string plain;
        try
        {
            plain = isSealed ? Open(binding, stored) : stored;
        }
        catch (Exception ex) when (ex is FieldTamperedException or FieldKeyMissingException)
        {
            // A value that cannot be opened (altered, or a plain value stored before such values were refused) reads as
            // redacted: it hides that one field and never fails the whole read or list (issue 17). Keys the database
            // uses are checked at start-up, so a missing key here means a value no key of ours ever sealed.
            return SensitiveKeys.Redacted;
        }
        scope?.Record(label);
        return plain;
    }

    /// <summary>Decrypts for the store's own use (comparisons, re-encryption); not a reveal.</summary>
    public string Open(string binding, string stored)
    {
        if (!FieldEnvelope.IsSealed(stored)) return stored;
        var keyring = Keys?.Current ?? throw new FieldKeyMissingException(FieldEnvelope.KeyIdOf(stored) ?? "?");
        try
        {
            return FieldEnvelope.Open(keyring, binding, stored);
        }
        catch (FieldKeyMissingException) when (Keys!.Reload() is { } reloaded && reloaded != keyring)
        {
            // A key added during rotation is read from the key file on first sight of a value it sealed.
            return FieldEnvelope.Open(reloaded, binding, stored);
        }
    }

    internal static string MetadataBinding(long nameId, long version, string key) => $"artifact_versions/{nameId}/{version}/metadata/{key}";

    /// <summary>Seals the top-level entries of a metadata object whose keys are sensitive (each entry's JSON text).</summary>
    public string SealMetadata(DbSession s, long nameId, long version, string metadata)
    {
        if (metadata == "{}" || !MayHoldSensitive(metadata)) return metadata;
        var obj = JsonNode.Parse(metadata)!.AsObject();
        var changed = false;
        foreach (var (key, node) in obj.ToList())
        {
            // A plain string entry that looks sealed would be taken for ciphertext on every read.
            if (node is JsonValue plain && plain.TryGetValue<string>(out var str) && FieldEnvelope.IsSealed(str))
                throw LineageException.Invalid($"metadata.{key}", $"values may not start with '{FieldEnvelope.Prefix}' (reserved for encrypted values)");
            var text = node?.ToJsonString() ?? "null";
            var stored = Seal(s, MetadataBinding(nameId, version, key), key, text, marked: false, field: $"metadata.{key}");
            if (ReferenceEquals(stored, text)) continue;
            obj[key] = stored;
            changed = true;
        }
        return changed ? obj.ToJsonString() : metadata;
    }

    /// <summary>Metadata as the current caller may see it: sensitive entries redacted or decrypted.</summary>
    public string ShowMetadata(DbSession s, long nameId, long version, string label, string metadata)
    {
        if (metadata == "{}" || !MayHoldSensitive(metadata)) return metadata;
        var obj = JsonNode.Parse(metadata)!.AsObject();
        var changed = false;
        foreach (var (key, node) in obj.ToList())
        {
            var isSealed = node is JsonValue v && v.TryGetValue<string>(out var text) && FieldEnvelope.IsSealed(text);
            if (!isSealed && !Patterns.Matches(key)) continue;
            var stored = isSealed ? node!.GetValue<string>() : node?.ToJsonString() ?? "null";
            var shown = Show(s, MetadataBinding(nameId, version, key), $"{label} metadata {key}", key, stored);
            obj[key] = shown == SensitiveKeys.Redacted ? JsonValue.Create(shown) : isSealed ? JsonNode.Parse(shown) : node?.DeepClone();
            changed = true;
        }
        return changed ? obj.ToJsonString() : metadata;
    }

    /// <summary>
    /// Whether any top-level entry is sealed or has a sensitive key: a scan of the property names, so the
    /// common case (nothing sensitive) costs no document tree; listings and lineage load metadata by the thousand.
    /// </summary>
    private bool MayHoldSensitive(string metadata)
    {
        if (metadata.Contains(FieldEnvelope.Prefix, StringComparison.Ordinal)) return true;
        var reader = new System.Text.Json.Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(metadata));
        while (reader.Read())
            if (reader.TokenType == System.Text.Json.JsonTokenType.PropertyName && reader.CurrentDepth == 1 && Patterns.Matches(reader.GetString()!))
                return true;
        return false;
    }

    /// <summary>
    /// Refuses a database that holds values sealed with keys this process lacks: it could not serve
    /// them, and new writes would mix keys nobody holds.
    /// </summary>
    public async Task CheckDatabaseAsync(Database db, CancellationToken ct = default)
    {
        var used = await db.ReadAsync(async s => (await s.Connection.QueryAsync<string>("SELECT key_id FROM encryption_keys ORDER BY key_id")).ToList(), ct);
        var keyring = Keys?.Current;
        var missing = used.Where(id => keyring is null || !keyring.Has(id)).ToList();
        if (missing.Count == 0) return;
        throw new LineageException(ErrorCode.Unavailable, keyring is null
            ? $"this database holds values encrypted with key(s) {string.Join(", ", missing)} but no encryption key is configured; " +
              "start with --key-file (or LINEAGE_KEY_FILE / LINEAGE_ENCRYPTION_KEY) holding those keys"
            : $"this database holds values encrypted with key(s) {string.Join(", ", missing)}, which the configured keyring " +
              $"({string.Join(", ", keyring.Ids)}) does not hold; a wrong key file? Add the missing keys (oldest first, current key last)");
    }
}

/// <summary>
/// Where the keyring comes from: a key file (re-read when it changes, checked at most every 2 s, so
/// running servers learn a key added by <c>lineage keys rotate</c>), or fixed text (an environment variable).
/// Thread-safe.
/// </summary>
public sealed class KeySource
{
    private readonly string? _path;
    private readonly object _gate = new();
    private Keyring _current;
    private DateTime _stamp;
    private long _nextCheck;

    private KeySource(string? path, Keyring keyring, DateTime stamp) => (_path, _current, _stamp) = (path, keyring, stamp);

    /// <summary>Keys in base64, comma- or line-separated, oldest first (LINEAGE_ENCRYPTION_KEY).</summary>
    public static KeySource FromText(string text, string source) => new(null, Keyring.Parse(text, source), default);

    /// <summary>A key file: base64 keys one per line, oldest first; the last seals new values. Must not be readable by others.</summary>
    public static KeySource FromFile(string path)
    {
        var (keyring, stamp) = Read(path);
        return new KeySource(Path.GetFullPath(path), keyring, stamp);
    }

    public string? FilePath => _path;

    public Keyring Current
    {
        get
        {
            if (_path is not null && Environment.TickCount64 >= Volatile.Read(ref _nextCheck)) Reload();
            return _current;
        }
    }

    /// <summary>Re-reads the key file if it changed; keeps the last good keyring if it cannot be read.</summary>
    public Keyring Reload()
    {
        if (_path is null) return _current;
        lock (_gate)
        {
            Volatile.Write(ref _nextCheck, Environment.TickCount64 + 2000);
            try
            {
                if (File.GetLastWriteTimeUtc(_path) != _stamp) (_current, _stamp) = Read(_path);
            }
            catch (Exception ex) when (ex is IOException or LineageException or UnauthorizedAccessException)
            {
                // A half-written or briefly missing file must not take the server down; the next check retries.
            }
            return _current;
        }
    }

    /// <summary>
    /// Appends a new random key to a key file (created with mode 0600 if missing), making it the
    /// current key; returns its id. The file is replaced atomically, so a server never reads half of it.
    /// </summary>
    public static string AppendNewKey(string path)
    {
        var existing = File.Exists(path) ? File.ReadAllText(path) : "";
        if (existing.Length > 0) Keyring.Parse(existing, $"key file '{path}'"); // never append to a file we could not read back
        var key = Keyring.NewKey();
        var id = Keyring.IdOf(key);
        var text = (existing.Length == 0 || existing.EndsWith('\n') ? existing : existing + "\n")
                   + $"# key {id}, added {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z; the last key seals new values\n{Convert.ToBase64String(key)}\n";
        Replace(path, text);
        return id;
    }

    /// <summary>Removes a key (and its comment line) from a key file; refuses to remove the current key.</summary>
    public static void RemoveKey(string path, string id)
    {
        var keyring = Read(path).Item1;
        if (!keyring.Has(id)) throw LineageException.NotFound($"key '{id}' is not in key file '{path}' (keys: {string.Join(", ", keyring.Ids)})");
        if (keyring.CurrentId == id) throw LineageException.Conflict($"key '{id}' is the current key of '{path}'; rotate to a new key first");
        var kept = File.ReadAllLines(path).Where(line =>
        {
            var t = line.Trim();
            if (t.StartsWith($"# key {id},", StringComparison.Ordinal)) return false;
            try { return t.Length == 0 || t.StartsWith('#') || Keyring.IdOf(Convert.FromBase64String(t)) != id; }
            catch (FormatException) { return true; }
        });
        Replace(path, string.Join("\n", kept) + "\n");
    }

    private static void Replace(string path, string text)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Environment.ProcessId;
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, full, overwrite: true);
    }

    private static (Keyring, DateTime) Read(string path)
    {
        if (!File.Exists(path)) throw LineageException.Invalid("key-file", $"key file '{path}' does not exist (create one with 'lineage keys new --key-file {path}')");
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite)) != 0)
            throw LineageException.Invalid("key-file", $"key file '{path}' is readable or writable by other users; run 'chmod 600 {path}'");
        var stamp = File.GetLastWriteTimeUtc(path);
        return (Keyring.Parse(File.ReadAllText(path), $"key file '{path}'"), stamp);
    }
}
