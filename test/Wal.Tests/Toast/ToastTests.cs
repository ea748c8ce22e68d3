using System.Buffers.Binary;
using DataSync.Wal.Toast;

namespace DataSync.Wal.Tests.Toast;

public sealed class ToastTests
{
    private static byte[] Pointer(int rawSize, uint extInfo, uint valueId, uint toastRelid)
    {
        var bytes = new byte[18];
        bytes[0] = 0x01;
        bytes[1] = 18;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), rawSize);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(6), extInfo);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(10), valueId);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(14), toastRelid);
        return bytes;
    }

    [Theory]
    [InlineData(new byte[] { 0x03 }, VarlenaForm.Short, 1)]
    [InlineData(new byte[] { 0x07, 0x61, 0x62, 0x63 }, VarlenaForm.Short, 3)]
    [InlineData(new byte[] { 0x10, 0, 0, 0 }, VarlenaForm.Long, 4)]
    [InlineData(new byte[] { 0x22, 0, 0, 0, 4, 0, 0, 0 }, VarlenaForm.CompressedInline, 8)]
    public void First_byte_tells_the_form(byte[] value, VarlenaForm form, int totalSize)
    {
        Assert.Equal(form, Varlena.FormOf(value));
        Assert.Equal(totalSize, Varlena.TotalSize(value));
    }

    [Fact]
    public void Pointer_fields_and_compression_are_read()
    {
        // From the reference: a 6 400-byte incompressible value, raw 6404, stored 6400.
        var plain = ToastPointer.Read(Pointer(6404, 6400, 16500, 16390));
        Assert.Equal((16500u, 16390u, 6400, 6400, false), (plain.ValueId, plain.ToastRelationOid, plain.ExternalSize, plain.PayloadSize, plain.IsCompressed));
        var lz4 = ToastPointer.Read(Pointer(192004, 108049 | 1u << 30, 1, 2));
        Assert.True(lz4.IsCompressed);
        Assert.Equal(ToastCompressionMethod.Lz4, lz4.CompressionMethod);
        Assert.Equal(Varlena.ExternalPointerSize, Varlena.TotalSize(Pointer(10, 6, 1, 2)));

        var badTag = Pointer(10, 6, 1, 2);
        badTag[1] = 1;
        Assert.Throws<VarlenaFormatException>(() => ToastPointer.Read(badTag));
    }

    [Fact]
    public void Chunks_are_reassembled_in_sequence_order_and_gaps_are_errors()
    {
        var store = new ToastChunkStore();
        var pointer = ToastPointer.Read(Pointer(4 + 5, 5, 77, 900));
        Assert.False(store.TryReassemble(pointer, out _));

        store.AddChunk(900, 77, 1, "de"u8);
        store.AddChunk(900, 77, 0, "abc"u8);
        Assert.True(store.TryReassemble(pointer, out var value));
        Assert.Equal("abcde"u8.ToArray(), value);

        store.AddChunk(900, 78, 0, "abc"u8);
        store.AddChunk(900, 78, 2, "de"u8);
        var gap = ToastPointer.Read(Pointer(4 + 5, 5, 78, 900));
        Assert.Contains("chunk 1 is missing", Assert.Throws<VarlenaFormatException>(() => store.TryReassemble(gap, out _)).Message, StringComparison.Ordinal);

        var tooLong = ToastPointer.Read(Pointer(4 + 9, 9, 77, 900));
        Assert.Throws<VarlenaFormatException>(() => store.TryReassemble(tooLong, out _));

        Assert.Equal(10, store.BufferedBytes);
        store.Forget(900, 77);
        Assert.False(store.Contains(pointer));
        Assert.Equal(5, store.BufferedBytes);
        store.Clear();
        Assert.Equal((0, 0L), (store.ValueCount, store.BufferedBytes));
    }

    [Fact]
    public void A_pointer_claiming_a_gigabyte_costs_no_gigabyte_when_its_chunks_do_not_hold_it()
    {
        var store = new ToastChunkStore();
        store.AddChunk(900, 79, 0, "abc"u8);
        var claim = ToastPointer.Read(Pointer(4 + 0x3FFF_FFF0, 0x3FFF_FFF0, 79, 900));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<VarlenaFormatException>(() => store.TryReassemble(claim, out _));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("chunks hold 3 bytes, the pointer announces 1073741808", error.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1024 * 1024, $"reassembly allocated {allocated} bytes for a value whose chunks hold 3");
        // Past the largest varlena PostgreSQL makes, the pointer itself is refused.
        Assert.Throws<VarlenaFormatException>(() => ToastPointer.Read(Pointer(0x4000_0004, 5, 80, 900)));
    }

    [Fact]
    public void Inline_pglz_value_is_decompressed()
    {
        // Three literals then a back-reference of length 6 at distance 3: "abcabcabc".
        byte[] stream = [0b0000_1000, (byte)'a', (byte)'b', (byte)'c', 0x03, 0x03];
        var varlena = new byte[8 + stream.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(varlena, (uint)varlena.Length << 2 | 0x02);
        BinaryPrimitives.WriteUInt32LittleEndian(varlena.AsSpan(4), 9);
        stream.CopyTo(varlena, 8);
        Assert.True(Detoaster.TryGetPayload(varlena, null, out var payload));
        Assert.Equal("abcabcabc"u8.ToArray(), payload.ToArray());

        BinaryPrimitives.WriteUInt32LittleEndian(varlena.AsSpan(4), 10);
        Assert.Throws<VarlenaFormatException>(() => ToastDecompressor.DecompressInline(varlena));
    }

    [Fact]
    public void External_value_without_chunks_is_unchanged_toast()
    {
        Assert.False(Detoaster.TryGetPayload(Pointer(104, 100, 5, 6), new ToastChunkStore(), out _));
        Assert.False(Detoaster.TryGetPayload(Pointer(104, 100, 5, 6), null, out _));
    }
}
