namespace DataSync.Wal.Toast;

/// <summary>
/// Turns a varlena as a tuple stores it into its plain payload: inline as is, inline-compressed
/// decompressed, external reassembled from the chunk store.
/// </summary>
public static class Detoaster
{
    /// <summary>
    /// Writes nothing and returns false only for an external value whose chunks were not seen
    /// (an UPDATE that left the column untouched: "unchanged TOAST"). Otherwise
    /// <paramref name="payload"/> is the value without header; for an uncompressed inline value it
    /// is a slice of <paramref name="varlena"/>, no copy.
    /// </summary>
    public static bool TryGetPayload(ReadOnlySpan<byte> varlena, ToastChunkStore? chunks, out ReadOnlySpan<byte> payload)
    {
        switch (Varlena.FormOf(varlena))
        {
            case VarlenaForm.Short:
            case VarlenaForm.Long:
                payload = Varlena.Payload(varlena);
                return true;
            case VarlenaForm.CompressedInline:
                payload = ToastDecompressor.DecompressInline(varlena);
                return true;
            default:
                var pointer = ToastPointer.Read(varlena);
                if (chunks is not null && chunks.TryReassemble(pointer, out var restored))
                {
                    payload = restored;
                    return true;
                }

                payload = default;
                return false;
        }
    }
}
