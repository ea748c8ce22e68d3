namespace DataSync.Core.Archive.Sftp;

/// <summary>
/// An sftp source failed. <see cref="IsTransient"/> tells a dropped or unreachable server (worth trying
/// again later) from what only the user can fix (a refused host key or login, a missing folder).
/// Messages name the server and the files involved, never a key or a secret.
/// </summary>
public class SftpSourceException(string message, bool isTransient, Exception? inner = null) : IOException(message, inner)
{
    public bool IsTransient { get; } = isTransient;
}

/// <summary>The server's host key is not in SSH_KNOWN_HOSTS, differs from the one there, or is revoked.</summary>
public sealed class HostKeyRefusedException(string message, HostKeyVerdict verdict) : SftpSourceException(message, isTransient: false)
{
    public HostKeyVerdict Verdict { get; } = verdict;
}
