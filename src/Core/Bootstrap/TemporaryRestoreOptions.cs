using DataSync.Core.Embedded;
using DataSync.Wal;

namespace DataSync.Core.Bootstrap;

/// <summary>How to run a temporary restore of a base backup.</summary>
public sealed record TemporaryRestoreOptions
{
    public required PostgresBinaries Binaries { get; init; }
    public required ServerAccount Account { get; init; }

    /// <summary>STATE_DIR; restores live in its <c>restores</c> folder.</summary>
    public required string StateDirectory { get; init; }

    public required BaseBackup Backup { get; init; }

    /// <summary>Folder of plain WAL segments the restore replays from (the spool).</summary>
    public required string WalDirectory { get; init; }

    /// <summary>Replay at least this far before pausing (the end of the newest complete WAL available).</summary>
    public required Lsn TargetLsn { get; init; }

    /// <summary>
    /// Stop replay exactly at <see cref="TargetLsn"/> instead of somewhere at or past it: the server itself stops after the
    /// first record that starts at or after it (a recovery target, inclusive) and pauses there. <c>datasync verify</c> needs
    /// production exactly as a table's checkpoint has it; a bootstrap takes whatever point replay reaches.
    /// </summary>
    public bool StopExactlyAtTarget { get; init; }

    /// <summary>Where the contiguous WAL in <see cref="WalDirectory"/> after the backup's start ends; a standby's backup consistent only later waits.</summary>
    public Lsn AvailableWalEnd { get; init; } = new(ulong.MaxValue);

    public TimeSpan ReplayTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Progress lines for the user (files restored, LSN replayed).</summary>
    public IProgress<string>? Progress { get; init; }

    /// <summary>The running bootstrap's progress, moved on as the backup's bytes are copied and the WAL replays.</summary>
    public BootstrapProgress? LiveProgress { get; init; }
}
