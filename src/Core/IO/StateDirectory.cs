using System.Globalization;
using DataSync.Core.Embedded;

namespace DataSync.Core.IO;

/// <summary>
/// Makes STATE_DIR private to the daemon's user before anything is written there: the spool holds every
/// production change (tables not synced too), beside base backups, spill files and logs.
/// When the temporary restores run as the daemon's own user, STATE_DIR and everything in it are 0700 (folders)
/// and 0600 (files). When the daemon runs as root and starts them as PG_OS_USER, that account must read the
/// spool (the restore's restore_command copies segments from it) and reach its restore folder, so it gets what
/// PostgreSQL's account needs and no more: folders 2750 and files 0640 in PG_OS_USER's primary group (the
/// setgid bit makes new entries inherit the group); others get nothing either way. That account holds the
/// restored production data anyway. The restores folder itself is the restore code's to set.
/// </summary>
public static class StateDirectory
{
    private const UnixFileMode Others = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
    private const UnixFileMode Group = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute;

    /// <summary>The restores folder: its modes are the restore code's.</summary>
    public const string RestoresFolderName = "restores";

    /// <summary>
    /// The server account STATE_DIR is shared with: PG_OS_USER when the daemon runs as root and it is set, else the
    /// daemon's own. Root without PG_OS_USER is an error the daemon reports where it starts restores, not here.
    /// </summary>
    public static ServerAccount AccountFor(string? pgOsUser) =>
        Environment.IsPrivilegedProcess && !string.IsNullOrWhiteSpace(pgOsUser) ? ServerAccount.For(pgOsUser) : ServerAccount.Current;

    /// <summary>What every folder in STATE_DIR (and STATE_DIR itself) gets: 0700, or 2750 when PG_OS_USER's group must read.</summary>
    public static UnixFileMode FolderMode(ServerAccount account) =>
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        (account.SwitchesUser ? UnixFileMode.SetGroup | UnixFileMode.GroupRead | UnixFileMode.GroupExecute : 0);

    /// <summary>What every file in STATE_DIR gets: 0600, or 0640 when PG_OS_USER's group must read.</summary>
    public static UnixFileMode FileMode(ServerAccount account) =>
        UnixFileMode.UserRead | UnixFileMode.UserWrite | (account.SwitchesUser ? UnixFileMode.GroupRead : 0);

    /// <summary>The umask that gives new entries those modes: 077, or 027 when PG_OS_USER's group must read.</summary>
    public static uint CreationMask(bool runsAsRoot) => runsAsRoot ? 0b000_010_111u : 0b000_111_111u;

    /// <summary>
    /// Creates STATE_DIR or brings an existing one and its contents to the modes above. Returns one warning per
    /// kind of repair made, to be logged. Throws <see cref="UnauthorizedAccessException"/> when STATE_DIR
    /// belongs to another user: that user could read everything in it, and it is not ours to change.
    /// </summary>
    public static async Task<IReadOnlyList<string>> SecureAsync(string path, ServerAccount account, CancellationToken cancellationToken = default)
    {
        var warnings = new List<string>();
        var folderMode = FolderMode(account);
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path, folderMode & ~UnixFileMode.SetGroup);
        }
        else
        {
            var owner = PosixAccounts.OwnerOf(path)?.ToString(CultureInfo.InvariantCulture) ?? await OwnerAsync(path, cancellationToken).ConfigureAwait(false);
            var self = PosixAccounts.EffectiveUserId().ToString(CultureInfo.InvariantCulture);
            if (owner != self)
            {
                throw new UnauthorizedAccessException(
                    $"STATE_DIR {path} belongs to uid {owner}, not to the user the daemon runs as (uid {self}): its owner could read the spooled " +
                    "production changes. Run the daemon as that user, or give the folder to this one (chown), or set another STATE_DIR");
            }

            var mode = File.GetUnixFileMode(path);
            if ((mode & Others) != 0 || (mode & Group & ~folderMode) != 0)
                warnings.Add($"STATE_DIR {path} had mode {Octal(mode)}, which let other users in; set it to {Octal(folderMode)}");
        }

        var entries = new DirectoryInfo(path).EnumerateFileSystemInfos().Where(e => !(e.Name == RestoresFolderName && e is DirectoryInfo)).ToList();
        if (account.UserName is { } serverUser)
        {
            // The group first, then the modes: at no moment can the wrong group read.
            var group = PosixAccounts.PrimaryGroupOf(serverUser);
            PosixAccounts.ChangeGroup(path, group);
            foreach (var entry in entries) ChangeGroup(entry, group);
        }

        File.SetUnixFileMode(path, folderMode);
        var repaired = entries.Sum(entry => Repair(entry, folderMode, FileMode(account)));
        if (repaired > 0)
            warnings.Add($"{repaired} file(s) or folder(s) under STATE_DIR {path} could be read by other users; set them to {Octal(FileMode(account))} (files) and {Octal(folderMode)} (folders)");
        return warnings;
    }

    /// <summary>
    /// Takes away what one entry (recursively for a folder, never following links) allows beyond the modes above; never
    /// adds a bit, so a file kept to its owner (the control token) stays so. Returns how many entries let others in.
    /// </summary>
    private static int Repair(FileSystemInfo entry, UnixFileMode folderMode, UnixFileMode fileMode)
    {
        if (entry.LinkTarget is not null) return 0;
        var isFolder = entry is DirectoryInfo;
        var mode = entry.UnixFileMode;
        // Folders keep the setgid bit when the group is PG_OS_USER's, so what is created in them inherits that group.
        var wanted = isFolder ? (mode & folderMode) | (folderMode & UnixFileMode.SetGroup) : mode & fileMode;
        var changed = 0;
        if (mode != wanted)
        {
            if ((mode & ~wanted & (Others | Group)) != 0) changed++;
            entry.UnixFileMode = wanted;
        }

        if (entry is DirectoryInfo folder)
        {
            foreach (var child in folder.EnumerateFileSystemInfos()) changed += Repair(child, folderMode, fileMode);
        }

        return changed;
    }

    /// <summary>Gives one entry, and everything under it when it is a folder, the group; links are changed themselves and never followed.</summary>
    private static void ChangeGroup(FileSystemInfo entry, uint group)
    {
        PosixAccounts.ChangeGroup(entry.FullName, group);
        if (entry is DirectoryInfo { LinkTarget: null } folder)
        {
            foreach (var child in folder.EnumerateFileSystemInfos()) ChangeGroup(child, group);
        }
    }

    /// <summary>The owner of a path where the C library has no statx (musl before 1.2.5): coreutils' stat answers in one short process.</summary>
    private static async Task<string> OwnerAsync(string path, CancellationToken cancellationToken)
    {
        var result = await ProcessRunner.RunAsync("stat", ["-L", "-c", "%u", path], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0) throw new IOException($"cannot read the owner of {path}: {result.StandardError.Trim()}");
        return result.StandardOutput.Trim();
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8).PadLeft(3, '0');
}
