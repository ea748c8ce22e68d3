namespace DataSync.Core.Archive;

/// <summary>One file in the WAL archive (or a base-backup folder), as its listing shows it.</summary>
public sealed record ArchiveEntry(string Name, long Size);

/// <summary>
/// Where the WAL archive lives: a local or mounted folder, or an sftp server. The watcher and the
/// bootstrap only list and read through this, so they do not care which.
/// </summary>
public interface IArchiveSource : IAsyncDisposable
{
    /// <summary>Names the source in messages (a path or a URL without secrets).</summary>
    string Description { get; }

    /// <summary>The files directly in the archive folder.</summary>
    Task<IReadOnlyList<ArchiveEntry>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Opens one file for reading; the caller disposes the stream.</summary>
    Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken);
}
