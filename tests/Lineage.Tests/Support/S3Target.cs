using Amazon.S3;
using Amazon.S3.Model;
using Lineage.Storage.Blobs;

namespace Lineage.Tests.Support;

/// <summary>
/// The S3-compatible server for tests: the endpoint named by LINEAGE_TEST_S3 (scripts/test.sh installs s3rver from
/// tests/s3-server with npm ci, starts it on loopback and sets it, with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY). Each
/// call makes a fresh bucket. When the variable is missing the test fails loudly: S3 tests never skip quietly.
/// </summary>
public static class S3Target
{
    public const string EnvironmentVariable = "LINEAGE_TEST_S3";

    /// <summary>s3rver's entry script (LINEAGE_TEST_S3_SERVER), for tests that start and stop a server of their own.</summary>
    public const string ServerVariable = "LINEAGE_TEST_S3_SERVER";

    public static string Endpoint =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } endpoint
            ? endpoint
            : throw new InvalidOperationException(
                $"{EnvironmentVariable} is not set: S3 tests need an S3-compatible server. Run them through scripts/test.sh, which installs and starts one.");

    public static string ServerScript =>
        Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } script && File.Exists(script)
            ? script
            : throw new InvalidOperationException($"{ServerVariable} is not set to s3rver's script: run the tests through scripts/test.sh.");

    /// <summary>Creates an empty bucket on <paramref name="endpoint"/> (default: the shared server) and returns <c>s3://bucket/prefix</c>.</summary>
    public static async Task<string> CreateBucketAsync(string? endpoint = null, string prefix = "lineage")
    {
        var bucket = "lineage-t-" + Guid.NewGuid().ToString("N")[..16];
        using var s3 = new S3Settings(bucket, "", endpoint ?? Endpoint).CreateClient();
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        return $"s3://{bucket}/{prefix}";
    }

    /// <summary>A raw client on the shared server, for tests that tamper with objects behind the store's back.</summary>
    public static AmazonS3Client Client(string? endpoint = null) => new S3Settings("unused", "", endpoint ?? Endpoint).CreateClient();
}
