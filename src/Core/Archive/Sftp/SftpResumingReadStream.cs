using Renci.SshNet;

namespace DataSync.Core.Archive.Sftp;

/// <summary>
/// A file on the sftp server read front to back (or with seeks, as a tar reader skips entries). When
/// the connection drops mid-file, the connection is made again and the file reopened at the same
/// offset, so a 16 MiB segment or a large base backup is not started over.
/// </summary>
internal sealed class SftpResumingReadStream(SftpConnection connection, string path, long length) : Stream
{
    private Stream? _remote;
    private SftpClient? _remoteClient;
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0) return 0;
        return await connection.RunAsync($"reading {path}", async (client, token) =>
        {
            if (_remote is null || !ReferenceEquals(_remoteClient, client))
            {
                await CloseRemoteAsync().ConfigureAwait(false);
                _remote = await client.OpenAsync(path, FileMode.Open, FileAccess.Read, token).ConfigureAwait(false);
                _remoteClient = client;
                if (_position > 0) _remote.Seek(_position, SeekOrigin.Begin);
            }

            try
            {
                var read = await _remote.ReadAsync(buffer, token).ConfigureAwait(false);
                _position += read;
                return read;
            }
            catch
            {
                await CloseRemoteAsync().ConfigureAwait(false);
                throw;
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Readers that only know synchronous reads (GZipStream's Read, TarReader.GetNextEntry) end up here.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        _position = target;
        // A lost connection shows at the next read, which reopens at the new position.
        try
        {
            _remote?.Seek(target, SeekOrigin.Begin);
        }
        catch (Exception e) when (SftpConnection.IsConnectionLoss(e))
        {
            CloseRemoteAsync().AsTask().GetAwaiter().GetResult();
        }

        return target;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private async ValueTask CloseRemoteAsync()
    {
        if (_remote is null) return;
        try
        {
            await _remote.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (SftpConnection.IsConnectionLoss(e))
        {
            // Closing a handle on a dead connection: nothing to release on our side.
        }

        _remote = null;
        _remoteClient = null;
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseRemoteAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) CloseRemoteAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }
}
