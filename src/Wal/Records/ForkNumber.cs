namespace DataSync.Wal.Records;

/// <summary>Which file of a relation a block belongs to (src/include/common/relpath.h).</summary>
public enum ForkNumber : byte
{
    Main = 0,
    FreeSpaceMap = 1,
    VisibilityMap = 2,
    Init = 3,
}
