using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lineage.Core.Errors;

namespace Lineage.Cli.Import;

/// <summary>
/// What an import has finished, one JSON line per item, appended and flushed as each one completes: an interrupted
/// import resumes after the last line written. A torn last line (the process died while writing it) is ignored, so that
/// item is simply done again. The journal only saves time: the target also carries each imported item's source id
/// (tags), and the importer compares before writing, so a lost journal costs a re-check, never a duplicate.
/// </summary>
public sealed class ImportJournal : IDisposable
{
    private readonly ConcurrentDictionary<string, JournalEntry> _done = new(StringComparer.Ordinal);
    private readonly FileStream _file;
    private readonly Lock _write = new();

    private ImportJournal(string path, FileStream file)
    {
        Path = path;
        _file = file;
    }

    public string Path { get; }

    /// <summary>Opens (or creates) the journal of the import <paramref name="source"/> names (source, target, project); a journal of another import is refused.</summary>
    public static async Task<ImportJournal> OpenAsync(string path, string source, CancellationToken ct)
    {
        var entries = new List<JournalEntry>();
        if (File.Exists(path))
        {
            var lines = await File.ReadAllLinesAsync(path, ct);
            for (var i = 0; i < lines.Length; i++)
            {
                JournalEntry? entry;
                try
                {
                    entry = JsonSerializer.Deserialize(lines[i], JournalJson.Default.JournalEntry);
                }
                catch (JsonException) when (i == lines.Length - 1)
                {
                    break; // torn last line
                }
                catch (JsonException ex)
                {
                    throw LineageException.Invalid("--state", $"'{path}' line {i + 1} is not an import journal line ({ex.Message}); delete the file to start over");
                }
                if (entry is null) continue;
                if (i == 0 && entry.Kind == "source" && entry.Source != source)
                    throw LineageException.Invalid("--state", $"'{path}' is the journal of the import {entry.Source}, not {source}; use another --state");
                entries.Add(entry);
            }
        }
        var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var journal = new ImportJournal(path, file);
        foreach (var e in entries) journal._done[e.Kind + ":" + e.Source] = e;
        if (entries.Count == 0) journal.Append(new JournalEntry("source", source, null, null));
        return journal;
    }

    public bool TryGet(string kind, string sourceId, out JournalEntry entry) => _done.TryGetValue(kind + ":" + sourceId, out entry!);

    /// <summary>Every finished item of a kind: source id → target id.</summary>
    public IEnumerable<(string Source, string Target)> All(string kind) =>
        _done.Values.Where(e => e.Kind == kind && e.Target is not null).Select(e => (e.Source, e.Target!));

    /// <summary>Records an item as finished (written through to disk before returning).</summary>
    public void Done(string kind, string sourceId, string targetId, string fingerprint) =>
        Append(new JournalEntry(kind, sourceId, targetId, fingerprint));

    private void Append(JournalEntry entry)
    {
        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(entry, JournalJson.Default.JournalEntry) + "\n");
        lock (_write)
        {
            _file.Write(line);
            _file.Flush();
            _done[entry.Kind + ":" + entry.Source] = entry;
        }
    }

    public void Dispose() => _file.Dispose();
}

/// <param name="Kind">run, or "source" for the first line naming the source.</param>
/// <param name="Fingerprint">SHA-256 of the source item as it was imported: a changed item is imported again.</param>
public sealed record JournalEntry(string Kind, string Source, string? Target, string? Fingerprint);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JournalEntry))]
internal sealed partial class JournalJson : JsonSerializerContext;
