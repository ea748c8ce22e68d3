using DataSync.Core.Archive.Sftp;
using DataSync.Core.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Archive.Sftp;

/// <summary>The sftp source against a real OpenSSH server started on loopback for each test.</summary>
public sealed class SftpArchiveSourceTests
{
    private static readonly SftpConnectionOptions Quick = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(5),
        FirstRetryDelay = TimeSpan.FromMilliseconds(200),
        MaxRetryDelay = TimeSpan.FromSeconds(1),
        MaxAttempts = 8,
    };

    private static SftpArchiveSource Source(SshServer ssh, string folder, string? keyFile = null, string? knownHosts = null, IProgress<string>? notices = null) =>
        new(new SftpConnection(SftpLocation.Parse(ssh.Url(folder)), keyFile ?? ssh.UserKeyFile, knownHosts ?? ssh.KnownHostsFile, Quick, notices));

    private static string NewFolder(SshServer ssh, string name)
    {
        var folder = Path.Combine(ssh.Root, name);
        Directory.CreateDirectory(folder);
        return folder;
    }

    [Fact]
    public async Task Lists_the_files_of_the_folder_and_reads_them_whole()
    {
        await using var ssh = await SshServer.StartAsync("sftp-list");
        var folder = NewFolder(ssh, "archive");
        var big = new byte[3 * 1024 * 1024 + 123];
        new Random(6).NextBytes(big);
        await File.WriteAllBytesAsync(Path.Combine(folder, "000000010000000000000003"), big);
        const string history = "1\t0/3000000\tno recovery target specified\n";
        await File.WriteAllTextAsync(Path.Combine(folder, "00000002.history"), history);
        Directory.CreateDirectory(Path.Combine(folder, "subfolder"));

        // The known_hosts the fixture wrote is ssh-keyscan -H output: a hashed [127.0.0.1]:port line.
        Assert.StartsWith("|1|", (await File.ReadAllTextAsync(ssh.KnownHostsFile)).Trim());
        await using var source = Source(ssh, folder);
        var listing = await source.ListAsync(CancellationToken.None);
        Assert.Equal([("000000010000000000000003", (long)big.Length), ("00000002.history", (long)history.Length)],
            listing.Select(e => (e.Name, e.Size)).Order().ToList());
        Assert.Equal(big, await ReadAllAsync(source, "000000010000000000000003"));
        Assert.Equal(ssh.Url(folder), source.Description);
        Assert.Throws<ArgumentException>(() => { _ = source.OpenReadAsync("../etc/passwd", CancellationToken.None); });
    }

    [Fact]
    public async Task An_unknown_host_key_is_refused_with_the_command_that_adds_it()
    {
        await using var ssh = await SshServer.StartAsync("sftp-unknown");
        var folder = NewFolder(ssh, "archive");
        var knownHosts = Path.Combine(ssh.Root, "empty_known_hosts");
        await File.WriteAllTextAsync(knownHosts, "# nothing yet\n");
        await using var source = Source(ssh, folder, knownHosts: knownHosts);

        var refused = await Assert.ThrowsAsync<HostKeyRefusedException>(() => source.ListAsync(CancellationToken.None));
        Assert.Equal(HostKeyVerdict.Unknown, refused.Verdict);
        var command = $"ssh-keyscan -p {ssh.Port} 127.0.0.1 >> {knownHosts}";
        Assert.Contains(command, refused.Message);
        Assert.Contains("SHA256:", refused.Message);

        // Doing what the message says lets the same source in, without a restart.
        await File.AppendAllTextAsync(knownHosts, await ssh.KeyscanAsync(hashed: false));
        Assert.Empty(await source.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_changed_host_key_is_refused_naming_the_line_and_how_to_replace_it()
    {
        await using var ssh = await SshServer.StartAsync("sftp-changed");
        var folder = NewFolder(ssh, "archive");
        var other = Path.Combine(ssh.Root, "other_host_key");
        await SshServer.NewKeyAsync(other);
        var knownHosts = Path.Combine(ssh.Root, "stale_known_hosts");
        var otherKey = (await File.ReadAllTextAsync(other + ".pub")).Split(' ');
        await File.WriteAllTextAsync(knownHosts, $"unrelated.example {otherKey[0]} {otherKey[1]}\n[127.0.0.1]:{ssh.Port} {otherKey[0]} {otherKey[1]}\n");
        await using var source = Source(ssh, folder, knownHosts: knownHosts);

        var refused = await Assert.ThrowsAsync<HostKeyRefusedException>(() => source.ListAsync(CancellationToken.None));
        Assert.Equal(HostKeyVerdict.Changed, refused.Verdict);
        Assert.Contains($"{knownHosts}, line 2", refused.Message);
        Assert.Contains($"ssh-keygen -R '[127.0.0.1]:{ssh.Port}' -f {knownHosts}", refused.Message);
        Assert.Contains($"ssh-keyscan -p {ssh.Port} 127.0.0.1 >> {knownHosts}", refused.Message);
        Assert.False(refused.IsTransient);
    }

    [Fact]
    public async Task A_key_the_server_does_not_accept_is_refused_clearly()
    {
        await using var ssh = await SshServer.StartAsync("sftp-wrong-key");
        var folder = NewFolder(ssh, "archive");
        var stranger = Path.Combine(ssh.Root, "stranger_key");
        await SshServer.NewKeyAsync(stranger);
        await using var source = Source(ssh, folder, keyFile: stranger);

        var refused = await Assert.ThrowsAsync<SftpSourceException>(() => source.ListAsync(CancellationToken.None));
        Assert.False(refused.IsTransient);
        Assert.Contains($"refused user {ssh.User} with the key SSH_KEY_FILE ({stranger})", refused.Message);
        Assert.Contains($"add the public key ({stranger}.pub) to ~{ssh.User}/.ssh/authorized_keys", refused.Message);
        Assert.DoesNotContain((await File.ReadAllTextAsync(stranger)).Split('\n')[1], refused.Message);

        await using var missing = Source(ssh, folder, keyFile: Path.Combine(ssh.Root, "no_such_key"));
        var absent = await Assert.ThrowsAsync<SftpSourceException>(() => missing.ListAsync(CancellationToken.None));
        Assert.Contains("does not exist: make a key with: ssh-keygen", absent.Message);

        await using var nowhere = Source(ssh, Path.Combine(ssh.Root, "no-such-folder"));
        var notFound = await Assert.ThrowsAsync<SftpSourceException>(() => nowhere.ListAsync(CancellationToken.None));
        Assert.Contains("no such file or folder", notFound.Message);
        Assert.False(notFound.IsTransient);
    }

    [Fact]
    public async Task Reconnects_after_the_server_restarts_and_resumes_a_read_where_it_stopped()
    {
        await using var ssh = await SshServer.StartAsync("sftp-reconnect");
        var folder = NewFolder(ssh, "archive");
        var big = new byte[8 * 1024 * 1024];
        new Random(7).NextBytes(big);
        await File.WriteAllBytesAsync(Path.Combine(folder, "000000010000000000000001"), big);
        var notices = new List<string>();
        await using var source = Source(ssh, folder, notices: new Recorder(notices));
        Assert.Single(await source.ListAsync(CancellationToken.None));

        // Down between two calls: the next call waits it out.
        await ssh.StopAsync();
        var restart = Task.Run(async () =>
        {
            await Task.Delay(700);
            await ssh.StartAgainAsync();
        });
        Assert.Single(await source.ListAsync(CancellationToken.None));
        await restart;
        Assert.Contains(notices, n => n.Contains("made again", StringComparison.Ordinal));

        // Down in the middle of a file: the read goes on from the same offset after the reconnect.
        await using var stream = await source.OpenReadAsync("000000010000000000000001", CancellationToken.None);
        var copy = new MemoryStream();
        var buffer = new byte[256 * 1024];
        var read = await stream.ReadAsync(buffer);
        copy.Write(buffer, 0, read);
        await ssh.StopAsync();
        await ssh.StartAgainAsync();
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0) copy.Write(buffer, 0, n);
        Assert.Equal(big, copy.ToArray());
        Assert.Equal(2, notices.Count(n => n.EndsWith("made again", StringComparison.Ordinal)));

        // A cut under an open file: the next read fails on the dead connection, reconnects and resumes.
        await using var again = await source.OpenReadAsync("000000010000000000000001", CancellationToken.None);
        copy.SetLength(0);
        read = await again.ReadAsync(buffer);
        copy.Write(buffer, 0, read);
        await ssh.DropConnectionsAsync();
        while ((n = await again.ReadAsync(buffer)) > 0) copy.Write(buffer, 0, n);
        Assert.Equal(big, copy.ToArray());
        Assert.Equal(3, notices.Count(n => n.EndsWith("made again", StringComparison.Ordinal)));

        // Down for good: a transient error naming the server, after the configured tries.
        await ssh.StopAsync();
        var gone = await Assert.ThrowsAsync<SftpSourceException>(() => source.ListAsync(CancellationToken.None));
        Assert.True(gone.IsTransient);
        Assert.Contains($"127.0.0.1:{ssh.Port}", gone.Message);
    }

    private static async Task<byte[]> ReadAllAsync(SftpArchiveSource source, string name)
    {
        await using var stream = await source.OpenReadAsync(name, CancellationToken.None);
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private sealed class Recorder(List<string> lines) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (lines) lines.Add(value);
        }
    }
}
