using DataSync.Core.Archive;
using DataSync.Core.Bootstrap;
using DataSync.Core.Configuration;
using DataSync.Core.Embedded;

namespace DataSync.Core.Sync;

/// <summary>What the sync engine works with: the settings, where the archive and backups are, and how to run temporary restores.</summary>
public sealed record SyncOptions
{
    public required DataSyncSettings Settings { get; init; }
    public required IArchiveSource Archive { get; init; }

    /// <summary>Where base backups come from (<see cref="BaseBackupSources.Create"/>); the folder BASE_BACKUP_DIR when not given.</summary>
    public IBaseBackupSource BaseBackups
    {
        get => field ??= new LocalBaseBackupSource(Settings.BaseBackupDir, Progress);
        init;
    }

    public required PostgresBinaries Binaries { get; init; }
    public required ServerAccount Account { get; init; }

    /// <summary>
    /// Bytes of buffered changes of open transactions kept in memory (all together) before the largest spills to
    /// STATE_DIR/spill. 16 MiB: the daemon's whole footprint is to stay under 256 MiB, and this sits beside the
    /// appliers' rounds and the segment being read; a transaction this large costs its apply far more than
    /// writing it to a file and reading it back once.
    /// </summary>
    public long MemoryLimitBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Progress lines for the user (bootstrap steps, batches applied).</summary>
    public IProgress<string>? Progress { get; init; }

    /// <summary>
    /// Production's wal_segment_size in bytes; 0 (the default) until <see cref="WithSegmentSizeAsync"/> has read it
    /// from the WAL (<see cref="WalSegmentSizeProbe"/>). Segment names, the spool and the reader all depend on it.
    /// </summary>
    public uint SegmentSize { get; init; }

    /// <summary>These options with <see cref="SegmentSize"/> read from the spool or the archive when it is not set.</summary>
    public async Task<SyncOptions> WithSegmentSizeAsync(CancellationToken cancellationToken)
    {
        if (SegmentSize != 0) return this;
        var (size, source) = await WalSegmentSizeProbe.DetectAsync(Archive, SpoolDirectory, cancellationToken).ConfigureAwait(false);
        Progress?.Report(source is null
            ? $"no WAL segment in the spool or the archive yet: assuming {size / (1024 * 1024)} MiB segments (a segment of another size is refused when it comes)"
            : $"WAL segments are {size / (1024 * 1024)} MiB (wal_segment_size, from {source})");
        return this with { SegmentSize = size };
    }

    /// <summary>Pause before a bootstrap that waited or failed is tried again; it doubles with each attempt that meets the same cause.</summary>
    public TimeSpan BootstrapFirstPause { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest pause between bootstrap attempts.</summary>
    public TimeSpan BootstrapLongestPause { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How many tables one bootstrap copies at the same time, each over its own restore and local connection. A copy
    /// keeps two cores busy, one backend on the restore's server reading and one on the local server writing (both
    /// run on this machine), so one lane per two cores: on 2 cores, four tables copied one after the other took
    /// 21.6 s against 26 s two at a time, where the lanes only took turns on the same cores.
    /// </summary>
    public int BootstrapParallelism { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    public string SpoolDirectory => SpoolDirectoryOf(Settings);

    /// <summary>Where the daemon of <paramref name="settings"/> spools archived segments.</summary>
    public static string SpoolDirectoryOf(DataSyncSettings settings) => Path.Combine(settings.StateDir, "spool");
    public string SpillDirectory => Path.Combine(Settings.StateDir, "spill");
}
