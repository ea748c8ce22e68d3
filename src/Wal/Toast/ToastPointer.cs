using System.Buffers.Binary;

namespace DataSync.Wal.Toast;

/// <summary>
/// An on-disk TOAST pointer (<c>varatt_external</c>): which value of which TOAST relation holds the
/// out-of-line bytes, how many are stored, and how large the value is once restored.
/// </summary>
/// <param name="RawSize">va_rawsize: the restored value's size including a 4-byte header.</param>
/// <param name="ExtInfo">va_extinfo: stored size (low 30 bits) and compression method (top 2).</param>
/// <param name="ValueId">va_valueid: the chunk_id of the value's chunks.</param>
/// <param name="ToastRelationOid">va_toastrelid: the TOAST relation's pg_class OID.</param>
public readonly record struct ToastPointer(int RawSize, uint ExtInfo, uint ValueId, uint ToastRelationOid)
{
    public const int Size = 16;

    /// <summary>The largest varlena PostgreSQL makes, header included.</summary>
    public const int MaxVarlenaSize = 0x3FFF_FFFF;

    /// <summary>Bytes kept in the TOAST relation (the concatenated chunks).</summary>
    public int ExternalSize => (int)(ExtInfo & 0x3FFF_FFFF);

    /// <summary>Size of the value's payload once restored (no header).</summary>
    public int PayloadSize => RawSize - 4;

    /// <summary>Stored compressed exactly when fewer bytes were kept than the payload needs.</summary>
    public bool IsCompressed => ExternalSize < PayloadSize;

    public ToastCompressionMethod CompressionMethod => (ToastCompressionMethod)(ExtInfo >> 30);

    /// <summary>Reads the pointer from a tuple's varlena bytes (starting at the 0x01 header byte).</summary>
    public static ToastPointer Read(ReadOnlySpan<byte> varlena)
    {
        if (Varlena.FormOf(varlena) != VarlenaForm.External)
            throw new VarlenaFormatException("value is not a TOAST pointer");
        if (varlena.Length < Varlena.ExternalPointerSize)
            throw new VarlenaFormatException($"TOAST pointer needs {Varlena.ExternalPointerSize} bytes, {varlena.Length} present");
        if (varlena[1] != Varlena.OnDiskTag)
            throw new VarlenaFormatException($"TOAST pointer tag {varlena[1]} is not the on-disk tag {Varlena.OnDiskTag}");
        var body = varlena[2..];
        var pointer = new ToastPointer(
            BinaryPrimitives.ReadInt32LittleEndian(body),
            BinaryPrimitives.ReadUInt32LittleEndian(body[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(body[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(body[12..]));
        // A varlena is at most 1 GiB - 1 bytes (PostgreSQL's MaxAllocSize); the header's 30-bit length says as much.
        if (pointer.RawSize < 4 || pointer.RawSize > MaxVarlenaSize || pointer.ExternalSize > pointer.PayloadSize)
            throw new VarlenaFormatException($"TOAST pointer sizes are inconsistent: raw {pointer.RawSize}, stored {pointer.ExternalSize}");
        return pointer;
    }
}
