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
    /// <summary>
    /// Per invocation, not process-wide: tests (and any host) run several CLI invocations at once,
    /// and one must never write into another's output.
    /// </summary>
    private sealed record Sink(TextWriter Out, TextWriter Err, IAnsiConsole Console, bool Interactive);

    private static readonly AsyncLocal<Sink?> Current = new();

    private static Sink State => Current.Value ??= Create(System.Console.Out, System.Console.Error);

    public static IAnsiConsole Console => State.Console;

    /// <summary>True when a person is watching (progress bars make sense).</summary>
    public static bool Interactive => State.Interactive;

    /// <summary>Directs this invocation's output (the async flow that calls it and everything it awaits).</summary>
    public static void Configure(TextWriter stdout, TextWriter stderr) => Current.Value = Create(stdout, stderr);

    private static Sink Create(TextWriter stdout, TextWriter stderr)
    {
        var tty = ReferenceEquals(stdout, System.Console.Out) && !System.Console.IsOutputRedirected;
        var plain = !tty || Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 };
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = tty ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!tty) console.Profile.Width = 160;
        return new Sink(stdout, stderr, console, tty);
    }

    public static void Line(string text = "") => State.Out.WriteLine(text);

    public static void Error(string text) => State.Err.WriteLine(text);

    public static void Json<T>(T value, JsonTypeInfo<T> type) => State.Out.WriteLine(JsonSerializer.Serialize(value, type));

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
