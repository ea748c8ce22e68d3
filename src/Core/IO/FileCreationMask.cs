using System.Runtime.InteropServices;

namespace DataSync.Core.IO;

/// <summary>
/// The process's umask. The daemon sets it as it starts (<see cref="StateDirectory.CreationMask"/>), so every file and folder it or its children
/// create (spool, spill files, downloaded backups, logs) is private to its user from the first byte, whichever
/// code creates it; explicit modes would have to be repeated at every creation site and one would be missed.
/// </summary>
public static class FileCreationMask
{
    /// <summary>Sets the mask and returns the previous one.</summary>
    public static uint Set(uint mask) => Umask(mask);

    // DllImport rather than LibraryImport: the generated marshalling needs unsafe code, which this project keeps off.
    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);
}
