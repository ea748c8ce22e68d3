namespace DataSync.Core.Bootstrap;

/// <summary>
/// Where base backups live (BASE_BACKUP_DIR): a local or mounted folder, or an sftp server. Either
/// way the bootstrap gets a <see cref="BaseBackup"/> in local files.
/// </summary>
public interface IBaseBackupSource : IAsyncDisposable
{
    /// <summary>Names the source in messages (a path or a URL without secrets).</summary>
    string Description { get; }

    /// <summary>
    /// The newest base backup (latest start LSN) as local files: in place for a folder; for sftp, a copy
    /// downloaded under STATE_DIR once and kept until <see cref="Release"/>. Throws when there is none.
    /// </summary>
    Task<BaseBackup> NewestAsync(CancellationToken cancellationToken);

    /// <summary>The bootstrap is done with <paramref name="backup"/>: a downloaded copy is deleted; a backup in place is left alone.</summary>
    void Release(BaseBackup backup);
}
