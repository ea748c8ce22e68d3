using DataSync.Wal.Records;
using DataSync.Wal.Segments;

namespace DataSync.Wal.Tests.Support;

/// <summary>Reads all records of some segments and keeps what the tests compare.</summary>
public static class ReaderRun
{
    public sealed record Seen(Lsn Lsn, Lsn End, byte Rmid, byte Info, uint Xid, uint TotalLength, byte[] MainData, int Blocks);

    public static (List<Seen> Records, WalRecordReader Reader) ReadAll(IEnumerable<WalSegmentSource> sources, WalReaderOptions? options = null)
    {
        var reader = new WalRecordReader(sources, options);
        var seen = new List<Seen>();
        while (reader.MoveNext())
        {
            var r = reader.Current;
            seen.Add(new Seen(r.Lsn, r.EndLsn, r.Rmid, r.Info, r.Xid, r.TotalLength, r.MainData.ToArray(), r.BlockCount));
        }

        return (seen, reader);
    }
}
