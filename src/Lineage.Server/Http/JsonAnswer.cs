using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.Http;

/// <summary>
/// A 200 JSON answer written by a callback with a <see cref="Utf8JsonWriter"/> over the response's pipe, for large reads
/// written straight from the store's records (issue 15). The callback flushes when it has buffered enough
/// (<see cref="FlushAt"/>), so a large answer is never held whole in memory.
/// </summary>
public sealed class JsonAnswer(Func<Utf8JsonWriter, CancellationToken, Task> write) : IResult
{
    /// <summary>Bytes a writer buffers before handing them to the response.</summary>
    public const int FlushAt = 32 * 1024;

    public async Task ExecuteAsync(HttpContext ctx)
    {
        ctx.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(ctx.Response.BodyWriter);
        await write(json, ctx.RequestAborted);
        await json.FlushAsync(ctx.RequestAborted);
    }

    /// <summary>A number, or NaN/Infinity/-Infinity as a string, as the serializer's AllowNamedFloatingPointLiterals writes them.</summary>
    public static void WriteDoubleValue(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value)) json.WriteNumberValue(value);
        else json.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    }
}
