using System.Buffers.Binary;
using System.Text;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Records;
using DataSync.Wal.Tests.Support;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// Transaction reassembly on synthetic WAL, for the paths a live workload cannot be made to take on
/// demand (a speculative insertion killed by a super-delete, a transaction that vanishes in a crash)
/// and for all the others side by side: subtransactions rolled back, two-phase commit and rollback,
/// aborts, commit order, spilling under a tiny memory limit.
/// </summary>
public sealed class ReassemblerTests : IDisposable
{
    private const uint Database = 5;
    private static readonly RelFileLocator TableFile = new(1663, Database, 16401);
    private static readonly RelFileLocator OtherFile = new(1663, Database, 16500);

    private static readonly TableDescriptor Table = new("public", "t", 16400, TableFile.RelNumber, 1663, Database, 0, 0, 'd', [1],
    [
        new ColumnDescriptor(1, "id", 23, -1, 4, 'i', true, 'p', false, true, false, null, '\0'),
        new ColumnDescriptor(2, "v", 25, -1, -1, 'i', false, 'x', false, false, false, null, '\0'),
    ]);

    private readonly SpillStore _spill = new(Path.Combine(Path.GetTempPath(), $"datasync-reassembler-tests-{Environment.UserName}", Guid.NewGuid().ToString("N")));
    private readonly WalBuilder _wal = new();

    [Theory]
    [InlineData(64L * 1024 * 1024)]
    [InlineData(100L)]
    public void Committed_work_comes_out_in_commit_order_and_nothing_else(long memoryLimit)
    {
        Insert(100, 1, "a");
        Commit(100);

        Insert(101, 2, "top");
        Insert(102, 3, "rolled back to savepoint", top: 101);
        Abort(102);
        Insert(103, 4, "released savepoint", top: 101);
        Insert(999, 50, "another table", file: OtherFile);
        Commit(101, 103);

        Insert(104, 5, "lost the conflict", speculative: true);
        SuperDelete(104);
        Insert(104, 6, "won", speculative: true);
        Confirm(104);
        Commit(104);

        Insert(105, 7, "prepared, committed later");
        Prepare(105, "g1");
        Insert(106, 8, "committed while 105 is prepared");
        Commit(106);
        FinishPrepared(105, "g1", commit: true);

        Insert(107, 9, "prepared, rolled back");
        Prepare(107, "g2");
        FinishPrepared(107, "g2", commit: false);

        Insert(108, 10, "aborted");
        Abort(108);

        Insert(109, 11, "the backend crashed");
        RunningXacts(oldestRunning: 110);

        Insert(110, 12, "last");
        Commit(110);

        var seen = new List<string>();
        var decoder = new ChangeDecoder(new CatalogSnapshot(Lsn.Invalid, [Table], [], []), null, _wal.Sources(), Lsn.Invalid,
            new ReassemblerOptions { MemoryLimitBytes = memoryLimit, Spill = _spill });
        foreach (var transaction in decoder.Transactions())
        {
            foreach (var change in transaction.Changes)
            {
                var row = Assert.IsType<RowChange>(change);
                Assert.Equal(ChangeKind.Insert, row.Kind);
                seen.Add($"{transaction.Xid}{(transaction.Gid is null ? "" : "/" + transaction.Gid)}: {Id(row)} {Text(row)}");
            }
        }

        Assert.Equal(
        [
            "100: 1 a",
            "101: 2 top",
            "101: 4 released savepoint",
            "104: 6 won",
            "106: 8 committed while 105 is prepared",
            "105/g1: 7 prepared, committed later",
            "110: 12 last",
        ], seen);
        Assert.Equal(0, decoder.Reassembler.OpenTransactionCount);
        Assert.Equal(0, decoder.Reassembler.MemoryBytes);
        if (memoryLimit < 1000) Assert.True(decoder.Reassembler.SpilledTransactions > 0);
        // One spill file per spilled transaction, however often it went over the limit.
        Assert.Equal(decoder.Reassembler.SpilledTransactions, _spill.FilesCreated);
        // The last transaction's buffer lives until the decoder moves on or is disposed.
        decoder.Dispose();
        Assert.Empty(_spill.Files());
    }

