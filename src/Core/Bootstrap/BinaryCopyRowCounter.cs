using System.Buffers.Binary;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Counts the rows of a binary COPY stream as its bytes pass by, in pieces of any size, without keeping them:
/// the copy's row count without a second scan of the table it was copied into. The format (PostgreSQL's
/// documentation of COPY, "Binary Format"): an 11-byte signature, a 32-bit flags field and a 32-bit length of
/// a header extension to skip; then per row a 16-bit field count and, per field, a 32-bit length (-1 for NULL)
/// followed by that many bytes; a field count of -1 ends the data. All integers are big-endian.
/// </summary>
public sealed class BinaryCopyRowCounter
{
    private static ReadOnlySpan<byte> Signature => [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];

    private enum Part
    {
        Header,
        Extension,
        FieldCount,
        FieldLength,
        FieldData,
        Ended,
    }

    // A fixed-size piece (header, count, length) that may be split across two calls is gathered here.
    private readonly byte[] _pending = new byte[19];
    private int _pendingLength;
    private Part _part = Part.Header;
    private long _skip;
    private int _fieldsLeft;

    /// <summary>The rows counted so far.</summary>
    public long Rows { get; private set; }

    /// <summary>True once the end marker has passed.</summary>
    public bool Ended => _part == Part.Ended;

    /// <summary>Takes the next bytes of the stream.</summary>
    public void Add(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            switch (_part)
            {
                case Part.Header:
                    if (!Gather(ref data, 19, out var header)) return;
                    if (!header[..11].SequenceEqual(Signature))
                        throw new InvalidDataException("the COPY stream does not start with the binary COPY signature");
                    _skip = BinaryPrimitives.ReadUInt32BigEndian(header[15..19]);
                    _part = Part.Extension;
                    break;
                case Part.Extension:
                case Part.FieldData:
                {
                    var skipped = (int)Math.Min(_skip, data.Length);
                    data = data[skipped..];
                    _skip -= skipped;
                    if (_skip == 0) NextAfterSkip();
                    break;
                }

                case Part.FieldCount:
                    if (!Gather(ref data, 2, out var count)) return;
                    var fields = BinaryPrimitives.ReadInt16BigEndian(count);
                    if (fields == -1)
                    {
                        _part = Part.Ended;
                        break;
                    }

                    if (fields < 0) throw new InvalidDataException($"the COPY stream has a row with {fields} fields");
                    Rows++;
                    _fieldsLeft = fields;
                    _part = fields == 0 ? Part.FieldCount : Part.FieldLength;
                    break;
                case Part.FieldLength:
                    if (!Gather(ref data, 4, out var length)) return;
                    var bytes = BinaryPrimitives.ReadInt32BigEndian(length);
                    _fieldsLeft--;
                    if (bytes > 0)
                    {
                        _skip = bytes;
                        _part = Part.FieldData;
                    }
                    else
                    {
                        // NULL (-1) or empty: no bytes follow.
                        _part = _fieldsLeft == 0 ? Part.FieldCount : Part.FieldLength;
                    }

                    break;
                case Part.Ended:
                    throw new InvalidDataException("the COPY stream has bytes after its end marker");
            }
        }
    }

    private void NextAfterSkip() => _part = _part == Part.Extension || _fieldsLeft == 0 ? Part.FieldCount : Part.FieldLength;

    /// <summary>
    /// Takes <paramref name="size"/> bytes from <paramref name="data"/>, together with any left from the last call;
    /// false (the bytes kept) when there are not enough yet.
    /// </summary>
    private bool Gather(ref ReadOnlySpan<byte> data, int size, out ReadOnlySpan<byte> piece)
    {
        if (_pendingLength == 0 && data.Length >= size)
        {
            piece = data[..size];
            data = data[size..];
            return true;
        }

        var taken = Math.Min(size - _pendingLength, data.Length);
        data[..taken].CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += taken;
        data = data[taken..];
        if (_pendingLength < size)
        {
            piece = default;
            return false;
        }

        piece = _pending.AsSpan(0, size);
        _pendingLength = 0;
        return true;
    }
}
