namespace DataSync.Wal.Typed;

/// <summary>Transaction rmgr opcodes and xinfo bits (src/include/access/xact.h).</summary>
public static class XactOpcodes
{
    public const byte OpMask = 0x70;
    /// <summary>An xinfo word follows xact_time.</summary>
    public const byte HasInfo = 0x80;

    public const byte Commit = 0x00;
    public const byte Prepare = 0x10;
    public const byte Abort = 0x20;
    public const byte CommitPrepared = 0x30;
    public const byte AbortPrepared = 0x40;
    public const byte Assignment = 0x50;
    public const byte Invalidations = 0x60;

    public const uint XinfoHasDbInfo = 1u << 0;
    public const uint XinfoHasSubxacts = 1u << 1;
    public const uint XinfoHasRelFileLocators = 1u << 2;
    public const uint XinfoHasInvals = 1u << 3;
    public const uint XinfoHasTwoPhase = 1u << 4;
    public const uint XinfoHasOrigin = 1u << 5;
    public const uint XinfoHasAeLocks = 1u << 6;
    public const uint XinfoHasGid = 1u << 7;
    public const uint XinfoHasDroppedStats = 1u << 8;
    public const uint CompletionApplyFeedback = 1u << 29;
    public const uint CompletionUpdateRelcacheFile = 1u << 30;
    public const uint CompletionForceSyncCommit = 1u << 31;
}
