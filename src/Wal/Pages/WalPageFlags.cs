namespace DataSync.Wal.Pages;

/// <summary><c>xlp_info</c> bits of a WAL page header (src/include/access/xlog_internal.h).</summary>
[Flags]
public enum WalPageFlags : ushort
{
    None = 0,
    /// <summary>The page begins with the rest of a record started on an earlier page.</summary>
    FirstIsContinuation = 0x0001,
    /// <summary>The long header (first page of a segment) is present.</summary>
    LongHeader = 0x0002,
    /// <summary>Full-page images on this page are not needed by a running backup.</summary>
    BackupRemovable = 0x0004,
    /// <summary>A record that should have continued here was abandoned after a crash; an OVERWRITE_CONTRECORD record follows instead.</summary>
    FirstIsOverwriteContinuation = 0x0008,
    AllKnown = 0x000F,
}
