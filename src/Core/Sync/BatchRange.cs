using DataSync.Wal;

namespace DataSync.Core.Sync;

/// <summary>Where a table's batch lies in the WAL: the first and last commit applied and the segment file(s) that hold them.</summary>
public sealed record BatchRange(Lsn FirstCommit, Lsn LastCommit, string ArchiveFiles);
