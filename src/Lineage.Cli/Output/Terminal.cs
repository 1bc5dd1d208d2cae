using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Spectre.Console;

namespace Lineage.Cli.Output;

/// <summary>
/// Where the CLI writes: tables and progress through Spectre.Console (plain, fixed width when
/// output is redirected or NO_COLOR is set), JSON for scripts, errors to stderr.
/// </summary>
public static class Terminal
{
    private static TextWriter _out = System.Console.Out;
    private static TextWriter _err = System.Console.Error;

    public static IAnsiConsole Console { get; private set; } = AnsiConsole.Console;

    /// <summary>True when a person is watching (progress bars make sense).</summary>
    public static bool Interactive { get; private set; }

    public static void Configure(TextWriter stdout, TextWriter stderr)
    {
        _out = stdout;
        _err = stderr;
        var tty = ReferenceEquals(stdout, System.Console.Out) && !System.Console.IsOutputRedirected;
        var plain = !tty || Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 };
        Interactive = tty;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = tty ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!tty) Console.Profile.Width = 160;
    }

    public static void Line(string text = "") => _out.WriteLine(text);

    public static void Error(string text) => _err.WriteLine(text);

    public static void Json<T>(T value, JsonTypeInfo<T> type) => _out.WriteLine(JsonSerializer.Serialize(value, type));

    public static Table Table(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var c in columns) table.AddColumn(new TableColumn(c));
        return table;
    }

    public static void Write(Table table) => Console.Write(table);

    public static string Time(long? unixMs) =>
        unixMs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") : "";

    public static string Duration(long start, long? end)
    {
        if (end is null) return "";
        var d = TimeSpan.FromMilliseconds(end.Value - start);
        return d.TotalHours >= 1 ? $"{(int)d.TotalHours}h{d.Minutes:00}m" : d.TotalMinutes >= 1 ? $"{d.Minutes}m{d.Seconds:00}s" : $"{d.TotalSeconds:0.0}s";
    }

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };

    public static string Esc(string? text) => Markup.Escape(text ?? "");
}
