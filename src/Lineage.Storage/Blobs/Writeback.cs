using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Lineage.Storage.Blobs;

/// <summary>
/// Starts writeback of a file range without waiting (Linux sync_file_range). Issued as a large
/// upload streams in, it leaves little for the final fsync, which otherwise flushes gigabytes at once.
/// A no-op elsewhere; the fsync before the rename is what guarantees durability.
/// </summary>
internal static class Writeback
{
    private const uint SyncFileRangeWrite = 2;

    public static void Start(SafeFileHandle file, long offset, long length)
    {
        if (!OperatingSystem.IsLinux()) return;
        _ = sync_file_range((int)file.DangerousGetHandle(), offset, length, SyncFileRangeWrite);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int sync_file_range(int fd, long offset, long nbytes, uint flags);
}
