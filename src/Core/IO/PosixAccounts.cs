using System.Runtime.InteropServices;

namespace DataSync.Core.IO;

/// <summary>
/// The few account facts the state folder's checks need (who runs the daemon, who owns a path, a user's primary group)
/// and the group change itself, as C library calls. They ran as `id`, `stat` and `chgrp` processes: five process starts
/// on every daemon start, ahead of its first fetch (about 20 ms each once warm, 56 ms the first time; #16).
/// </summary>
/// <remarks>
/// The structures read here have the same layout under glibc and musl on every 64-bit Linux: statx is the kernel's own
/// fixed layout (uid at byte 20); struct passwd is two pointers, then uid and gid (gid at byte 20).
/// </remarks>
internal static class PosixAccounts
{
    private const int AtCurrentDirectory = -100;
    private const uint StatxUid = 0x8;
    private const int StatxUidOffset = 20;
    private const int PasswdGidOffset = 20;
    private const int PasswdSize = 48;
    private const int NoSuchEntry = 2;
    private const int ResultTooLarge = 34;

    /// <summary>The effective user id of this process (what `id -u` prints).</summary>
    public static uint EffectiveUserId() => GetEffectiveUserId();

    /// <summary>The owner of <paramref name="path"/>, links followed (what `stat -L -c %u` prints); null where the C library has no statx.</summary>
    public static uint? OwnerOf(string path)
    {
        var buffer = new byte[256];
        int result;
        try
        {
            result = Statx(AtCurrentDirectory, path, 0, StatxUid, buffer);
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }

        if (result != 0) throw new IOException($"cannot read the owner of {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        return BitConverter.ToUInt32(buffer, StatxUidOffset);
    }

    /// <summary>The primary group id of <paramref name="user"/>.</summary>
    public static uint PrimaryGroupOf(string user)
    {
        var passwd = new byte[PasswdSize];
        for (var size = 1024; ; size *= 2)
        {
            var strings = new byte[size];
            var error = GetPasswordEntry(user, passwd, strings, (nuint)size, out var found);
            // ERANGE: the entry's strings need a larger buffer.
            if (error == ResultTooLarge && size < 1 << 20) continue;
            if (error != 0 && error != NoSuchEntry)
                throw new InvalidOperationException($"PG_OS_USER '{user}': cannot find its group ({Marshal.GetPInvokeErrorMessage(error)})");
            if (found == 0) throw new InvalidOperationException($"PG_OS_USER '{user}': cannot find its group (no such user)");
            return BitConverter.ToUInt32(passwd, PasswdGidOffset);
        }
    }

    /// <summary>Gives <paramref name="path"/> the group <paramref name="groupId"/>; a link itself changes, not what it points to (`chgrp -h`).</summary>
    public static void ChangeGroup(string path, uint groupId)
    {
        if (ChangeLinkOwner(path, uint.MaxValue, groupId) != 0)
            throw new IOException($"cannot give {path} the group {groupId}: {Marshal.GetLastPInvokeErrorMessage()}");
    }

    // DllImport rather than LibraryImport: the generated marshalling needs unsafe code, which this project keeps off.
    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int directory, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);

    [DllImport("libc", EntryPoint = "getpwnam_r")]
    private static extern int GetPasswordEntry([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [Out] byte[] passwd, [Out] byte[] strings, nuint size, out nint result);

    [DllImport("libc", EntryPoint = "lchown", SetLastError = true)]
    private static extern int ChangeLinkOwner([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);
}
