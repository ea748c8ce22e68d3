using DataSync.Core.Archive;
using DataSync.Core.Archive.Sftp;
using DataSync.Core.Configuration;

namespace DataSync.Core.Bootstrap;

/// <summary>Makes the base-backup source BASE_BACKUP_DIR names: a local or mounted folder, or an sftp URL.</summary>
public static class BaseBackupSources
{
    /// <param name="notices">Told when an sftp connection drops and is made again, and of a backup skipped as unreadable (for the daemon log).</param>
    public static IBaseBackupSource Create(DataSyncSettings settings, IProgress<string>? notices = null, SftpConnectionOptions? sftpOptions = null) =>
        SftpLocation.IsSftpUrl(settings.BaseBackupDir)
            ? new SftpBaseBackupSource(ArchiveSources.Connect(settings.BaseBackupDir, settings, notices, sftpOptions), settings.StateDir, notices)
            : new LocalBaseBackupSource(settings.BaseBackupDir, notices);
}
