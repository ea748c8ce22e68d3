namespace DataSync.Core.Bootstrap;

/// <summary>The archive does not yet hold the WAL a base backup needs to become consistent: a reason to wait, not a failure.</summary>
public sealed class WalNotYetArchivedException(string message) : Exception(message);
