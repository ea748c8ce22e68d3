namespace DataSync.Wal.Toast;

/// <summary>Bytes that should be a varlena, a TOAST pointer or a compressed value are not one.
/// Callers add the table and column before reporting it.</summary>
public sealed class VarlenaFormatException(string message) : Exception(message);
