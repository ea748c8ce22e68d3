using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using DataSync.Core.Embedded;

namespace DataSync.TestRig;

/// <summary>
/// A real OpenSSH server for the sftp tests: its own host key, user key, authorized_keys and
/// sshd_config in a temporary folder, listening on a free loopback port, serving sftp to the user
/// running the tests (root is allowed with keys only). Stopped, with its sessions, on dispose.
/// </summary>
public sealed class SshServer : IAsyncDisposable
{
    public const string Sshd = "/usr/sbin/sshd";
    public const string Host = "127.0.0.1";
    private const string OwnerFile = "owner.pid";
    private Process? _process;

    private SshServer(string root, int port, string user)
    {
        Root = root;
        Port = port;
        User = user;
    }

    /// <summary>Root of all test sshd folders, so the ones of killed runs can be found and their servers stopped.</summary>
    public static string TemporaryRoot { get; } = Path.Combine(Path.GetTempPath(), $"datasync-sshd-{Environment.UserName}");

    public string Root { get; }
    public int Port { get; }

    /// <summary>The account sftp logs in as: the one running the tests.</summary>
    public string User { get; }

    public string HostKeyFile => Path.Combine(Root, "ssh_host_ed25519_key");

    /// <summary>A private key the server accepts for <see cref="User"/>.</summary>
    public string UserKeyFile => Path.Combine(Root, "id_ed25519");

    /// <summary>A known_hosts file holding the server's key, hashed, as <c>ssh-keyscan -H</c> wrote it.</summary>
    public string KnownHostsFile => Path.Combine(Root, "known_hosts");

    public string LogFile => Path.Combine(Root, "sshd.log");

    private string ConfigFile => Path.Combine(Root, "sshd_config");

    public static async Task<SshServer> StartAsync(string name)
    {
        if (!File.Exists(Sshd))
        {
            throw new InvalidOperationException(
                $"the sftp tests need OpenSSH's server at {Sshd}, which is not installed: install it with 'apt-get install -y openssh-server' (.ci/run does so when it is missing)");
        }

        RemoveLeftovers();
        Directory.CreateDirectory(TemporaryRoot);
        var safeName = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
        var root = Path.Combine(TemporaryRoot, $"{safeName[..Math.Min(safeName.Length, 40)]}-{Guid.NewGuid():N}"[..^20]);
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(Path.Combine(root, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);

        var server = new SshServer(root, PostgresServer.FindFreePort(), Environment.UserName);
        try
        {
            await NewKeyAsync(server.HostKeyFile).ConfigureAwait(false);
            await NewKeyAsync(server.UserKeyFile).ConfigureAwait(false);
            File.Copy(server.UserKeyFile + ".pub", Path.Combine(root, "authorized_keys"));
            await File.WriteAllTextAsync(server.ConfigFile, $"""
                ListenAddress {Host}
                Port {server.Port}
                HostKey {server.HostKeyFile}
                AuthorizedKeysFile {Path.Combine(root, "authorized_keys")}
                PidFile {Path.Combine(root, "sshd.pid")}
                StrictModes no
                UsePAM no
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin prohibit-password
                AllowUsers {server.User}
                Subsystem sftp internal-sftp
                LogLevel VERBOSE
                """).ConfigureAwait(false);
            await server.StartProcessAsync().ConfigureAwait(false);
            await File.WriteAllTextAsync(server.KnownHostsFile, await server.KeyscanAsync(hashed: true).ConfigureAwait(false)).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The sftp URL of a folder on this server.</summary>
    public string Url(string path) => $"sftp://{User}@{Host}:{Port}{path}";

    /// <summary>The server's key lines as <c>ssh-keyscan -p PORT 127.0.0.1</c> prints them (hashed with -H).</summary>
    public async Task<string> KeyscanAsync(bool hashed)
    {
        var result = await ProcessRunner.RunCheckedAsync("ssh-keyscan", [.. hashed ? new[] { "-H" } : [], "-t", "ed25519", "-p", Port.ToString(CultureInfo.InvariantCulture), Host]).ConfigureAwait(false);
        return result.StandardOutput;
    }

    /// <summary>Makes an ed25519 key pair without a passphrase (<paramref name="path"/> and <paramref name="path"/>.pub).</summary>
    public static Task NewKeyAsync(string path) =>
        ProcessRunner.RunCheckedAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "datasync-test", "-f", path]);

    /// <summary>Stops the listener and every session it serves, as a crash or a reboot of the backup machine would.</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        var pids = Descendants(_process.Id);
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
        }

