namespace DataSync.Wal.Values;

/// <summary>Stored bytes are not a valid value of the column's type. The message names the type;
/// the row decoder adds the table and column.</summary>
public sealed class DatumFormatException(string message) : Exception(message);
