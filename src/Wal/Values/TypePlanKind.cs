namespace DataSync.Wal.Values;

public enum TypePlanKind : byte
{
    Base,
    /// <summary>On disk the pg_enum row OID; sent as the label.</summary>
    Enum,
    Array,
    /// <summary>A row type: a tuple of its attributes, sent as field count then (type OID, length, value) per live field.</summary>
    Composite,
}
