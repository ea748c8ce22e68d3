namespace DataSync.Actors.Hosting;

/// <summary>The daemon cannot start (another daemon holds the database, the control port is taken...); the message says which and what to do.</summary>
public sealed class DaemonStartException(string message, Exception? inner = null) : Exception(message, inner);
