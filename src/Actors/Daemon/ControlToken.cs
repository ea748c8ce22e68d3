using System.Security.Cryptography;
using System.Text;

namespace DataSync.Actors.Daemon;

/// <summary>
/// The per-installation secret that authorises CLI requests: written by the daemon at start into
/// STATE_DIR with mode 0600, so only users who may read that file (the daemon's own user, and root)
/// can drive the daemon, even though any local user can reach the loopback port.
/// The token itself never travels: each side proves it holds it with a keyed hash (HMAC-SHA256) of a
/// nonce the other side chose, so a process squatting on CONTROL_PORT learns nothing it could replay,
/// and the CLI can tell our daemon from anything else listening there.
/// </summary>
public static class ControlToken
{
    public const string FileName = "control.token";

    public static string PathIn(string stateDirectory) => Path.Combine(stateDirectory, FileName);

    /// <summary>Creates a fresh token file (replacing a stale one atomically) and returns the token.</summary>
    public static string Create(string stateDirectory)
    {
        Directory.CreateDirectory(stateDirectory);
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var temporary = PathIn(stateDirectory) + ".tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            stream.Write(Encoding.ASCII.GetBytes(token));
            stream.Flush(flushToDisk: true);
        }

        // A file left by an older run may have other modes; the new one is always 0600.
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, PathIn(stateDirectory), overwrite: true);
        return token;
    }

    /// <summary>The token, or null when no daemon has written one. Throws <see cref="UnauthorizedAccessException"/> for other users.</summary>
    public static string? Read(string stateDirectory)
    {
        var path = PathIn(stateDirectory);
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    public static void Delete(string stateDirectory)
    {
        try
        {
            File.Delete(PathIn(stateDirectory));
        }
        catch (IOException)
        {
            // Left for the next start to replace.
        }
    }

    /// <summary>A fresh random nonce for one handshake (hex, 32 bytes of entropy).</summary>
    public static string NewNonce() => Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    /// <summary>The daemon's proof, for the CLI's <paramref name="clientNonce"/>, that it holds <paramref name="token"/>.</summary>
    public static string DaemonProof(string token, string clientNonce) => Mac(token, "datasync-daemon:" + clientNonce);

    /// <summary>
    /// What a CLI request carries in its token field: the daemon's nonce and the keyed hash of it. The labels
    /// differ per direction, so a daemon's proof can never be reflected back as a client's.
    /// </summary>
    public static string ClientProof(string token, string daemonNonce) => daemonNonce + ":" + Mac(token, "datasync-client:" + daemonNonce);

    private static string Mac(string token, string message) =>
        Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(message)));

    /// <summary>Compares in constant time, so response timing does not reveal how much of a guess was right.</summary>
    public static bool Matches(string expected, string? presented) =>
        presented is not null &&
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(presented));
}
