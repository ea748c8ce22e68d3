using System.Runtime.InteropServices;

namespace DataSync.Core.IO;

/// <summary>
/// Makes a rename durable: on Linux a new directory entry reaches the disk only when the directory
/// itself is fsync'ed, and .NET has no API for opening a directory, so this asks libc directly.
/// </summary>
public static class DirectorySync
{
    private const int ReadOnly = 0;
    private const int DirectoryOnly = 0x10000; // O_DIRECTORY on x86-64 and arm64 Linux

    public static void Flush(string directory)
    {
        var fd = Open(directory, ReadOnly | DirectoryOnly);
        if (fd < 0) throw new IOException($"cannot open folder '{directory}' to flush it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"cannot flush folder '{directory}' to disk (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // DllImport rather than LibraryImport: the generated marshalling needs unsafe code, which this project keeps off.
    [DllImport("libc", EntryPoint = "open", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Open(string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
