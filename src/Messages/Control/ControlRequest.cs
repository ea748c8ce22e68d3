namespace DataSync.Messages.Control;

/// <summary>
/// A request from the CLI to the daemon. <see cref="Token"/> proves the sender holds the per-installation
/// secret from the daemon's token file (mode 0600 in STATE_DIR) without revealing it: a keyed hash of the
/// nonce the daemon gave in its <see cref="ControlHelloReply"/>. Only users who can read that file can drive the daemon.
/// </summary>
public abstract record ControlRequest(string Token) : IDataSyncMessage;

/// <summary>Asks for the status lines; <see cref="Verbose"/> adds a line per table.</summary>
public sealed record StatusRequest(string Token, bool Verbose) : ControlRequest(Token);

/// <summary>Asks the daemon to finish or roll back the batch in flight and exit.</summary>
public sealed record StopRequest(string Token) : ControlRequest(Token);

/// <summary>Truncate every synced table and pause it until resync.</summary>
public sealed record ClearRequest(string Token) : ControlRequest(Token);

/// <summary>Reload the named tables (canonical <c>schema.table</c> text) from the newest base backup.</summary>
public sealed record ResyncRequest(string Token, IReadOnlyList<string> Tables) : ControlRequest(Token);

/// <summary>Start syncing the named tables; <see cref="Creator"/> is the OS user who asked.</summary>
public sealed record AddTablesRequest(string Token, IReadOnlyList<string> Tables, string Creator) : ControlRequest(Token);

/// <summary>Stop syncing the named tables and forget their checkpoints.</summary>
public sealed record RemoveTablesRequest(string Token, IReadOnlyList<string> Tables) : ControlRequest(Token);

/// <summary>
/// Asks how the bootstrap of the named tables (canonical <c>schema.table</c> text) is going: their states, and the running
/// bootstrap's progress when it copies them. <c>resync --wait</c> asks it again and again until they sync or fail.
/// </summary>
public sealed record BootstrapProgressRequest(string Token, IReadOnlyList<string> Tables) : ControlRequest(Token);

/// <summary>
/// Compare the named tables (every listed table when empty) with production's state at their checkpoints; with
/// <see cref="Repair"/>, copy the differing rows from production's restore. Answered at once with <see cref="VerifyStarted"/>
/// (or a <see cref="ControlReply"/> refusing it); the CLI then asks for its progress with <see cref="VerifyProgressRequest"/>.
/// </summary>
public sealed record VerifyRequest(string Token, IReadOnlyList<string> Tables, bool Repair) : ControlRequest(Token);

/// <summary>Where the verify <see cref="Job"/> stands; answered with a <see cref="VerifyProgressReply"/>.</summary>
public sealed record VerifyProgressRequest(string Token, string Job) : ControlRequest(Token);
