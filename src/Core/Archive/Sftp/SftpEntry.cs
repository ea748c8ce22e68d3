namespace DataSync.Core.Archive.Sftp;

/// <summary>A regular file, a folder or a symbolic link in a listing on the sftp server.</summary>
/// <param name="IsLink">A symbolic link (the listing does not follow it: <paramref name="IsDirectory"/> is false).</param>
public sealed record SftpEntry(string Name, long Size, bool IsDirectory, bool IsLink = false);
