namespace DataSync.Wal.Rmgr;

/// <summary>Built-in resource manager ids (src/include/access/rmgrlist.h); 128-255 are custom ones from extensions.</summary>
public enum RmgrId : byte
{
    Xlog = 0,
    Transaction = 1,
    Storage = 2,
    Clog = 3,
    Database = 4,
    Tablespace = 5,
    MultiXact = 6,
    RelMap = 7,
    Standby = 8,
    Heap2 = 9,
    Heap = 10,
    Btree = 11,
    Hash = 12,
    Gin = 13,
    Gist = 14,
    Sequence = 15,
    SpGist = 16,
    Brin = 17,
    CommitTs = 18,
    ReplicationOrigin = 19,
    Generic = 20,
    LogicalMessage = 21,
}
