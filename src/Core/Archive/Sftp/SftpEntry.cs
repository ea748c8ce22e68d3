namespace DataSync.Core.Archive.Sftp;

/// <summary>A regular file or a folder in a listing on the sftp server.</summary>
public sealed record SftpEntry(string Name, long Size, bool IsDirectory);
