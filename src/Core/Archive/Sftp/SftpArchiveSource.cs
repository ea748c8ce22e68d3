namespace DataSync.Core.Archive.Sftp;

/// <summary>A WAL archive in a folder on the backup machine, read over sftp.</summary>
public sealed class SftpArchiveSource(SftpConnection connection) : IArchiveSource
{
    public string Description => connection.Server.ToString();

    public async Task<IReadOnlyList<ArchiveEntry>> ListAsync(CancellationToken cancellationToken)
    {
        var entries = await connection.ListAsync(connection.Server.Path, cancellationToken).ConfigureAwait(false);
        return entries.Where(e => !e.IsDirectory && !e.IsLink).Select(e => new ArchiveEntry(e.Name, e.Size)).ToList();
    }

    public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken)
    {
        if (name.Contains('/', StringComparison.Ordinal) || name is "." or ".." or "")
            throw new ArgumentException($"'{name}' is not a file name in the archive", nameof(name));
        return connection.OpenReadAsync(connection.Server.Below(name), cancellationToken);
    }

    public ValueTask DisposeAsync() => connection.DisposeAsync();
}
