using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Lineage.Core.Errors;

namespace Lineage.Storage.Blobs;

/// <summary>
/// Where an S3 blob store lives: <c>s3://bucket/prefix</c>, plus an endpoint for S3-compatible stores (MinIO, Ceph RGW…).
/// Credentials and region come from the AWS SDK's standard sources (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
/// AWS_SESSION_TOKEN, AWS_PROFILE, AWS_REGION / AWS_DEFAULT_REGION, instance roles); the endpoint from the
/// <c>--s3-endpoint</c> option or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL.
/// </summary>
public sealed record S3Settings(string Bucket, string Prefix, string? Endpoint = null, string? Region = null, int MaxRetries = 3)
{
    public const string Scheme = "s3://";

    public static bool IsS3Uri(string location) => location.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses <c>s3://bucket[/prefix]</c>; the prefix gets a trailing slash (or is empty).</summary>
    public static S3Settings Parse(string location, string? endpoint = null)
    {
        if (!IsS3Uri(location)) throw LineageException.Invalid("artifacts", $"'{location}' is not an s3://bucket/prefix URI");
        var rest = location[Scheme.Length..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (bucket.Length is < 3 or > 63 || !bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.'))
            throw LineageException.Invalid("artifacts", $"'{bucket}' is not a valid bucket name (3-63 lowercase letters, digits, '-' and '.')");
        endpoint ??= Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3") is { Length: > 0 } s3 ? s3
            : Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL") is { Length: > 0 } any ? any : null;
        var region = Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } r ? r
            : Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") is { Length: > 0 } d ? d : null;
        return new S3Settings(bucket, prefix.Length == 0 ? "" : prefix + "/", endpoint, region);
    }

    public string Uri => $"{Scheme}{Bucket}/{Prefix}";

    /// <summary>
    /// The SDK client. Retries use the SDK's standard retry mode (exponential backoff with jitter, throttling-aware);
    /// checksums are computed only where S3 requires them, so S3-compatible stores that do not speak
    /// aws-chunked trailers work. A custom endpoint implies path-style addressing (what MinIO, Ceph RGW expect).
    /// </summary>
    public AmazonS3Client CreateClient()
    {
        var config = new AmazonS3Config
        {
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = MaxRetries,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = TimeSpan.FromMinutes(5),
        };
        if (Endpoint is { Length: > 0 })
        {
            config.ServiceURL = Endpoint;
            config.ForcePathStyle = true;
            config.AuthenticationRegion = Region ?? "us-east-1";
        }
        else if (Region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(Region);
        }
        var client = new AmazonS3Client(config);
        client.BeforeRequestEvent += KeepCopySourceSlashes;
        return client;
    }

    /// <summary>
    /// The SDK sends <c>x-amz-copy-source</c> with every '/' encoded as %2F. S3 accepts both spellings; some S3-compatible
    /// servers (s3rver, the test server) decode only the key and then look for a bucket named "bucket%2Fkey". Literal
    /// slashes are what the S3 documentation shows, so they are sent (raised after marshalling, before signing).
    /// </summary>
    private static void KeepCopySourceSlashes(object sender, RequestEventArgs e)
    {
        if (e is WebServiceRequestEventArgs { Headers: { } headers } && headers.TryGetValue("x-amz-copy-source", out var source))
            headers["x-amz-copy-source"] = source.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
    }
}
