using System.Globalization;
using Lineage.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.Http;

/// <summary>Typed query-string reads with 400s that name the parameter.</summary>
public static class Query
{
    public static string? String(this HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var v) && v.Count > 0 && !string.IsNullOrEmpty(v[^1]) ? v[^1] : null;

    public static int? Int(this HttpRequest request, string name)
    {
        var text = request.String(name);
        if (text is null) return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw LineageException.Invalid(name, $"'{name}' must be an integer, got '{text}'");
    }

    public static long? Long(this HttpRequest request, string name)
    {
        var text = request.String(name);
        if (text is null) return null;
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw LineageException.Invalid(name, $"'{name}' must be an integer, got '{text}'");
    }

    public static IReadOnlyList<string> All(this HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var v)
            ? v.SelectMany(s => (s ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList()
            : [];
}
