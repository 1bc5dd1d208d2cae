namespace Lineage.Storage.Blobs;

/// <summary>Opens the blob store an <c>--artifacts</c> value names: <c>s3://bucket/prefix</c> or a folder path.</summary>
public static class BlobStores
{
    /// <summary>
    /// An S3 store is checked before it is returned (bucket exists, credentials accepted, endpoint reachable): a
    /// misconfiguration fails here with <c>BLOB_STORE_UNAVAILABLE</c> and a message naming the cause, not at the first upload.
    /// Only a server (<paramref name="serving"/>) clears a folder's leftover temp files: a tool opening the folder beside
    /// running servers must not delete their uploads in flight.
    /// </summary>
    public static async Task<IBlobStore> OpenAsync(string artifacts, string? s3Endpoint = null, CancellationToken ct = default, bool serving = true)
    {
        if (!S3Settings.IsS3Uri(artifacts)) return new LocalFolderBlobStore(artifacts, removeLeftovers: serving);
        var store = new S3BlobStore(S3Settings.Parse(artifacts, s3Endpoint));
        try
        {
            await store.CheckAsync(ct);
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }
}
