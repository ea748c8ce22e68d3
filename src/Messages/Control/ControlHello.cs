namespace DataSync.Messages.Control;

/// <summary>
/// The CLI's first message on a connection: a fresh random <see cref="ClientNonce"/>, and no secret, because
/// the CLI does not yet know whether the process on CONTROL_PORT is our daemon. Answered with <see cref="ControlHelloReply"/>.
/// </summary>
public sealed record ControlHello(string ClientNonce) : IDataSyncMessage;

/// <summary>
/// The daemon's half of the handshake: <see cref="Proof"/> shows it holds the control token (a keyed hash of the
/// client's nonce), and <see cref="DaemonNonce"/> is what the CLI's requests prove their token against in turn.
/// </summary>
public sealed record ControlHelloReply(string DaemonNonce, string Proof) : IDataSyncMessage;
