using System.CommandLine;
using System.Text.Json;
using Lineage.Cli.Output;
using Lineage.Core.Errors;
using Lineage.Core.Governance;
using Lineage.Storage.Engine;
using Lineage.Storage.Governance;
using Spectre.Console;

namespace Lineage.Cli.Commands;

/// <summary>
/// Field-encryption keys: create, status, rotate, retire. Run on the database directly (like the other
/// governance commands) while servers keep running: servers re-read the key file within 2 s of a change
/// and on first sight of a value sealed by a key they do not hold yet.
/// </summary>
public static class KeyCommands
{
    public static readonly Option<string?> KeyFileOption = new("--key-file")
    {
        Description = "Key file for field encryption: base64 keys, one per line, the last one current (default: $LINEAGE_KEY_FILE)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("LINEAGE_KEY_FILE") is { Length: > 0 } path ? path : null,
    };

    private static string Actor => $"cli:{Environment.UserName}";

    private static string RequireKeyFile(ParseResult parse) =>
        parse.GetValue(KeyFileOption) ?? throw LineageException.Invalid("--key-file", "a key file is needed: pass --key-file or set LINEAGE_KEY_FILE");

    private static async Task<T> WithDb<T>(ParseResult parse, string? keyFile, CancellationToken ct, Func<Database, Task<T>> body)
    {
        await using var db = await Database.OpenAsync(parse.GetValue(ServerCommand.DbOption)!, ct: ct);
        if (keyFile is not null) db.Fields = new FieldProtection(KeySource.FromFile(keyFile), SensitiveKeys.Parse(null));
        return await body(db);
    }

