using System.Buffers.Binary;
using System.Text;
using DataSync.Wal.Records;
using DataSync.Wal.Tests.Support;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Tests.Typed;

/// <summary>Commit and abort records with every optional part, including the replication origin a real test server does not write.</summary>
public class XactFinishTests
{
    private static byte[] U32(params uint[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    private static byte[] U64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] CommitWithEverything(uint xinfo) =>
    [
        .. U64(0x0002_B7E1_0000_1234), // xact_time
        .. U32(xinfo),
        .. U32(16397, 1663), // dbinfo
        .. U32(2, 801, 802), // subxacts
        .. U32(1, 1663, 16397, 16500), // one relfilelocator
        .. U32(1, 2, 16397, 16500, 0), // one dropped-stats item
        .. U32(1), .. new byte[] { 0xFE, 0, 0, 0 }, .. U32(16397, 16500, 0), // one relcache invalidation
        .. U32(900), .. "gid_one\0"u8.ToArray(), // two-phase xid and gid
        .. U64(0x1_2345_6789), .. U64(777), // origin lsn and time, unaligned after the gid
    ];

    [Fact]
    public void Commit_prepared_with_every_part_and_an_origin_parses_in_order()
    {
        const uint xinfo = XactOpcodes.XinfoHasDbInfo | XactOpcodes.XinfoHasSubxacts | XactOpcodes.XinfoHasRelFileLocators
                           | XactOpcodes.XinfoHasDroppedStats | XactOpcodes.XinfoHasInvals | XactOpcodes.XinfoHasTwoPhase
                           | XactOpcodes.XinfoHasGid | XactOpcodes.XinfoHasOrigin;
        var wal = new WalBuilder();
        wal.Add(1, XactOpcodes.CommitPrepared | XactOpcodes.HasInfo, 0, new RecordBody().Origin(7).Main(CommitWithEverything(xinfo)).ToArray());
        using var reader = new WalRecordReader(wal.Sources());
        Assert.True(reader.MoveNext());

        var record = reader.Current;
        var commit = XactFinish.Parse(record);

        Assert.Equal("COMMIT_PREPARED", record.RecordType);
        Assert.True(record.HasOrigin);
        Assert.Equal(7, record.Origin);
        Assert.True(commit.IsCommit && commit.IsPrepared);
        Assert.Equal((16397u, 1663u), (commit.DbId, commit.TsId));
        Assert.Equal([801u, 802u], commit.Subxacts.ToArray());
        Assert.Equal(new RelFileLocator(1663, 16397, 16500), commit.RelFileLocators[0]);
        Assert.Equal((2, 16397u, 16500UL), (commit.DroppedStats.Kind(0), commit.DroppedStats.DbOid(0), commit.DroppedStats.ObjectId(0)));
        Assert.Equal(1, commit.Invalidations.Count);
        Assert.Equal(InvalidationMessages.Relcache, commit.Invalidations.Kind(0));
        Assert.Equal(16500u, commit.Invalidations.ObjectId(0));
        Assert.Equal(900u, commit.TransactionId(record));
        Assert.Equal("gid_one", Encoding.UTF8.GetString(commit.Gid));
        Assert.Equal(new Lsn(0x1_2345_6789), commit.OriginLsn);
        Assert.Equal(777, commit.OriginTimestamp);
    }

    [Fact]
    public void A_plain_abort_has_only_its_time_and_an_abort_never_has_invalidations()
    {
        var wal = new WalBuilder();
        wal.Add(1, XactOpcodes.Abort, 55, new RecordBody().Main(U64(42)).ToArray());
        // With HAS_INVALS set, an abort still has no invalidation part: the origin follows the two-phase part directly.
        var abortBody = CommitWithEverything(XactOpcodes.XinfoHasDbInfo | XactOpcodes.XinfoHasSubxacts | XactOpcodes.XinfoHasRelFileLocators | XactOpcodes.XinfoHasDroppedStats);
        wal.Add(1, XactOpcodes.Abort | XactOpcodes.HasInfo, 56, new RecordBody().Main(abortBody[..(8 + 4 + 8 + 12 + 16 + 20)]).ToArray());
        using var reader = new WalRecordReader(wal.Sources());

        Assert.True(reader.MoveNext());
        var plain = XactFinish.Parse(reader.Current);
        Assert.Equal((42L, 0u, 0), (plain.XactTime, plain.Xinfo, plain.Subxacts.Count));
        Assert.Equal(55u, plain.TransactionId(reader.Current));

        Assert.True(reader.MoveNext());
        var abort = XactFinish.Parse(reader.Current);
        Assert.False(abort.IsCommit);
        Assert.Equal(2, abort.Subxacts.Count);
        Assert.Equal(1, abort.DroppedStats.Count);
    }

    [Fact]
    public void Counts_that_do_not_fit_the_data_are_a_typed_error_not_an_overrun()
    {
        var wal = new WalBuilder();
        byte[] body = [.. U64(1), .. U32(XactOpcodes.XinfoHasSubxacts), .. U32(0x4000_0000), .. U32(1)];
        wal.Add(1, XactOpcodes.Commit | XactOpcodes.HasInfo, 9, new RecordBody().Main(body).ToArray());
        using var reader = new WalRecordReader(wal.Sources());
        Assert.True(reader.MoveNext());

        var error = Assert.Throws<WalFormatException>(() => XactFinish.Parse(reader.Current));

        Assert.Equal(WalErrorKind.BadRecordData, error.Kind);
        Assert.Equal(reader.Current.Lsn, error.Lsn);
        Assert.Contains("Transaction COMMIT", error.Message);
    }

    [Fact]
    public void Parsing_a_record_as_the_wrong_kind_is_refused()
    {
        var wal = new WalBuilder();
        wal.Add(1, XactOpcodes.Commit, 9, new RecordBody().Main(U64(1)).ToArray());
        using var reader = new WalRecordReader(wal.Sources());
        Assert.True(reader.MoveNext());

        try
        {
            HeapInsert.Parse(reader.Current);
            Assert.Fail("a commit parsed as a heap insert");
        }
        catch (ArgumentException)
        {
        }
    }
}