    [Fact]
    public void Transactions_seen_before_the_start_are_reported_incomplete()
    {
        Insert(200, 1, "before the start");
        var start = _wal.Position;
        Insert(200, 2, "after the start");
        Insert(201, 3, "new");
        Commit(200);
        Commit(201);

        using var decoder = new ChangeDecoder(new CatalogSnapshot(Lsn.Invalid, [Table], [], []), null, _wal.Sources(), new Lsn((start.Value + 7) & ~7UL));
        var seen = decoder.Transactions().Select(t => $"{t.Xid} {t.StartedBeforeDecoding} {t.Changes.Count()}").ToList();
        Assert.Equal(["200 True 0", "201 False 1"], seen);
    }

    [Fact]
    public void Starting_early_and_emitting_from_the_copy_point_gives_whole_transactions()
    {
        Insert(300, 1, "in the copy already");
        Insert(301, 2, "running at the copy point");
        Commit(300);
        var copyPoint = new Lsn((_wal.Position.Value + 7) & ~7UL);
        Insert(301, 3, "after the copy point");
        Commit(301);

        using var decoder = new ChangeDecoder(new CatalogSnapshot(Lsn.Invalid, [Table], [], []), null, _wal.Sources(), Lsn.Invalid,
            new ReassemblerOptions { EmitCommitsFrom = copyPoint });
        var seen = decoder.Transactions().Select(t => $"{t.Xid} {t.StartedBeforeDecoding} {string.Join(",", t.Changes.OfType<RowChange>().Select(Id))}").ToList();
        Assert.Equal(["301 False 2,3"], seen);
    }

    [Fact]
    public void A_change_that_cannot_be_decoded_stops_its_own_table_and_no_other()
    {
        var other = Table with { Name = "other", RelationOid = 16499, RelFileNode = OtherFile.RelNumber };
        // A text value whose 4-byte varlena header claims 4 KiB where 4 bytes follow: damaged data in one table's row.
        Insert(100, 1, "", brokenValue: [0x00, 0x40, 0x00, 0x00, (byte)'a', (byte)'b', (byte)'c', (byte)'d']);
        Insert(100, 2, "the other table's row", file: OtherFile);
        Commit(100);
        Insert(101, 3, "later row of the damaged table");
        Insert(101, 4, "later row of the other table", file: OtherFile);
        Commit(101);

        using var decoder = new ChangeDecoder(new CatalogSnapshot(Lsn.Invalid, [Table, other], [], []), null, _wal.Sources(), Lsn.Invalid);
        var seen = decoder.Transactions().Select(t => $"{t.Xid}: " + string.Join(", ", t.Changes.Select(c => c switch
        {
            RowChange row => $"{row.Table.Name} {Id(row)}",
            UndecodableRowEvent undecodable => $"{undecodable.Table.Name} undecodable by {undecodable.Xid}",
            _ => c.GetType().Name,
        }))).ToList();

        Assert.Equal(["100: t undecodable by 100, other 2", "101: other 4"], seen);
    }

    private static int Id(RowChange row) => BinaryPrimitives.ReadInt32BigEndian(row.NewRow!.Field(0));

    private static string Text(RowChange row) => Encoding.UTF8.GetString(row.NewRow!.Field(1));

    // ---- records ----

    private ushort _offnum;

