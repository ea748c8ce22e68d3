namespace DataSync.Wal.Changes;

/// <summary>
/// A buffered change that cannot be turned into a row: names the table, the WAL position and the
/// transaction. Fatal for that table's stream, like <see cref="WalFormatException"/>.
/// </summary>
public sealed class ChangeDecodingException(string table, Lsn lsn, uint xid, string detail, Exception? inner = null)
    : Exception($"{table}: change at LSN {lsn} of transaction {xid}: {detail}", inner)
{
    public string Table { get; } = table;
    public Lsn Lsn { get; } = lsn;
    public uint Xid { get; } = xid;
}
