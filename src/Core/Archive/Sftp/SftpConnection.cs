using System.Net.Sockets;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace DataSync.Core.Archive.Sftp;

/// <summary>
/// One sftp connection to the backup machine, made on first use: key authentication with SSH_KEY_FILE,
/// the host key checked against SSH_KNOWN_HOSTS (read again at each connect, so a key added after a
/// refusal is taken without a restart), and a dropped connection made again with backoff. Only
/// reading is offered: the backup machine is never written to.
/// </summary>
public sealed class SftpConnection(SftpLocation server, string keyFile, string knownHostsFile, SftpConnectionOptions? options = null, IProgress<string>? notices = null)
    : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SftpClient? _client;
    private PrivateKeyFile? _key;
    private bool _connectedBefore;

    public SftpLocation Server => server;

    public SftpConnectionOptions Options { get; } = options ?? new SftpConnectionOptions();

    /// <summary>
    /// The regular files, folders and symbolic links in <paramref name="path"/>. Names that are not one plain name (a slash, a NUL,
    /// empty, . or ..) are left out: a server could send them, and they would lead outside any folder they are put in.
    /// </summary>
    public Task<IReadOnlyList<SftpEntry>> ListAsync(string path, CancellationToken cancellationToken) =>
        RunAsync($"listing {path}", async (client, token) =>
        {
            var entries = new List<SftpEntry>();
            await foreach (var file in client.ListDirectoryAsync(path, token).ConfigureAwait(false))
            {
                if (!IO.ContainedPath.IsPlainName(file.Name)) continue;
                if (file.IsRegularFile || file.IsDirectory || file.IsSymbolicLink)
                    entries.Add(new SftpEntry(file.Name, file.Length, file.IsDirectory, file.IsSymbolicLink));
            }

            return (IReadOnlyList<SftpEntry>)entries;
        }, cancellationToken);

    /// <summary>Opens a file for reading; a connection lost while reading is made again and the read resumes where it stopped.</summary>
    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        var length = await RunAsync($"opening {path}", async (client, token) =>
        {
            var attributes = await client.GetAttributesAsync(path, token).ConfigureAwait(false);
            return attributes.Size;
        }, cancellationToken).ConfigureAwait(false);
        return new SftpResumingReadStream(this, path, length);
    }

    /// <summary>
    /// Runs <paramref name="operation"/> on a connected client. A lost connection is dropped, made again
    /// after a backoff, and the operation run again, up to <see cref="SftpConnectionOptions.MaxAttempts"/> tries.
    /// </summary>
    internal async Task<T> RunAsync<T>(string what, Func<SftpClient, CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var client = await ConnectedClientAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await operation(client, cancellationToken).ConfigureAwait(false);
            }
            catch (SftpPathNotFoundException e)
            {
                throw new SftpSourceException($"{what} on {server.Authority}: no such file or folder", isTransient: false, e);
            }
            catch (SftpPermissionDeniedException e)
            {
                throw new SftpSourceException($"{what} on {server.Authority}: permission denied for user {server.User}", isTransient: false, e);
            }
            catch (Exception e) when (IsConnectionLoss(e) && !cancellationToken.IsCancellationRequested)
            {
                await DropAsync(client).ConfigureAwait(false);
                if (attempt >= Options.MaxAttempts)
                    throw new SftpSourceException($"{what} on {server.Authority} failed {attempt} times, the connection dropping each time: {e.Message}", isTransient: true, e);
                notices?.Report($"sftp connection to {server.Authority} lost while {what} ({e.Message}); reconnecting");
                await Task.Delay(Options.RetryDelay(attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Forgets a client whose connection failed, so the next operation connects again.</summary>
    internal async Task DropAsync(SftpClient client)
    {
        // Not cancellable: a half-dropped client must not stay current.
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (!ReferenceEquals(client, _client)) return;
            DisposeClient();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A network failure or a server gone away, as opposed to a refusal or a missing file.</summary>
    internal static bool IsConnectionLoss(Exception e) => e switch
    {
        HostKeyRefusedException => false,
        SftpSourceException s => s.IsTransient,
        SshAuthenticationException or SftpPathNotFoundException or SftpPermissionDeniedException => false,
        SshConnectionException or SshOperationTimeoutException or SocketException or TimeoutException or ObjectDisposedException => true,
        SshException when e.InnerException is SocketException or IOException => true,
        IOException when e is not (FileNotFoundException or DirectoryNotFoundException) => true,
        _ => false,
    };

    private async Task<SftpClient> ConnectedClientAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client is { IsConnected: true } connected) return connected;
            DisposeClient();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await ConnectOnceAsync(cancellationToken).ConfigureAwait(false);
                    if (_connectedBefore) notices?.Report($"sftp connection to {server.Authority} made again");
                    _connectedBefore = true;
                    return _client!;
                }
                catch (Exception e) when (IsConnectionLoss(e) && !cancellationToken.IsCancellationRequested)
                {
                    DisposeClient();
                    if (attempt >= Options.MaxAttempts)
                        throw new SftpSourceException($"cannot reach the sftp server {server.Authority} ({attempt} tries): {e.Message}", isTransient: true, e);
                    notices?.Report($"cannot reach the sftp server {server.Authority} ({e.Message}); trying again");
                    await Task.Delay(Options.RetryDelay(attempt), cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    DisposeClient();
                    throw;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ConnectOnceAsync(CancellationToken cancellationToken)
    {
        var knownHosts = KnownHosts.Load(knownHostsFile);
        _key = LoadKey();
        var info = new ConnectionInfo(server.Host, server.Port, server.User, new PrivateKeyAuthenticationMethod(server.User, _key))
        {
            Timeout = Options.ConnectTimeout,
        };
        AskForRecordedKeyTypes(info, knownHosts.KeyTypesFor(server.Host, server.Port));
        _client = new SftpClient(info) { OperationTimeout = Options.OperationTimeout, KeepAliveInterval = Options.KeepAliveInterval };

        HostKeyRefusedException? refusal = null;
        _client.HostKeyReceived += (_, e) =>
        {
            var check = knownHosts.Check(server.Host, server.Port, e.HostKey);
            e.CanTrust = check.Verdict == HostKeyVerdict.Trusted;
            if (!e.CanTrust) refusal = Refusal(check, e.HostKeyName, e.HostKey);
        };

        try
        {
            await _client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (refusal is not null && e is not OperationCanceledException)
        {
            throw refusal;
        }
        catch (SshAuthenticationException e)
        {
            throw new SftpSourceException(
                $"the sftp server {server.Authority} refused user {server.User} with the key SSH_KEY_FILE ({keyFile}): {e.Message.TrimEnd('.')}; " +
                $"add the public key ({keyFile}.pub) to ~{server.User}/.ssh/authorized_keys on the server",
                isTransient: false, e);
        }
    }

    /// <summary>
    /// The client asks for the key types known_hosts has for this server (as OpenSSH does), so a server
    /// known by its RSA key is not taken for a changed one when it also has an Ed25519 key.
    /// </summary>
    private static void AskForRecordedKeyTypes(ConnectionInfo info, IReadOnlySet<string> recorded)
    {
        if (recorded.Count == 0) return;
        static string KeyTypeOf(string algorithm) => algorithm.StartsWith("rsa-sha2-", StringComparison.Ordinal) ? "ssh-rsa" : algorithm;
        var unwanted = info.HostKeyAlgorithms.Keys.Where(a => !recorded.Contains(KeyTypeOf(a))).ToList();
        if (unwanted.Count == info.HostKeyAlgorithms.Count) return;
        foreach (var algorithm in unwanted) info.HostKeyAlgorithms.Remove(algorithm);
    }

    private PrivateKeyFile LoadKey()
    {
        if (!File.Exists(keyFile))
        {
            throw new SftpSourceException(
                $"SSH_KEY_FILE '{keyFile}' does not exist: make a key with: ssh-keygen -t ed25519 -N '' -f {keyFile}, " +
                $"then add {keyFile}.pub to ~{server.User}/.ssh/authorized_keys on {server.Host}",
                isTransient: false);
        }

        try
        {
            return new PrivateKeyFile(keyFile);
        }
        catch (SshPassPhraseNullOrEmptyException e)
        {
            throw new SftpSourceException($"SSH_KEY_FILE '{keyFile}' is protected by a passphrase, which a daemon cannot type: use a key without one", isTransient: false, e);
        }
        catch (Exception e) when (e is SshException or FormatException or InvalidOperationException or NotSupportedException or UnauthorizedAccessException or IOException)
        {
            // The library's message is about the format; the key's contents are never quoted.
            throw new SftpSourceException($"SSH_KEY_FILE '{keyFile}' is not a private key SSH.NET can read ({e.GetType().Name}): use an OpenSSH ed25519, ecdsa or rsa key", isTransient: false, e);
        }
    }

    private HostKeyRefusedException Refusal(HostKeyCheck check, string keyType, byte[] offered)
    {
        var who = $"the sftp server {server.Authority} offered the host key {keyType} {KnownHosts.Fingerprint(offered)}";
        var add = $"ssh-keyscan -p {server.Port} {server.Host} >> {knownHostsFile}";
        return check.Verdict switch
        {
            HostKeyVerdict.Unknown => new HostKeyRefusedException(
                $"{who}, which SSH_KNOWN_HOSTS ({knownHostsFile}) does not list, so the connection is refused. " +
                $"If that is the backup machine's key (compare with ssh-keygen -lf on its /etc/ssh/ssh_host_*_key.pub), add it with: {add}",
                check.Verdict),
            HostKeyVerdict.Changed => new HostKeyRefusedException(
                $"{who}, but SSH_KNOWN_HOSTS ({knownHostsFile}, line {check.RecordedLine}) holds a different key for {server.KnownHostsName}: " +
                "the server was reinstalled or someone is in between, so the connection is refused. " +
                $"If the change is expected, remove the old key with: ssh-keygen -R '{server.KnownHostsName}' -f {knownHostsFile}, then add the new one with: {add}",
                check.Verdict),
            _ => new HostKeyRefusedException(
                $"{who}, which SSH_KNOWN_HOSTS ({knownHostsFile}, line {check.RecordedLine}) marks @revoked, so the connection is refused",
                check.Verdict),
        };
    }

    private void DisposeClient()
    {
        if (_client is not null)
        {
            try
            {
                if (_client.IsConnected) _client.Disconnect();
            }
            catch (Exception e) when (IsConnectionLoss(e))
            {
                // Already gone.
            }

            _client.Dispose();
            _client = null;
        }

        _key?.Dispose();
        _key = null;
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            DisposeClient();
        }
        finally
        {
            _gate.Release();
        }
    }
}
