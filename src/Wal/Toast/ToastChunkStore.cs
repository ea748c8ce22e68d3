using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Tuples;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Toast;

/// <summary>
/// Collects the chunks of out-of-line values as their TOAST-relation inserts go by, and rebuilds a
/// value when a main-table tuple points at it. PostgreSQL writes all chunks of a value in the same
/// transaction, before the tuple holding the pointer (reorderbuffer.c does the same collection).
/// </summary>
/// <remarks>
/// Chunks are kept per (TOAST relation OID, value id). Whoever owns a transaction's changes forgets
/// its values when the transaction ends (<see cref="Forget"/>, <see cref="Clear"/>); keeping them
/// in memory is fine for now, spilling to disk is a later concern.
/// </remarks>
public sealed class ToastChunkStore
{
    /// <summary>The columns of every TOAST relation (src/backend/catalog/toasting.c).</summary>
    public static readonly IReadOnlyList<ColumnDescriptor> ToastRelationColumns =
    [
        new(1, "chunk_id", 26, -1, 4, 'i', true, 'p', false, true, false, null, '\0'),
        new(2, "chunk_seq", 23, -1, 4, 'i', true, 'p', false, true, false, null, '\0'),
        new(3, "chunk_data", 17, -1, -1, 'i', false, 'p', false, true, false, null, '\0'),
    ];

    private readonly Dictionary<(uint Relation, uint ValueId), SortedDictionary<int, byte[]>> _values = new();

    public int ValueCount => _values.Count;

    /// <summary>Bytes of chunk data held, for whoever decides when to spill or give up.</summary>
    public long BufferedBytes { get; private set; }

    /// <summary>Adds a chunk given as its decoded columns.</summary>
    public void AddChunk(uint toastRelationOid, uint valueId, int sequence, ReadOnlySpan<byte> data)
    {
        if (!_values.TryGetValue((toastRelationOid, valueId), out var chunks))
            _values[(toastRelationOid, valueId)] = chunks = new SortedDictionary<int, byte[]>();
        // A chunk seen twice (a re-read segment) replaces the earlier copy; its bytes are the same.
        if (chunks.TryGetValue(sequence, out var previous)) BufferedBytes -= previous.Length;
        chunks[sequence] = data.ToArray();
        BufferedBytes += data.Length;
    }

    /// <summary>Adds a chunk from a TOAST-relation tuple in WAL form (an INSERT's block data).</summary>
    public void AddWalTuple(uint toastRelationOid, ReadOnlySpan<byte> walTuple)
    {
        Span<DeformedColumn> columns = stackalloc DeformedColumn[3];
        HeapTupleDeformer.DeformWal(walTuple, ToastRelationColumns, $"TOAST relation {toastRelationOid}", columns);
        AddDeformed(toastRelationOid, walTuple, columns);
    }

    /// <summary>Adds a chunk from the tuple of a parsed INSERT into the TOAST relation.</summary>
    public void AddTuple(uint toastRelationOid, HeapTupleImage tuple)
    {
        Span<DeformedColumn> columns = stackalloc DeformedColumn[3];
        var header = new HeapTupleHeader(tuple.Infomask2, tuple.Infomask, tuple.Hoff);
        HeapTupleDeformer.Deform(header, tuple.Body, ToastRelationColumns, $"TOAST relation {toastRelationOid}", columns);
        AddDeformed(toastRelationOid, tuple.Body, columns);
    }

    /// <summary>Adds a chunk from a whole on-page TOAST-relation tuple.</summary>
    public void AddPageTuple(uint toastRelationOid, ReadOnlySpan<byte> pageTuple)
    {
        Span<DeformedColumn> columns = stackalloc DeformedColumn[3];
        HeapTupleDeformer.DeformPage(pageTuple, ToastRelationColumns, $"TOAST relation {toastRelationOid}", columns);
        AddDeformed(toastRelationOid, pageTuple, columns);
    }

    private void AddDeformed(uint toastRelationOid, ReadOnlySpan<byte> tuple, ReadOnlySpan<DeformedColumn> columns)
    {
        foreach (var column in columns)
        {
            if (column.Kind != ColumnValueKind.Present)
                throw new VarlenaFormatException($"TOAST relation {toastRelationOid}: a chunk tuple has a NULL column");
        }

        var valueId = BinaryPrimitives.ReadUInt32LittleEndian(columns[0].Slice(tuple));
        var sequence = BinaryPrimitives.ReadInt32LittleEndian(columns[1].Slice(tuple));
        var data = columns[2].Slice(tuple);
        if (Varlena.FormOf(data) is not (VarlenaForm.Short or VarlenaForm.Long))
            throw new VarlenaFormatException($"TOAST relation {toastRelationOid}, value {valueId}, chunk {sequence}: chunk data is not a plain inline varlena");
        AddChunk(toastRelationOid, valueId, sequence, Varlena.Payload(data));
    }

    public bool Contains(in ToastPointer pointer) => _values.ContainsKey((pointer.ToastRelationOid, pointer.ValueId));

    /// <summary>
    /// Rebuilds the payload (decompressed, without header) of the value <paramref name="pointer"/>
    /// refers to. False when none of its chunks were seen: an UPDATE that kept the old value.
    /// Chunks that were seen but do not add up are an error.
    /// </summary>
    public bool TryReassemble(in ToastPointer pointer, out byte[] payload)
    {
        if (!_values.TryGetValue((pointer.ToastRelationOid, pointer.ValueId), out var chunks))
        {
            payload = [];
            return false;
        }

        // The pointer's sizes come from the WAL: the chunks are checked against them before any buffer of
        // that size is taken, so a damaged pointer claiming a gigabyte costs nothing.
        long held = 0;
        var expected = 0;
        foreach (var (sequence, data) in chunks)
        {
            if (sequence != expected)
                throw new VarlenaFormatException($"TOAST value {pointer.ValueId} of relation {pointer.ToastRelationOid}: chunk {expected} is missing (next is {sequence})");
            held += data.Length;
            expected++;
        }

        if (held != pointer.ExternalSize)
            throw new VarlenaFormatException($"TOAST value {pointer.ValueId} of relation {pointer.ToastRelationOid}: chunks hold {held} bytes, the pointer announces {pointer.ExternalSize}");

        var stored = new byte[pointer.ExternalSize];
        var filled = 0;
        foreach (var data in chunks.Values)
        {
            data.CopyTo(stored, filled);
            filled += data.Length;
        }

        payload = pointer.IsCompressed ? ToastDecompressor.DecompressWithInfo(stored) : stored;
        if (payload.Length != pointer.PayloadSize)
            throw new VarlenaFormatException($"TOAST value {pointer.ValueId} of relation {pointer.ToastRelationOid}: restored {payload.Length} bytes, the pointer announces {pointer.PayloadSize}");
        return true;
    }

    public void Forget(uint toastRelationOid, uint valueId)
    {
        if (_values.Remove((toastRelationOid, valueId), out var chunks))
            BufferedBytes -= chunks.Values.Sum(c => (long)c.Length);
    }

    public void Clear()
    {
        _values.Clear();
        BufferedBytes = 0;
    }
}
