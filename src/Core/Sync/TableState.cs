namespace DataSync.Core.Sync;

/// <summary>Where a synced table stands. Stored as text in <c>datasync_table_state.state</c>; <see cref="TableStateText"/> maps the two.</summary>
public enum TableState
{
    /// <summary>Listed but not copied yet: waits for its bootstrap.</summary>
    New,

    /// <summary>Copied, and following the WAL from its checkpoint.</summary>
    Syncing,

    /// <summary>Stopped after a failure; waits for <c>resync</c>.</summary>
    Paused,

    /// <summary>Truncated by <c>clear</c>; waits for <c>resync</c>.</summary>
    Cleared,

    /// <summary><c>resync</c> asked for a new copy; the next bootstrap takes it.</summary>
    ResyncRequested,

    /// <summary>Refused at a bootstrap for a reason of its own (production lacks it); waits for <c>resync</c> or <c>remove-tables</c>.</summary>
    Failed,

    /// <summary>Held at its checkpoint by <c>datasync verify</c> while it is compared with production; resumes when the verify ends.</summary>
    Verifying,
}
