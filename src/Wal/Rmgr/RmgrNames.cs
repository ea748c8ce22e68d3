using System.Globalization;

namespace DataSync.Wal.Rmgr;

/// <summary>
/// Resource manager and record type names exactly as pg_walinspect's pg_get_wal_records_info and
/// pg_waldump print them: the rmgr's name from rmgrlist.h and the string its identify function in
/// src/backend/access/rmgrdesc/*desc.c returns for xl_info, or <c>UNKNOWN (x)</c> (lower-case hex
/// of the rmgr bits) when it returns none.
/// </summary>
/// <remarks>
/// Every rmgr but one names a record by the high four bits of xl_info, so a 16-entry table per
/// rmgr, built once, answers without allocating. Transaction masks off the 0x80 HAS_INFO bit
/// before naming, so its table repeats the names in the upper half; Heap, Heap2 and BRIN name
/// some opcodes with their 0x80 INIT_PAGE bit as <c>+INIT</c> and leave the other combinations
/// unnamed.
/// </remarks>
public static class RmgrNames
{
    public const int MaxBuiltinId = 21;

    private static readonly string[] Rmgrs =
    [
        "XLOG", "Transaction", "Storage", "CLOG", "Database", "Tablespace", "MultiXact", "RelMap",
        "Standby", "Heap2", "Heap", "Btree", "Hash", "Gin", "Gist", "Sequence", "SPGist", "BRIN",
        "CommitTs", "ReplicationOrigin", "Generic", "LogicalMessage",
    ];

    private static readonly string[][] RecordTypes = BuildRecordTypes();
    private static readonly string[] CustomRmgrs = Enumerable.Range(0, 256)
        .Select(i => string.Create(CultureInfo.InvariantCulture, $"custom{i:D3}")).ToArray();
    private static readonly string[] Unknown = Enumerable.Range(0, 16)
        .Select(i => string.Create(CultureInfo.InvariantCulture, $"UNKNOWN ({i << 4:x})")).ToArray();

    /// <summary>Built-in ids 0-21 and custom ids 128-255 are valid; 22-127 are not (RmgrIdIsValid).</summary>
    public static bool IsValid(byte rmid) => rmid <= MaxBuiltinId || rmid >= 128;

    public static string RmgrName(byte rmid) => rmid <= MaxBuiltinId ? Rmgrs[rmid] : CustomRmgrs[rmid];

    public static string RecordType(byte rmid, byte info)
    {
        var index = info >> 4;
        if (rmid > MaxBuiltinId) return Unknown[index];
        // These two name the whole info byte, so any generic flag bit leaves the record unnamed.
        if (rmid is (byte)RmgrId.CommitTs or (byte)RmgrId.ReplicationOrigin && (info & 0x0F) != 0) return Unknown[index];
        return RecordTypes[rmid][index] ?? Unknown[index];
    }

