namespace DataSync.Wal.Compression;

/// <summary>
/// Decompresses PostgreSQL's own LZ variant ("pglz"), used for full-page images in WAL when
/// <c>wal_compression = pglz</c> and for compressed varlena values (inline or TOASTed).
/// </summary>
/// <remarks>
/// The stream is a sequence of groups: one control byte whose bits, least significant first, say
/// whether each of the next eight items is a literal byte (bit clear) or a back-reference (bit set).
/// A back-reference is two bytes: the low nibble of the first plus 3 is the length, the high nibble
/// and the second byte form a 12-bit distance back into the output. A length nibble of 15 means a
/// third byte follows whose value is added to the length (18 + n). Back-references may overlap the
/// bytes they produce, which is how runs are encoded, so copying goes forward byte by byte.
/// Every read and write is bounds-checked: corrupt input gives a
/// failure (a negative result), never an out-of-range access.
/// </remarks>
public static class PglzDecompressor
{
    /// <summary>
    /// Decompresses <paramref name="source"/> into <paramref name="destination"/>.
    /// </summary>
    /// <param name="requireExactFit">When true, the input must be consumed exactly and the output filled exactly,
    /// as PostgreSQL demands for page images and for whole values.</param>
    /// <returns>The number of bytes written, or -1 when the input is corrupt.</returns>
    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination, bool requireExactFit = true)
    {
        var sp = 0;
        var dp = 0;
        while (sp < source.Length && dp < destination.Length)
        {
            int control = source[sp++];
            for (var bit = 0; bit < 8 && sp < source.Length && dp < destination.Length; bit++, control >>= 1)
            {
                if ((control & 1) == 0)
                {
                    destination[dp++] = source[sp++];
                    continue;
                }

                if (sp + 1 >= source.Length) return -1;
                int length = (source[sp] & 0x0F) + 3;
                int distance = ((source[sp] & 0xF0) << 4) | source[sp + 1];
                sp += 2;
                if (length == 18)
                {
                    if (sp >= source.Length) return -1;
                    length += source[sp++];
                }

                if (distance == 0 || distance > dp) return -1;
                // A reference may run past the end of the output; only what fits is produced,
                // and the exact-fit check below decides whether that is acceptable.
                length = Math.Min(length, destination.Length - dp);

                var from = dp - distance;
                if (distance >= length)
                {
                    destination.Slice(from, length).CopyTo(destination.Slice(dp, length));
                    dp += length;
                }
                else
                {
                    for (var i = 0; i < length; i++) destination[dp++] = destination[from + i];
                }
            }
        }

        if (requireExactFit && (dp != destination.Length || sp != source.Length)) return -1;
        return dp;
    }
}
