namespace DataSync.Wal.Changes;

/// <summary>A tuple position (ctid): block number and 1-based line pointer.</summary>
internal readonly record struct ItemPointer(uint Block, ushort Offnum);
