namespace DataSync.Wal.Values;

/// <summary>A built-in type the decoder supports: its fixed layout and how its values are converted.</summary>
/// <param name="Length">typlen: bytes, or -1 for a varlena.</param>
/// <param name="Alignment">typalign code.</param>
/// <param name="Subtype">For a range, its subtype (pg_range.rngsubtype); for a multirange, its range type; else 0.</param>
public sealed record SupportedBaseType(uint Oid, string Name, short Length, char Alignment, SendForm Form, uint Subtype = 0);
