namespace DataSync.Core.Bootstrap;

/// <summary>Base backups in a local or mounted folder, used where they are.</summary>
public sealed class LocalBaseBackupSource(string directory) : IBaseBackupSource
{
    public string Description => directory;

    public Task<BaseBackup> NewestAsync(CancellationToken cancellationToken)
    {
        var backups = BaseBackup.FindAll(directory);
        return backups.Count > 0
            ? Task.FromResult(backups[0])
            : throw new InvalidOperationException($"no base backup found in BASE_BACKUP_DIR '{directory}'");
    }

    public void Release(BaseBackup backup)
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
