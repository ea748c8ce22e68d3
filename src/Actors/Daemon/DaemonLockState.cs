namespace DataSync.Actors.Daemon;

/// <summary>What <see cref="DaemonLock.KeepAsync"/> found.</summary>
public enum DaemonLockState
{
    /// <summary>The lock's session is alive: the lock is held.</summary>
    Held,

    /// <summary>The session had been dropped; the lock is held again on a new one.</summary>
    Regained,

    /// <summary>The session had been dropped and another session (another daemon) holds the lock now.</summary>
    Lost,

    /// <summary>The session had been dropped and the database cannot be reached to take the lock again.</summary>
    Unknown,
}
