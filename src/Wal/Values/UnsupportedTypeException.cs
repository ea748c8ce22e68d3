namespace DataSync.Wal.Values;

/// <summary>A column's type is not on <see cref="SupportedTypes"/>'s list (or reaches one that is not).</summary>
public sealed class UnsupportedTypeException(string message) : Exception(message);
