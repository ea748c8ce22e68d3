using DataSync.Core.Embedded;
using DataSync.Embedded;

namespace DataSync.TestRig;

/// <summary>
/// What every test cluster shares: the PostgreSQL 18.1 binaries (fetched on first use by the
/// repository's script, or taken from PG_BIN_DIR) and the OS account servers run as.
/// </summary>
public static class TestPostgres
{
    /// <summary>The unprivileged account the tests create and run servers as when they run as root (as CI does).</summary>
    public const string TestAccountName = "datasync-test";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static (PostgresBinaries Binaries, ServerAccount Account)? _ready;

    /// <summary>Root of the temporary folders of all test clusters, so left-overs of killed runs can be found.</summary>
    /// <remarks>One per OS user: another user's run neither blocks nor sees this one's clusters.</remarks>
    public static string TemporaryRoot { get; } = Path.Combine(Path.GetTempPath(), $"datasync-tests-{Environment.UserName}");

    public static async Task<(PostgresBinaries Binaries, ServerAccount Account)> GetAsync()
    {
        if (_ready is { } ready) return ready;
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_ready is { } raced) return raced;
            var account = ServerAccount.For(TestAccountName);
            await account.EnsureExistsAsync().ConfigureAwait(false);

            var configured = Environment.GetEnvironmentVariable("PG_BIN_DIR");
            var binaries = string.IsNullOrEmpty(configured)
                ? await RepositoryPostgres.FetchAsync(AppContext.BaseDirectory).ConfigureAwait(false)
                : PostgresBinaries.At(configured);
            binaries = await binaries.ReachableByAsync(account).ConfigureAwait(false);
            // The daemons the tests start find their restore binaries as an installed one does, on PATH (their
            // configurations leave PG_BIN_DIR out): first in this process's PATH, which started daemons inherit.
            Environment.SetEnvironmentVariable("PATH", binaries.BinDirectory + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"));

            await LeftoverServers.RemoveAsync(TemporaryRoot, binaries, account).ConfigureAwait(false);
            _ready = (binaries, account);
            return _ready.Value;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>A fresh folder for one cluster, named after its use, owned by this process (see <see cref="LeftoverServers"/>).</summary>
    public static string NewClusterRoot(string name)
    {
        Directory.CreateDirectory(TemporaryRoot);
        // World-searchable so the server account can reach its folder below it.
        File.SetUnixFileMode(TemporaryRoot, (UnixFileMode)0b111_101_101);
        var safeName = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
        // The name is cut, never the random part: concurrent tests with long similar names get distinct folders.
        var root = Path.Combine(TemporaryRoot, $"{safeName[..Math.Min(safeName.Length, 40)]}-{Guid.NewGuid():N}"[..^20]);
        Directory.CreateDirectory(root);
        LeftoverServers.Claim(root);
        return root;
    }
}
