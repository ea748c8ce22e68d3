namespace DataSync.Cli;

/// <summary>Something listens on CONTROL_PORT that could not prove it is the daemon holding this STATE_DIR's control token.</summary>
public sealed class NotOurDaemonException(string message) : InvalidOperationException(message);
