using DataSync.Core.Archive.Sftp;
using DataSync.Core.Configuration;

namespace DataSync.Core.Archive;

/// <summary>Makes the archive source ARCHIVE_DIR names: a local or mounted folder, or an sftp URL.</summary>
public static class ArchiveSources
{
    /// <param name="notices">Told when an sftp connection drops and is made again (for the daemon log).</param>
    public static IArchiveSource Create(DataSyncSettings settings, IProgress<string>? notices = null, SftpConnectionOptions? sftpOptions = null) =>
        SftpLocation.IsSftpUrl(settings.ArchiveDir)
            ? new SftpArchiveSource(Connect(settings.ArchiveDir, settings, notices, sftpOptions))
            : new LocalArchiveSource(settings.ArchiveDir);

    /// <summary>An sftp connection with the settings' key and known hosts; it connects on first use.</summary>
    public static SftpConnection Connect(string url, DataSyncSettings settings, IProgress<string>? notices = null, SftpConnectionOptions? sftpOptions = null) =>
        new(SftpLocation.Parse(url), settings.SshKeyFile, settings.SshKnownHosts, sftpOptions, notices);
}
