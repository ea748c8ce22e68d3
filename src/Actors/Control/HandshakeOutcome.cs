namespace DataSync.Actors.Control;

/// <summary>How the handshake with the process on CONTROL_PORT ended.</summary>
public enum HandshakeOutcome
{
    Verified,
    NoAnswer,
    WrongProof,
}
