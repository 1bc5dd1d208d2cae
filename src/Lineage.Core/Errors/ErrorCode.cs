namespace Lineage.Core.Errors;

/// <summary>
/// Every failure a client can cause has one of these codes. The wire name
/// (<see cref="ErrorCodes.WireName"/>) and HTTP status never change once shipped.
/// </summary>
public enum ErrorCode
{
    InvalidParameterValue,
    Unauthenticated,
    PermissionDenied,
    ResourceDoesNotExist,
    ResourceAlreadyExists,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    EndpointNotFound,
    MethodNotAllowed,
    /// <summary>The request body's Content-Type is not one the endpoint takes.</summary>
    UnsupportedMediaType,
    /// <summary>The disk holding the database or the artifacts is full: nothing was written. Retry when space is freed.</summary>
    InsufficientStorage,
    /// <summary>The server cannot serve now (database unreachable, shutting down). Retry later.</summary>
    Unavailable,
    /// <summary>
    /// The object store that holds artifact bytes cannot serve now (unreachable, refused access, throttling, 5xx).
    /// Nothing was registered; retry after the <c>Retry-After</c> hint (issue 13).
    /// </summary>
    BlobStoreUnavailable,
    /// <summary>
    /// The content was moved to cold storage by <c>lineage archive</c>; the version, its digest and lineage are still there.
    /// The message says how to restore it (<c>lineage archive restore NAME@VERSION</c>) (issue 13).
    /// </summary>
    Archived,
    /// <summary>A bug. Never caused by client input.</summary>
    InternalError,
}

public static class ErrorCodes
{
    public static string WireName(this ErrorCode code) => code switch
    {
        ErrorCode.InvalidParameterValue => "INVALID_PARAMETER_VALUE",
        ErrorCode.Unauthenticated => "UNAUTHENTICATED",
        ErrorCode.PermissionDenied => "PERMISSION_DENIED",
        ErrorCode.ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
        ErrorCode.ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
        ErrorCode.Conflict => "CONFLICT",
        ErrorCode.PayloadTooLarge => "PAYLOAD_TOO_LARGE",
        ErrorCode.RateLimited => "RATE_LIMITED",
        ErrorCode.EndpointNotFound => "ENDPOINT_NOT_FOUND",
        ErrorCode.MethodNotAllowed => "METHOD_NOT_ALLOWED",
        ErrorCode.UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
        ErrorCode.Unavailable => "TEMPORARILY_UNAVAILABLE",
        ErrorCode.BlobStoreUnavailable => "BLOB_STORE_UNAVAILABLE",
        ErrorCode.Archived => "ARCHIVED",
        ErrorCode.InsufficientStorage => "INSUFFICIENT_STORAGE",
        _ => "INTERNAL_ERROR",
    };

    public static int HttpStatus(this ErrorCode code) => code switch
    {
        ErrorCode.InvalidParameterValue => 400,
        ErrorCode.Unauthenticated => 401,
        ErrorCode.PermissionDenied => 403,
        ErrorCode.ResourceDoesNotExist => 404,
        ErrorCode.EndpointNotFound => 404,
        ErrorCode.MethodNotAllowed => 405,
        ErrorCode.UnsupportedMediaType => 415,
        ErrorCode.ResourceAlreadyExists => 409,
        ErrorCode.Conflict => 409,
        ErrorCode.Archived => 409,
        ErrorCode.PayloadTooLarge => 413,
        ErrorCode.RateLimited => 429,
        ErrorCode.Unavailable => 503,
        ErrorCode.BlobStoreUnavailable => 503,
        ErrorCode.InsufficientStorage => 507,
        _ => 500,
    };

    public static ErrorCode? FromWireName(string? name)
    {
        foreach (var code in Enum.GetValues<ErrorCode>())
            if (code.WireName() == name) return code;
        return null;
    }
}
