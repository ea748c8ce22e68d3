using System.Buffers.Binary;
using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// Heap2 MULTI_INSERT (xl_heap_multi_insert: flags u8, pad, ntuples u16, then offsets u16[] unless
/// INIT_PAGE, when the tuples fill slots 1..n). Block 0's data repeats per tuple: pad to an even
/// offset, xl_multi_insert_tuple (datalen u16, infomask2 u16, infomask u16, hoff u8), tuple bytes.
/// </summary>
public readonly ref struct Heap2MultiInsert
{
    private readonly WalRecord _record;

    private Heap2MultiInsert(WalRecord record) => _record = record;

    public byte Flags { get; init; }
    public bool InitPage { get; init; }
    public int TupleCount { get; init; }
    public ReadOnlySpan<byte> OffsetBytes { get; init; }
    public RelFileLocator Relation { get; init; }
    public uint BlockNumber { get; init; }
    /// <summary>Block 0's data; empty when a full-page image replaced it.</summary>
    public ReadOnlySpan<byte> TupleData { get; init; }

    public bool ContainsNewTuples => (Flags & HeapOpcodes.InsertContainsNewTuple) != 0;

    public ushort Offnum(int index) =>
        InitPage ? (ushort)(index + 1) : BinaryPrimitives.ReadUInt16LittleEndian(OffsetBytes.Slice(index * 2, 2));

    public static Heap2MultiInsert Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Heap2, HeapOpcodes.Heap2MultiInsert);
        var main = new DataCursor(record, record.MainData, "xl_heap_multi_insert");
        var flags = main.U8();
        main.Skip(1);
        var count = main.U16();
        var init = (record.Info & HeapOpcodes.InitPage) != 0;
        var offsets = init ? default : main.TakeArray(count, 2);
        var index = TypedRecordGuard.RequireBlock(record, 0);
        ref readonly var block = ref record.Block(index);
        return new Heap2MultiInsert(record)
        {
            Flags = flags,
            InitPage = init,
            TupleCount = count,
            OffsetBytes = offsets,
            Relation = block.Relation,
            BlockNumber = block.BlockNumber,
            TupleData = block.HasData ? record.BlockData(index) : default,
        };
    }

    public TupleEnumerator GetEnumerator() => new(_record, TupleData, TupleCount);

    /// <summary>Walks the tuples of block 0's data in order.</summary>
    public ref struct TupleEnumerator
    {
        private DataCursor _cursor;
        private int _left;

        internal TupleEnumerator(WalRecord record, ReadOnlySpan<byte> data, int count)
        {
            _cursor = new DataCursor(record, data, "multi-insert tuple");
            _left = data.IsEmpty ? 0 : count;
            Current = default;
        }

        public HeapTupleImage Current { get; private set; }

        public bool MoveNext()
        {
            if (_left == 0) return false;
            _left--;
            _cursor.AlignTo(2);
            var length = _cursor.U16();
            var infomask2 = _cursor.U16();
            var infomask = _cursor.U16();
            var hoff = _cursor.U8();
            Current = new HeapTupleImage(infomask2, infomask, hoff, _cursor.Take(length));
            return true;
        }
    }
}
