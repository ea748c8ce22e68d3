namespace DataSync.Wal.Changes;

/// <summary>
/// The running production transaction that holds the stream's restart point back (and so the spool): its
/// top-level xid, where its first record is, and <paramref name="OpenBy"/>, the first commit or abort time the
/// WAL showed after that record (it had begun by then; null until another transaction ends after it).
/// </summary>
public sealed record OldestOpenTransaction(uint Xid, Lsn FirstLsn, DateTimeOffset? OpenBy);
