using Lineage.Core.Errors;

namespace Lineage.Client;

/// <summary>
/// A request the server rejected (or could not be reached for). Carries the server's
/// stable <see cref="LineageException.Code"/>, message and field, the HTTP status, and the
/// transport exception as <see cref="Exception.InnerException"/> when there was one.
/// </summary>
public sealed class LineageApiException(ErrorCode code, string message, int? httpStatus, string? field = null, Exception? inner = null)
    : LineageException(code, message, field, inner)
{
    /// <summary>HTTP status of the answer; null when no answer arrived.</summary>
    public int? HttpStatus { get; } = httpStatus;

    /// <summary>True when sending the same request again may succeed (network, 5xx, 429).</summary>
    public bool IsTransient => HttpStatus is null or >= 500 or 429;
}
