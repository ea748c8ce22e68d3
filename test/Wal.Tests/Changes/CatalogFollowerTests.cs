using System.Buffers.Binary;
using System.Text;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Records;
using DataSync.Wal.Tests.Support;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// The catalog follower on synthetic WAL, without a server: which file is which synced relation, a pg_class
/// update that names a new file (visible to its own transaction at once, everyone's at commit, forgotten on
/// abort), and the commit-time safety net for a file dropped without a catalog change it followed.
/// </summary>
public sealed class CatalogFollowerTests : IDisposable
{
    private const uint Database = 5;
    private const uint PgClassFile = 1259;
    private const uint PgAttributeFile = 1249;
    private const uint TableOid = 16400;
    private const uint HeapFile = 16401;
    private const uint ToastFile = 16405;
    private const uint NewHeapFile = 16410;
    private static readonly RelFileLocator PgClass = new(1663, Database, PgClassFile);

    private static readonly TableDescriptor Table = new("public", "t", TableOid, HeapFile, 1663, Database, 16404, ToastFile, 'd', [1],
    [
        new ColumnDescriptor(1, "id", 23, -1, 4, 'i', true, 'p', false, true, false, null, '\0'),
    ]);

    private static readonly CatalogLocations Locations = new(Database, PgClassFile, PgAttributeFile, [new CatalogRowLocation(TableOid, 0, 0, 3)]);

    private readonly Dictionary<uint, OpenTransaction> _open = [];
    private readonly SpillPolicy _spill;
    private readonly WalBuilder _wal = new();

    public CatalogFollowerTests() => _spill = new SpillPolicy(1 << 20, null, _open);

    [Fact]
    public void Files_map_to_their_table_and_relation_in_the_tables_database_only()
    {
        var follower = Follower(locations: null);

        Assert.True(follower.TryTarget(new RelFileLocator(1663, Database, HeapFile), out var heap));
        Assert.Equal((0, false), heap);
        Assert.True(follower.TryTarget(new RelFileLocator(1663, Database, ToastFile), out var toast));
        Assert.Equal((0, true), toast);
        Assert.False(follower.TryTarget(new RelFileLocator(1663, Database + 1, HeapFile), out _));
        Assert.False(follower.TryTarget(new RelFileLocator(1663, Database, NewHeapFile), out _));
        // Without locations no catalog is followed, and the catalog now is the snapshot's at the position given.
        Assert.False(follower.IsCatalog(PgClass));
        var (catalog, locations) = follower.Current(new Lsn(0x1234));
        Assert.Null(locations);
        Assert.Equal(new Lsn(0x1234), catalog.CapturedAt);
        Assert.Equal(HeapFile, catalog.Tables[0].RelFileNode);
    }

    [Fact]
    public void Tables_of_two_databases_are_refused()
    {
        var elsewhere = Table with { Name = "u", RelationOid = 16500, DatabaseOid = Database + 1 };
        Assert.Throws<ArgumentException>(() =>
            new CatalogFollower(new CatalogSnapshot(Lsn.Invalid, [Table, elsewhere], [], []), null, _spill, Transaction, xid => xid));
    }

    [Fact]
    public void A_pg_class_update_naming_a_new_file_maps_it_at_once_and_moves_the_row_at_commit()
    {
        ClassUpdate(500, newOffnum: 7, NewHeapFile);
        Commit(500);
        var follower = Follower(Locations);
        using var records = new WalRecordReader(_wal.Sources());

        follower.OnHeap(Next(records), HeapOpcodes.Update, PgClass);
        // The transaction's own later records write the new file before it commits.
        Assert.True(follower.TryTarget(new RelFileLocator(1663, Database, NewHeapFile), out var target));
        Assert.Equal((0, false), target);
        var transaction = _open[500];
        Assert.Equal([BufferedEntryKind.RelfilenodeChanged], Kinds(transaction));

        var commit = Next(records);
        Assert.Same(transaction, follower.Commit(500, commit, XactFinish.Parse(commit), [500], transaction));
        var (catalog, locations) = follower.Current(commit.EndLsn);
        Assert.Equal(NewHeapFile, catalog.Tables[0].RelFileNode);
        Assert.Equal(ToastFile, catalog.Tables[0].ToastRelFileNode);
        Assert.Equal([(TableOid, (short)0, 0u, (ushort)7)], locations!.Rows.Select(r => (r.RelationOid, r.AttNum, r.Block, r.Offnum)));
        // The file the row named before is no longer the table's.
        Assert.False(follower.TryTarget(new RelFileLocator(1663, Database, HeapFile), out _));
    }

