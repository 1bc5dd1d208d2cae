using System.Globalization;
using Lineage.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Lineage.Server.Http;

/// <summary>
/// Typed reads of a request's query-string parameters (<c>?name=value</c>), with 400s that name the parameter.
/// A parameter given twice counts by its last value; an empty one counts as absent.
/// </summary>
public static class QueryParameters
{
    /// <summary>The parameter's text, or null when it is absent or empty.</summary>
    public static string? QueryText(this HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var v) && v.Count > 0 && !string.IsNullOrEmpty(v[^1]) ? v[^1] : null;

    /// <summary>The parameter as a 32-bit integer, or null when absent; 400 INVALID_PARAMETER_VALUE when it is not one.</summary>
    public static int? QueryInt(this HttpRequest request, string name)
    {
        var text = request.QueryText(name);
        if (text is null) return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw LineageException.Invalid(name, $"'{name}' must be an integer, got '{text}'");
    }

    /// <summary>The parameter as a 64-bit integer, or null when absent; 400 INVALID_PARAMETER_VALUE when it is not one.</summary>
    public static long? QueryLong(this HttpRequest request, string name)
    {
        var text = request.QueryText(name);
        if (text is null) return null;
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw LineageException.Invalid(name, $"'{name}' must be an integer, got '{text}'");
    }

    /// <summary>Every value of the parameter, repeated (<c>?k=a&amp;k=b</c>) or comma-separated (<c>?k=a,b</c>), trimmed, empty ones dropped.</summary>
    public static IReadOnlyList<string> QueryList(this HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var v)
            ? v.SelectMany(s => (s ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList()
            : [];
}
