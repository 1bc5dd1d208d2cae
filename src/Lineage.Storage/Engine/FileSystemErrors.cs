using Lineage.Core.Errors;

namespace Lineage.Storage.Engine;

/// <summary>
/// File-system failures (of the blob store, or of a database file written through .NET) as Lineage errors, by
/// errno, never by message text. Driver errors are each dialect's (<see cref="SqlDialect.Translate"/>).
/// </summary>
public static class FileSystemErrors
{
    /// <summary>errno values of a full disk (ENOSPC, EDQUOT) and a read-only one (EROFS): .NET carries them as the IOException's HResult on Linux.</summary>
    private const int NoSpace = 28, QuotaExceeded = 122, ReadOnlyFileSystem = 30;

    /// <summary>The Lineage error for a full or read-only disk; any other exception is returned unchanged.</summary>
    public static Exception Translate(Exception ex) => ex switch
    {
        IOException io when io.HResult is NoSpace or QuotaExceeded => new LineageException(ErrorCode.InsufficientStorage,
            "the artifact disk is full: nothing was stored; free space and retry", inner: ex),
        IOException io when io.HResult is ReadOnlyFileSystem => new LineageException(ErrorCode.Unavailable,
            "the artifact disk is read-only: nothing was stored; retry when it is writable", inner: ex),
        _ => ex,
    };
}