    /// <summary>A heap INSERT of (id, v): xl_heap_header, one pad byte up to t_hoff 24, int4, 1-byte-header text.</summary>
    private void Insert(uint xid, int id, string value, uint top = 0, bool speculative = false, RelFileLocator? file = null, byte[]? brokenValue = null)
    {
        var text = Encoding.UTF8.GetBytes(value);
        var varlena = brokenValue ?? [(byte)(((text.Length + 1) << 1) | 1), .. text];
        var tuple = new byte[5 + 1 + 4 + varlena.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(tuple, 2);
        BinaryPrimitives.WriteUInt16LittleEndian(tuple.AsSpan(2), 0x0002);
        tuple[4] = 24;
        BinaryPrimitives.WriteInt32LittleEndian(tuple.AsSpan(6), id);
        varlena.CopyTo(tuple, 10);
        var main = new byte[3];
        BinaryPrimitives.WriteUInt16LittleEndian(main, ++_offnum);
        main[2] = (byte)(0x08 | (speculative ? 0x04 : 0));
        var body = new RecordBody().Block(0, file ?? TableFile, 0, tuple).Main(main);
        if (top != 0) body.TopLevelXid(top);
        _wal.Add(10, 0x00, xid, body.ToArray());
    }

    private void SuperDelete(uint xid)
    {
        var main = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(main, xid);
        BinaryPrimitives.WriteUInt16LittleEndian(main.AsSpan(4), _offnum);
        main[7] = 0x08;
        _wal.Add(10, 0x10, xid, new RecordBody().Block(0, TableFile, 0).Main(main).ToArray());
    }

    private void Confirm(uint xid)
    {
        var main = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(main, _offnum);
        _wal.Add(10, 0x50, xid, new RecordBody().Block(0, TableFile, 0).Main(main).ToArray());
    }

    private void Commit(uint xid, params uint[] subxacts)
    {
        var main = new List<byte>();
        main.AddRange(BitConverter.GetBytes(800_000_000_000_000L));
        main.AddRange(BitConverter.GetBytes(subxacts.Length > 0 ? 0x02u : 0u));
        if (subxacts.Length > 0)
        {
            main.AddRange(BitConverter.GetBytes(subxacts.Length));
            foreach (var subxact in subxacts) main.AddRange(BitConverter.GetBytes(subxact));
        }

        _wal.Add(1, 0x80, xid, new RecordBody().Main([.. main]).ToArray());
    }

    private void Abort(uint xid) =>
        _wal.Add(1, 0x20, xid, new RecordBody().Main(BitConverter.GetBytes(800_000_000_000_000L)).ToArray());

    private void Prepare(uint xid, string gid)
    {
        var gidBytes = Encoding.ASCII.GetBytes(gid + "\0");
        var main = new byte[72 + ((gidBytes.Length + 7) & ~7)];
        BinaryPrimitives.WriteUInt32LittleEndian(main, 0x57F94534);
        BinaryPrimitives.WriteUInt32LittleEndian(main.AsSpan(4), (uint)main.Length + 4);
        BinaryPrimitives.WriteUInt32LittleEndian(main.AsSpan(8), xid);
        BinaryPrimitives.WriteUInt32LittleEndian(main.AsSpan(12), Database);
        BinaryPrimitives.WriteUInt16LittleEndian(main.AsSpan(54), (ushort)gidBytes.Length);
        gidBytes.CopyTo(main, 72);
        _wal.Add(1, 0x10, xid, new RecordBody().Main(main).ToArray());
    }

    private void FinishPrepared(uint xid, string gid, bool commit)
    {
        var main = new List<byte>();
        main.AddRange(BitConverter.GetBytes(800_000_000_000_000L));
        main.AddRange(BitConverter.GetBytes(0x10u | 0x80u));
        main.AddRange(BitConverter.GetBytes(xid));
        main.AddRange(Encoding.ASCII.GetBytes(gid + "\0"));
        _wal.Add(1, (byte)((commit ? 0x30 : 0x40) | 0x80), 0, new RecordBody().Main([.. main]).ToArray());
    }

    private void RunningXacts(uint oldestRunning)
    {
        var main = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(main.AsSpan(12), oldestRunning);
        BinaryPrimitives.WriteUInt32LittleEndian(main.AsSpan(16), oldestRunning);
        BinaryPrimitives.WriteUInt32LittleEndian(main.AsSpan(20), oldestRunning - 1);
        _wal.Add(8, 0x10, 0, new RecordBody().Main(main).ToArray());
    }

    public void Dispose() => Directory.Delete(_spill.Directory, recursive: true);
}
