using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Lineage.Core.Errors;

namespace Lineage.Storage.Blobs;

/// <summary>
/// Object store failures become <see cref="ErrorCode.BlobStoreUnavailable"/> (HTTP 503 with <c>Retry-After</c>), decided by
/// the S3 error code and HTTP status, never by message text (the store-side twin of <c>Engine/ErrorTranslator</c>).
/// The SDK has already retried transient failures with backoff when these reach us; anything not listed (a
/// malformed request) is a bug and passes through unchanged.
/// </summary>
internal static class S3ErrorTranslator
{
    private static readonly TimeSpan Transient = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan NeedsAnOperator = TimeSpan.FromSeconds(30);

    public static Exception Translate(Exception ex, S3Settings store) => ex switch
    {
        LineageException or OperationCanceledException => ex,
        AmazonS3Exception { ErrorCode: "NoSuchBucket" } => Unavailable(
            $"the bucket '{store.Bucket}' does not exist{At(store)}; create it or fix --artifacts", NeedsAnOperator, ex),
        AmazonS3Exception { ErrorCode: "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "ExpiredToken" or "InvalidToken" } s => Unavailable(
            $"the object store rejected the credentials ({s.ErrorCode}){At(store)}; check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY", NeedsAnOperator, ex),
        AmazonS3Exception { StatusCode: HttpStatusCode.Forbidden } s => Unavailable(
            $"the object store refused access to {store.Uri} ({s.ErrorCode}); check the bucket policy and credentials", NeedsAnOperator, ex),
        AmazonS3Exception { ErrorCode: "SlowDown" or "RequestLimitExceeded" or "Throttling" or "ThrottlingException" } or
            AmazonServiceException { StatusCode: HttpStatusCode.TooManyRequests } => Unavailable(
            $"the object store is throttling requests{At(store)}; retry shortly", Transient, ex),
        AmazonServiceException { StatusCode: >= HttpStatusCode.InternalServerError } s => Unavailable(
            $"the object store failed ({(int)s.StatusCode} {s.ErrorCode}){At(store)}; retry shortly", Transient, ex),
        AmazonClientException or HttpRequestException or SocketException or IOException or TimeoutException => Unavailable(
            $"the object store{At(store)} is unreachable ({Root(ex).GetType().Name}); retry shortly", Transient, ex),
        _ => ex,
    };

    private static LineageException Unavailable(string message, TimeSpan retryAfter, Exception inner) =>
        new(ErrorCode.BlobStoreUnavailable, message, inner: inner) { RetryAfter = retryAfter };

    private static string At(S3Settings store) => store.Endpoint is { } e ? $" at {e}" : "";

    private static Exception Root(Exception ex)
    {
        while (ex.InnerException is { } inner) ex = inner;
        return ex;
    }
}
