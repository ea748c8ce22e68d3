namespace DataSync.Core.Bootstrap;

/// <summary>Where a running bootstrap is, in the order it gets there.</summary>
public enum BootstrapPhase
{
    /// <summary>Finding the newest base backup (an sftp source downloads it) and fetching the WAL from its start.</summary>
    Preparing,

    /// <summary>Copying the base backup's files into the temporary restore's folder.</summary>
    Restoring,

    /// <summary>The temporary restore replays the archived WAL toward the point the copy is taken at.</summary>
    Replaying,

    /// <summary>Replay goes on until transactions that began before the backup have ended.</summary>
    Waiting,

    /// <summary>The tables' rows stream from the paused restore into the local tables.</summary>
    Copying,

    /// <summary>The copies have committed; the temporary restore is stopped and removed.</summary>
    Finishing,
}
