namespace DataSync.Core.Archive;

/// <summary>
/// Tells when files appear or change in a local archive folder, so a new segment is fetched as soon as
/// archive_command has written it instead of at the next scan. Only a hint: scanning every DATA_SYNC_FREQ
/// seconds stays the rule (and the only way for an sftp archive), so a missed or dropped notification
/// (an overflowing queue, a network mount that sends none) costs latency, never data.
/// </summary>
public sealed class ArchiveFolderEvents : IDisposable
{
    private readonly FileSystemWatcher _watcher;

    private ArchiveFolderEvents(FileSystemWatcher watcher) => _watcher = watcher;

    /// <summary>Starts watching <paramref name="folder"/>; null (with the reason in <paramref name="problem"/>) when the system refuses.</summary>
    public static ArchiveFolderEvents? TryStart(string folder, Action changed, out string? problem)
    {
        problem = null;
        FileSystemWatcher? watcher = null;
        try
        {
            watcher = new FileSystemWatcher(folder)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.LastWrite,
                IncludeSubdirectories = false,
            };
            watcher.Created += (_, _) => changed();
            watcher.Renamed += (_, _) => changed();
            watcher.Changed += (_, _) => changed();
            watcher.EnableRaisingEvents = true;
            return new ArchiveFolderEvents(watcher);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            // E.g. the inotify instance limit (fs.inotify.max_user_instances) is reached.
            watcher?.Dispose();
            problem = e.Message;
            return null;
        }
    }

    public void Dispose() => _watcher.Dispose();
}