        foreach (var pid in pids)
        {
            try
            {
                using var child = Process.GetProcessById(pid);
                child.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Already gone.
            }
        }

        await _process.WaitForExitAsync().ConfigureAwait(false);
        _process.Dispose();
        _process = null;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (pids.Any(Processes.IsRunning) && DateTime.UtcNow < deadline) await Task.Delay(20).ConfigureAwait(false);
    }

    /// <summary>Ends every open session (as a network cut would) while the server keeps listening.</summary>
    public async Task DropConnectionsAsync()
    {
        if (_process is null) return;
        var pids = Descendants(_process.Id);
        foreach (var pid in pids)
        {
            try
            {
                using var child = Process.GetProcessById(pid);
                child.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
            }
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (pids.Any(Processes.IsRunning) && DateTime.UtcNow < deadline) await Task.Delay(20).ConfigureAwait(false);
    }

    /// <summary>Starts the server again on the same port with the same keys.</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public string TailOfLog() => File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(30)) : "(no sshd log)";

    private async Task StartProcessAsync()
    {
        // As root, sshd wants its privilege-separation folder, which only the package's service start makes.
        if (Environment.IsPrivilegedProcess && !Directory.Exists("/run/sshd"))
            Directory.CreateDirectory("/run/sshd", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var info = new ProcessStartInfo(Sshd) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-D", "-f", ConfigFile, "-E", LogFile }) info.ArgumentList.Add(argument);
        _process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {Sshd}");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await AnswersAsync().ConfigureAwait(false))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                var stderr = _process.HasExited ? await _process.StandardError.ReadToEndAsync().ConfigureAwait(false) : "";
                throw new InvalidOperationException($"sshd on {Host}:{Port} did not come up: {stderr}\n{TailOfLog()}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>True once the server sends its SSH banner.</summary>
    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(Host, Port).ConfigureAwait(false);
            var buffer = new byte[4];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var read = await client.GetStream().ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            return read > 0 && Encoding.ASCII.GetString(buffer, 0, read).StartsWith("SSH", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The processes below <paramref name="pid"/> (sshd's per-connection sessions), from /proc.</summary>
    private static List<int> Descendants(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var child)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[child] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
            }
        }

        var found = new List<int>();
        var queue = new Queue<int>([pid]);
        while (queue.TryDequeue(out var current))
        {
            foreach (var (child, parent) in parents)
            {
                if (parent != current) continue;
                found.Add(child);
                queue.Enqueue(child);
            }
        }

        return found;
    }

    /// <summary>Stops servers of test runs that were killed before they cleaned up, and removes their folders.</summary>
    private static void RemoveLeftovers()
    {
        if (!Directory.Exists(TemporaryRoot)) return;
        foreach (var folder in Directory.EnumerateDirectories(TemporaryRoot))
        {
            var owner = Path.Combine(folder, OwnerFile);
            if (File.Exists(owner) && int.TryParse(File.ReadAllText(owner), NumberStyles.None, CultureInfo.InvariantCulture, out var ownerPid) && Directory.Exists($"/proc/{ownerPid}"))
                continue;
            var pidFile = Path.Combine(folder, "sshd.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var sshdPid))
            {
                // Only a process that is still this folder's sshd is stopped; the pid may have been reused.
                var commandLine = File.Exists($"/proc/{sshdPid}/cmdline") ? File.ReadAllText($"/proc/{sshdPid}/cmdline") : "";
                if (commandLine.Contains(folder, StringComparison.Ordinal))
                {
                    foreach (var pid in Descendants(sshdPid).Append(sshdPid))
                    {
                        try
                        {
                            using var process = Process.GetProcessById(pid);
                            process.Kill();
                        }
                        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                        {
                        }
                    }
                }
            }

            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
