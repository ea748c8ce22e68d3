namespace DataSync.Wal.Dump;

/// <summary>Which records <see cref="WalDump"/> prints, as pg_waldump's --relation and --xid narrow its output.</summary>
public sealed record WalDumpFilter
{
    public static readonly WalDumpFilter None = new();

    /// <summary>Only records with a block reference to this relfilenode (any tablespace, database, fork).</summary>
    public uint? RelFileNode { get; init; }

    /// <summary>Only records whose xl_xid is this.</summary>
    public uint? Xid { get; init; }
}
