namespace DataSync.Core.Bootstrap;

/// <summary>Base backups in a local or mounted folder, used where they are.</summary>
/// <param name="notices">Told, once per folder, of a backup whose label cannot be read (it is skipped, the others stay usable).</param>
public sealed class LocalBaseBackupSource(string directory, IProgress<string>? notices = null) : IBaseBackupSource
{
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    public string Description => directory;

    public Task<BaseBackup> NewestAsync(CancellationToken cancellationToken)
    {
        var backups = BaseBackup.FindAll(directory, Unreadable);
        return backups.Count > 0
            ? Task.FromResult(backups[0])
            : throw new InvalidOperationException($"no base backup found in BASE_BACKUP_DIR '{directory}'");
    }

    public void Release(BaseBackup backup)
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void Unreadable(string folder, Exception error)
    {
        lock (_reported)
        {
            if (!_reported.Add(folder + "\n" + error.Message)) return;
        }

        notices?.Report($"base backup folder {folder} is skipped: {error.Message}");
    }
}