    [Fact]
    public void A_pg_class_update_of_a_transaction_that_aborts_is_forgotten()
    {
        ClassUpdate(600, newOffnum: 8, NewHeapFile);
        var follower = Follower(Locations);
        using var records = new WalRecordReader(_wal.Sources());

        var update = Next(records);
        follower.OnHeap(update, HeapOpcodes.Update, PgClass);
        follower.Discard(_open[600]);

        Assert.False(follower.TryTarget(new RelFileLocator(1663, Database, NewHeapFile), out _));
        Assert.True(follower.TryTarget(new RelFileLocator(1663, Database, HeapFile), out _));
        var (catalog, locations) = follower.Current(update.EndLsn);
        Assert.Equal(HeapFile, catalog.Tables[0].RelFileNode);
        Assert.Equal((ushort)3, Assert.Single(locations!.Rows).Offnum);
    }

    [Fact]
    public void A_commit_that_drops_a_synced_file_without_a_followed_catalog_change_reports_the_table_changed()
    {
        Commit(700, droppedFile: ToastFile);
        var follower = Follower(Locations);
        using var records = new WalRecordReader(_wal.Sources());

        var commit = Next(records);
        var transaction = follower.Commit(700, commit, XactFinish.Parse(commit), [700], null);

        Assert.NotNull(transaction);
        var reader = transaction.Log.Read();
        Assert.True(reader.MoveNext());
        Assert.Equal(BufferedEntryKind.SchemaChanged, reader.Current.Kind);
        Assert.Equal("the file of its TOAST relation was replaced or dropped without a catalog change the decoder could follow",
            Encoding.UTF8.GetString(reader.Current.Second.IsEmpty ? reader.Current.First : reader.Current.Second));
        Assert.False(reader.MoveNext());
        Assert.False(follower.TryTarget(new RelFileLocator(1663, Database, ToastFile), out _));
        transaction.Log.Dispose();
    }

    private CatalogFollower Follower(CatalogLocations? locations) =>
        new(new CatalogSnapshot(Lsn.Invalid, [Table], [], []), locations, _spill, Transaction, xid => xid);

    private OpenTransaction Transaction(uint xid, Lsn lsn)
    {
        if (!_open.TryGetValue(xid, out var transaction)) _open[xid] = transaction = new OpenTransaction(xid, lsn, _spill.NewLog(xid), false);
        return transaction;
    }

    /// <summary>The reader's next record (the reader reuses one record object: use it before asking for the next).</summary>
    private static WalRecord Next(WalRecordReader reader)
    {
        Assert.True(reader.MoveNext());
        return reader.Current;
    }

    private static List<BufferedEntryKind> Kinds(OpenTransaction transaction)
    {
        var kinds = new List<BufferedEntryKind>();
        var reader = transaction.Log.Read();
        while (reader.MoveNext()) kinds.Add(reader.Current.Kind);
        return kinds;
    }

    /// <summary>
    /// An UPDATE of the table's pg_class row at (0,3) to (0,<paramref name="newOffnum"/>), the whole new tuple logged:
    /// xl_heap_header with t_hoff 24, one pad byte, then the row's data with the OID at 0 and relfilenode at 88.
    /// </summary>
    private void ClassUpdate(uint xid, ushort newOffnum, uint relFileNode)
    {
        var data = new byte[96];
        BinaryPrimitives.WriteUInt32LittleEndian(data, TableOid);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(88), relFileNode);
        var tuple = new byte[5 + 1 + data.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(tuple, 33);
        tuple[4] = 24;
        data.CopyTo(tuple, 6);
        var main = new byte[14];
        BinaryPrimitives.WriteUInt16LittleEndian(main.AsSpan(4), 3);
        main[7] = HeapOpcodes.UpdateContainsNewTuple;
        BinaryPrimitives.WriteUInt16LittleEndian(main.AsSpan(12), newOffnum);
        _wal.Add(10, HeapOpcodes.Update, xid, new RecordBody().Block(0, PgClass, 0, tuple).Main(main).ToArray());
    }

    private void Commit(uint xid, uint droppedFile = 0)
    {
        var main = new List<byte>();
        main.AddRange(BitConverter.GetBytes(800_000_000_000_000L));
        main.AddRange(BitConverter.GetBytes(droppedFile != 0 ? XactOpcodes.XinfoHasRelFileLocators : 0u));
        if (droppedFile != 0)
        {
            main.AddRange(BitConverter.GetBytes(1));
            main.AddRange(BitConverter.GetBytes(1663u));
            main.AddRange(BitConverter.GetBytes(Database));
            main.AddRange(BitConverter.GetBytes(droppedFile));
        }

        _wal.Add(1, XactOpcodes.HasInfo, xid, new RecordBody().Main([.. main]).ToArray());
    }

    public void Dispose()
    {
        foreach (var transaction in _open.Values) transaction.Log.Dispose();
    }
}