    private static string[][] BuildRecordTypes()
    {
        var table = new string[MaxBuiltinId + 1][];
        for (var i = 0; i < table.Length; i++) table[i] = new string[16];

        void Name(RmgrId rmgr, int info, string name) => table[(int)rmgr][info >> 4] = name;

        Name(RmgrId.Xlog, 0x00, "CHECKPOINT_SHUTDOWN");
        Name(RmgrId.Xlog, 0x10, "CHECKPOINT_ONLINE");
        Name(RmgrId.Xlog, 0x20, "NOOP");
        Name(RmgrId.Xlog, 0x30, "NEXTOID");
        Name(RmgrId.Xlog, 0x40, "SWITCH");
        Name(RmgrId.Xlog, 0x50, "BACKUP_END");
        Name(RmgrId.Xlog, 0x60, "PARAMETER_CHANGE");
        Name(RmgrId.Xlog, 0x70, "RESTORE_POINT");
        Name(RmgrId.Xlog, 0x80, "FPW_CHANGE");
        Name(RmgrId.Xlog, 0x90, "END_OF_RECOVERY");
        Name(RmgrId.Xlog, 0xA0, "FPI_FOR_HINT");
        Name(RmgrId.Xlog, 0xB0, "FPI");
        Name(RmgrId.Xlog, 0xD0, "OVERWRITE_CONTRECORD");
        Name(RmgrId.Xlog, 0xE0, "CHECKPOINT_REDO");

        string[] xact = ["COMMIT", "PREPARE", "ABORT", "COMMIT_PREPARED", "ABORT_PREPARED", "ASSIGNMENT", "INVALIDATION"];
        for (var i = 0; i < xact.Length; i++)
        {
            Name(RmgrId.Transaction, i << 4, xact[i]);
            Name(RmgrId.Transaction, (i << 4) | 0x80, xact[i]);
        }

        Name(RmgrId.Storage, 0x10, "CREATE");
        Name(RmgrId.Storage, 0x20, "TRUNCATE");

        Name(RmgrId.Clog, 0x00, "ZEROPAGE");
        Name(RmgrId.Clog, 0x10, "TRUNCATE");

        Name(RmgrId.Database, 0x00, "CREATE_FILE_COPY");
        Name(RmgrId.Database, 0x10, "CREATE_WAL_LOG");
        Name(RmgrId.Database, 0x20, "DROP");

        Name(RmgrId.Tablespace, 0x00, "CREATE");
        Name(RmgrId.Tablespace, 0x10, "DROP");

        Name(RmgrId.MultiXact, 0x00, "ZERO_OFF_PAGE");
        Name(RmgrId.MultiXact, 0x10, "ZERO_MEM_PAGE");
        Name(RmgrId.MultiXact, 0x20, "CREATE_ID");
        Name(RmgrId.MultiXact, 0x30, "TRUNCATE_ID");

        Name(RmgrId.RelMap, 0x00, "UPDATE");

        Name(RmgrId.Standby, 0x00, "LOCK");
        Name(RmgrId.Standby, 0x10, "RUNNING_XACTS");
        Name(RmgrId.Standby, 0x20, "INVALIDATIONS");

        Name(RmgrId.Heap2, 0x00, "REWRITE");
        Name(RmgrId.Heap2, 0x10, "PRUNE_ON_ACCESS");
        Name(RmgrId.Heap2, 0x20, "PRUNE_VACUUM_SCAN");
        Name(RmgrId.Heap2, 0x30, "PRUNE_VACUUM_CLEANUP");
        Name(RmgrId.Heap2, 0x40, "VISIBLE");
        Name(RmgrId.Heap2, 0x50, "MULTI_INSERT");
        Name(RmgrId.Heap2, 0xD0, "MULTI_INSERT+INIT");
        Name(RmgrId.Heap2, 0x60, "LOCK_UPDATED");
        Name(RmgrId.Heap2, 0x70, "NEW_CID");

        Name(RmgrId.Heap, 0x00, "INSERT");
        Name(RmgrId.Heap, 0x80, "INSERT+INIT");
        Name(RmgrId.Heap, 0x10, "DELETE");
        Name(RmgrId.Heap, 0x20, "UPDATE");
        Name(RmgrId.Heap, 0xA0, "UPDATE+INIT");
        Name(RmgrId.Heap, 0x30, "TRUNCATE");
        Name(RmgrId.Heap, 0x40, "HOT_UPDATE");
        Name(RmgrId.Heap, 0xC0, "HOT_UPDATE+INIT");
        Name(RmgrId.Heap, 0x50, "HEAP_CONFIRM");
        Name(RmgrId.Heap, 0x60, "LOCK");
        Name(RmgrId.Heap, 0x70, "INPLACE");

        Name(RmgrId.Btree, 0x00, "INSERT_LEAF");
        Name(RmgrId.Btree, 0x10, "INSERT_UPPER");
        Name(RmgrId.Btree, 0x20, "INSERT_META");
        Name(RmgrId.Btree, 0x30, "SPLIT_L");
        Name(RmgrId.Btree, 0x40, "SPLIT_R");
        Name(RmgrId.Btree, 0x50, "INSERT_POST");
        Name(RmgrId.Btree, 0x60, "DEDUP");
        Name(RmgrId.Btree, 0x70, "DELETE");
        Name(RmgrId.Btree, 0x80, "UNLINK_PAGE");
        Name(RmgrId.Btree, 0x90, "UNLINK_PAGE_META");
        Name(RmgrId.Btree, 0xA0, "NEWROOT");
        Name(RmgrId.Btree, 0xB0, "MARK_PAGE_HALFDEAD");
        Name(RmgrId.Btree, 0xC0, "VACUUM");
        Name(RmgrId.Btree, 0xD0, "REUSE_PAGE");
        Name(RmgrId.Btree, 0xE0, "META_CLEANUP");

        Name(RmgrId.Hash, 0x00, "INIT_META_PAGE");
        Name(RmgrId.Hash, 0x10, "INIT_BITMAP_PAGE");
        Name(RmgrId.Hash, 0x20, "INSERT");
        Name(RmgrId.Hash, 0x30, "ADD_OVFL_PAGE");
        Name(RmgrId.Hash, 0x40, "SPLIT_ALLOCATE_PAGE");
        Name(RmgrId.Hash, 0x50, "SPLIT_PAGE");
        Name(RmgrId.Hash, 0x60, "SPLIT_COMPLETE");
        Name(RmgrId.Hash, 0x70, "MOVE_PAGE_CONTENTS");
        Name(RmgrId.Hash, 0x80, "SQUEEZE_PAGE");
        Name(RmgrId.Hash, 0x90, "DELETE");
        Name(RmgrId.Hash, 0xA0, "SPLIT_CLEANUP");
        Name(RmgrId.Hash, 0xB0, "UPDATE_META_PAGE");
        Name(RmgrId.Hash, 0xC0, "VACUUM_ONE_PAGE");

        Name(RmgrId.Gin, 0x10, "CREATE_PTREE");
        Name(RmgrId.Gin, 0x20, "INSERT");
        Name(RmgrId.Gin, 0x30, "SPLIT");
        Name(RmgrId.Gin, 0x40, "VACUUM_PAGE");
        Name(RmgrId.Gin, 0x50, "DELETE_PAGE");
        Name(RmgrId.Gin, 0x60, "UPDATE_META_PAGE");
        Name(RmgrId.Gin, 0x70, "INSERT_LISTPAGE");
        Name(RmgrId.Gin, 0x80, "DELETE_LISTPAGE");
        Name(RmgrId.Gin, 0x90, "VACUUM_DATA_LEAF_PAGE");

        Name(RmgrId.Gist, 0x00, "PAGE_UPDATE");
        Name(RmgrId.Gist, 0x10, "DELETE");
        Name(RmgrId.Gist, 0x20, "PAGE_REUSE");
        Name(RmgrId.Gist, 0x30, "PAGE_SPLIT");
        Name(RmgrId.Gist, 0x60, "PAGE_DELETE");
        Name(RmgrId.Gist, 0x70, "ASSIGN_LSN");

        Name(RmgrId.Sequence, 0x00, "LOG");

        Name(RmgrId.SpGist, 0x10, "ADD_LEAF");
        Name(RmgrId.SpGist, 0x20, "MOVE_LEAFS");
        Name(RmgrId.SpGist, 0x30, "ADD_NODE");
        Name(RmgrId.SpGist, 0x40, "SPLIT_TUPLE");
        Name(RmgrId.SpGist, 0x50, "PICKSPLIT");
        Name(RmgrId.SpGist, 0x60, "VACUUM_LEAF");
        Name(RmgrId.SpGist, 0x70, "VACUUM_ROOT");
        Name(RmgrId.SpGist, 0x80, "VACUUM_REDIRECT");

        Name(RmgrId.Brin, 0x00, "CREATE_INDEX");
        Name(RmgrId.Brin, 0x10, "INSERT");
        Name(RmgrId.Brin, 0x90, "INSERT+INIT");
        Name(RmgrId.Brin, 0x20, "UPDATE");
        Name(RmgrId.Brin, 0xA0, "UPDATE+INIT");
        Name(RmgrId.Brin, 0x30, "SAMEPAGE_UPDATE");
        Name(RmgrId.Brin, 0x40, "REVMAP_EXTEND");
        Name(RmgrId.Brin, 0x50, "DESUMMARIZE");

        Name(RmgrId.CommitTs, 0x00, "ZEROPAGE");
        Name(RmgrId.CommitTs, 0x10, "TRUNCATE");

        Name(RmgrId.ReplicationOrigin, 0x00, "SET");
        Name(RmgrId.ReplicationOrigin, 0x10, "DROP");

        // generic_identify names every record the same.
        for (var i = 0; i < 16; i++) Name(RmgrId.Generic, i << 4, "Generic");

        Name(RmgrId.LogicalMessage, 0x00, "MESSAGE");
        return table;
    }
}