    public static Command Create()
    {
        var create = new Command("new", """
            Add a new random 256-bit key to the key file (created with mode 0600 if missing). The new key is
            the current one: servers reading this file seal new values with it within 2 s. Older keys stay
            for reading until 'lineage keys rotate' has re-encrypted their values and 'lineage keys retire' removes them.

            Example:
              lineage keys new --key-file /etc/lineage/keys
            """) { KeyFileOption };
        create.SetAction(CliApp.Handle((parse, _) =>
        {
            var file = RequireKeyFile(parse);
            var id = KeySource.AppendNewKey(file);
            Terminal.Line($"added key {id} to {file}; it seals new values from now on");
            return Task.FromResult(0);
        }));

        var status = new Command("status", """
            How many encrypted values each key holds, per kind of field, and which keys the key file has.

            Example:
              lineage keys status --db ./lineage-data/lineage.db --key-file ./lineage-data/keys
            """) { ServerCommand.DbOption, KeyFileOption };
        status.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var keyFile = parse.GetValue(KeyFileOption);
            var keyring = keyFile is null ? null : KeySource.FromFile(keyFile).Current;
            var usage = await WithDb(parse, null, ct, db => new KeyRotation(db).StatusAsync(ct));
            var ids = usage.Select(u => u.KeyId).Concat(keyring?.Ids ?? []).Distinct().Order(StringComparer.Ordinal).ToList();
            string InFile(string id) => keyring is null ? "?" : keyring.CurrentId == id ? "current" : keyring.Has(id) ? "yes" : "MISSING";
            if (parse.GetValue(CliApp.JsonOption))
            {
                foreach (var id in ids)
                    Terminal.Line(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["keyId"] = id, ["inKeyFile"] = InFile(id),
                        ["values"] = usage.Where(u => u.KeyId == id && u.Values > 0).ToDictionary(u => u.Field, u => u.Values),
                    }));
                return 0;
            }
            var table = Terminal.Table("Key id", "In key file", "Values", "By field");
            foreach (var id in ids)
            {
                var mine = usage.Where(u => u.KeyId == id && u.Values > 0).ToList();
                table.AddRow(id, InFile(id), mine.Sum(u => u.Values).ToString("N0"), Terminal.Esc(string.Join(", ", mine.Select(u => $"{u.Field}: {u.Values:N0}"))));
            }
            Terminal.Write(table);
            return 0;
        }));

        var batch = new Option<int>("--batch-size") { Description = "Values re-encrypted per transaction", DefaultValueFactory = _ => 500 };
        var noNewKey = new Option<bool>("--no-new-key") { Description = "Do not add a key: re-encrypt to the key file's current key (one added with 'keys new' and copied to every server host)" };
        var wait = new Option<double>("--wait-seconds") { Description = "After adding the key, wait this long for running servers to load it", DefaultValueFactory = _ => 3 };
        var rotate = new Command("rotate", """
            Rotate the field-encryption key without downtime:
              1. add a new key to the key file (unless --no-new-key); servers load it within 2 s and seal new values with it,
              2. re-encrypt every value sealed by an older key, in batches (progress is printed),
              3. print what is left per key; retire old keys with 'lineage keys retire <id>'.
            Servers on other hosts need the new key first: run 'lineage keys new', copy the file to every host,
            then 'lineage keys rotate --no-new-key'.

            Examples:
              lineage keys rotate --db ./lineage-data/lineage.db --key-file ./lineage-data/keys
              lineage keys rotate --db postgres://lineage@db/lineage --key-file /etc/lineage/keys --no-new-key
            """) { ServerCommand.DbOption, KeyFileOption, batch, noNewKey, wait };
        rotate.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var file = RequireKeyFile(parse);
            if (parse.GetValue(batch) is < 1 or > 100_000) throw LineageException.Invalid("--batch-size", "--batch-size must be between 1 and 100,000");
            if (!parse.GetValue(noNewKey))
            {
                var id = KeySource.AppendNewKey(file);
                Terminal.Line($"added key {id} to {file}; waiting {parse.GetValue(wait):0.#} s for running servers to load it");
                await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(wait))), ct);
            }
            return await WithDb(parse, file, ct, async db =>
            {
                var current = FieldProtection.Of(db).Keys!.Current.CurrentId;
                Terminal.Line($"re-encrypting values to key {current} in batches of {parse.GetValue(batch):N0}");
                var done = await new KeyRotation(db).ReencryptAsync(parse.GetValue(batch),
                    new Progress<long>(n => Terminal.Line($"  {n:N0} values re-encrypted")), ct);
                await new AuditLog(db).AppendAsync(new AuditRecord(Actor, null, "key.rotate", $"key:{current}", 200,
                    JsonSerializer.Serialize(new Dictionary<string, long> { ["reencrypted"] = done })));
                var left = (await new KeyRotation(db).StatusAsync(ct)).Where(u => u.KeyId != current).GroupBy(u => u.KeyId)
                    .Select(g => (Id: g.Key, Values: g.Sum(u => u.Values))).ToList();
                Terminal.Line($"done: {done:N0} values re-encrypted to key {current}");
                foreach (var (id, values) in left)
                    Terminal.Line(values == 0
                        ? $"key {id} holds no values any more: lineage keys retire {id} --key-file {file}"
                        : $"key {id} still holds {values:N0} values (written meanwhile by a server that had not loaded the new key?): run rotate again with --no-new-key");
                return left.Any(l => l.Values > 0) ? 1 : 0;
            });
        }));

        var keyId = new Argument<string>("key-id") { Description = "The key to retire (see 'lineage keys status')" };
        var retire = new Command("retire", """
            Retire an old key once no value uses it: forget it in the database and remove it from the key file.
            Refused while values are still encrypted with it, and for the current key.

            Example:
              lineage keys retire 3f2a9c01 --db ./lineage-data/lineage.db --key-file ./lineage-data/keys
            """) { keyId, ServerCommand.DbOption, KeyFileOption };
        retire.SetAction(CliApp.Handle(async (parse, ct) =>
        {
            var file = RequireKeyFile(parse);
            var id = parse.GetValue(keyId)!;
            if (KeySource.FromFile(file).Current.CurrentId == id)
                throw LineageException.Conflict($"key '{id}' is the current key of '{file}'; rotate to a new key first");
            await WithDb(parse, file, ct, async db =>
            {
                await new KeyRotation(db).RetireAsync(id, Actor, ct);
                return 0;
            });
            KeySource.RemoveKey(file, id);
            Terminal.Line($"retired key {id}: no value uses it, and it is gone from {file}");
            return 0;
        }));

        return new Command("keys", """
            Field-encryption keys (params, tags and metadata under sensitive keys are stored with AES-256-GCM).
            See docs/governance.md, "Sensitive fields".
            """) { create, status, rotate, retire };
    }
}
