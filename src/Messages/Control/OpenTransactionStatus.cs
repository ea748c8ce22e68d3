namespace DataSync.Messages.Control;

/// <summary>
/// The open production transaction that holds the stream's restart point: its xid, its first record and that record's
/// archive file, and what the WAL tells of its age (begun by <paramref name="BegunBy"/>, open at least until
/// <paramref name="NewestCommitInWal"/>, both on production's clock; null until a commit after its first record is seen).
/// </summary>
public sealed record OpenTransactionStatus(long Xid, string? Lsn, string? ArchiveFile, DateTimeOffset? BegunBy, DateTimeOffset? NewestCommitInWal);
