using System.Buffers.Binary;

namespace DataSync.Wal.Toast;

/// <summary>Reads the header of an on-disk varlena (little-endian layout).</summary>
public static class Varlena
{
    /// <summary>va_tag of an on-disk TOAST pointer; its body is 16 bytes.</summary>
    public const byte OnDiskTag = 18;

    /// <summary>Size of a TOAST pointer in a tuple: 1-byte header, tag, 16-byte <c>varatt_external</c>.</summary>
    public const int ExternalPointerSize = 2 + ToastPointer.Size;

    /// <summary>Returns the form of the varlena starting at <paramref name="value"/>[0], or throws
    /// for a first byte no tuple can hold (0 is padding, never a header).</summary>
    public static VarlenaForm FormOf(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty) throw new VarlenaFormatException("a varlena needs at least one byte");
        var b0 = value[0];
        if (b0 == 0x01) return VarlenaForm.External;
        if ((b0 & 0x01) == 0x01) return VarlenaForm.Short;
        if ((b0 & 0x03) == 0x00) return VarlenaForm.Long;
        return VarlenaForm.CompressedInline;
    }

    /// <summary>Total size in bytes (header included) of the varlena at the start of
    /// <paramref name="value"/>, checked against the bytes available.</summary>
    public static int TotalSize(ReadOnlySpan<byte> value)
    {
        var form = FormOf(value);
        var size = form switch
        {
            VarlenaForm.Short => value[0] >> 1,
            VarlenaForm.External => ExternalSize(value),
            _ => value.Length < 4
                ? throw new VarlenaFormatException($"a 4-byte varlena header needs 4 bytes, {value.Length} left")
                : (int)(BinaryPrimitives.ReadUInt32LittleEndian(value) >> 2),
        };
        // The smallest of each form: a header alone, or header plus the compressed size word.
        var minimum = form switch
        {
            VarlenaForm.Long => 4,
            VarlenaForm.CompressedInline => 8,
            _ => 1,
        };
        if (size < minimum || size > value.Length)
            throw new VarlenaFormatException($"varlena of {size} bytes does not fit the {value.Length} bytes left");
        return size;
    }

    /// <summary>The bytes after the header of an inline, uncompressed varlena.</summary>
    public static ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> value)
    {
        var size = TotalSize(value);
        return FormOf(value) switch
        {
            VarlenaForm.Short => value[1..size],
            VarlenaForm.Long => value[4..size],
            var form => throw new VarlenaFormatException($"a {form} varlena has no inline payload; detoast it first"),
        };
    }

    private static int ExternalSize(ReadOnlySpan<byte> value)
    {
        if (value.Length < 2) throw new VarlenaFormatException("TOAST pointer cut off before its tag");
        if (value[1] != OnDiskTag)
            throw new VarlenaFormatException($"TOAST pointer tag {value[1]} is not the on-disk tag {OnDiskTag}");
        return ExternalPointerSize;
    }
}
