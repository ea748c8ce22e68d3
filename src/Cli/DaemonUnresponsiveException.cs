namespace DataSync.Cli;

/// <summary>The daemon proved it holds the control token (so it runs) but could not answer a status request.</summary>
public sealed class DaemonUnresponsiveException(string message) : InvalidOperationException(message);
