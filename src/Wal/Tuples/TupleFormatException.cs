namespace DataSync.Wal.Tuples;

/// <summary>A heap tuple's bytes do not fit the descriptor it is decoded with (corrupt WAL, or a
/// descriptor from the wrong point in time). The message names the table and column.</summary>
public sealed class TupleFormatException(string message) : Exception(message);
