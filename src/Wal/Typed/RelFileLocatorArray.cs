using DataSync.Wal.Records;

namespace DataSync.Wal.Typed;

/// <summary>A run of 12-byte relation file locators inside a record.</summary>
public readonly ref struct RelFileLocatorArray(ReadOnlySpan<byte> bytes)
{
    public ReadOnlySpan<byte> Bytes { get; } = bytes;
    public int Count => Bytes.Length / RelFileLocator.Size;
    public RelFileLocator this[int index] => RelFileLocator.Read(Bytes.Slice(index * RelFileLocator.Size, RelFileLocator.Size));
}
