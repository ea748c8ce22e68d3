namespace DataSync.Core.Bootstrap;

/// <summary>How a bootstrap attempt that did not copy a table ended: it failed, or it waits; why; when.</summary>
public sealed record BootstrapAttemptEnd(bool Failed, string Message, DateTimeOffset At);
