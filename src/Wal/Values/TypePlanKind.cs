namespace DataSync.Wal.Values;

public enum TypePlanKind : byte
{
    Base,
    /// <summary>On disk the pg_enum row OID; sent as the label.</summary>
    Enum,
    Array,
}
