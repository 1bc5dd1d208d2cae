namespace Lineage.Core.Errors;

/// <summary>
/// A failure with a stable <see cref="ErrorCode"/>. Thrown by validation and the store;
/// the server turns it into an error response, the SDK rebuilds it from one.
/// </summary>
public class LineageException(ErrorCode code, string message, string? field = null, Exception? inner = null)
    : Exception(message, inner)
{
    public ErrorCode Code { get; } = code;

    /// <summary>The request field at fault (JSON path such as <c>metrics[3].key</c>), when one is.</summary>
    public string? Field { get; } = field;

    /// <summary>How long a client should wait before retrying (sent as <c>Retry-After</c>); null: no hint.</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static LineageException Invalid(string field, string message) =>
        new(ErrorCode.InvalidParameterValue, message, field);

    public static LineageException NotFound(string message) =>
        new(ErrorCode.ResourceDoesNotExist, message);

    public static LineageException AlreadyExists(string message) =>
        new(ErrorCode.ResourceAlreadyExists, message);

    public static LineageException Conflict(string message) =>
        new(ErrorCode.Conflict, message);
}
