using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Tests.Records;

/// <summary>Names the real-WAL integration test cannot produce, checked against the identify functions of PostgreSQL 18.</summary>
public class RmgrNamesTests
{
    [Theory]
    [InlineData(0, 0x90, "XLOG", "END_OF_RECOVERY")]
    [InlineData(0, 0xD0, "XLOG", "OVERWRITE_CONTRECORD")]
    [InlineData(0, 0xC0, "XLOG", "UNKNOWN (c0)")]
    [InlineData(1, 0xD0, "Transaction", "ASSIGNMENT")]
    [InlineData(1, 0xF0, "Transaction", "UNKNOWN (f0)")]
    [InlineData(10, 0x90, "Heap", "UNKNOWN (90)")]
    [InlineData(10, 0xC0, "Heap", "HOT_UPDATE+INIT")]
    [InlineData(9, 0xD0, "Heap2", "MULTI_INSERT+INIT")]
    [InlineData(18, 0x10, "CommitTs", "TRUNCATE")]
    [InlineData(18, 0x12, "CommitTs", "UNKNOWN (10)")]
    [InlineData(19, 0x00, "ReplicationOrigin", "SET")]
    [InlineData(20, 0x70, "Generic", "Generic")]
    [InlineData(2, 0x21, "Storage", "TRUNCATE")]
    [InlineData(200, 0x10, "custom200", "UNKNOWN (10)")]
    public void Names_follow_the_identify_functions(byte rmid, byte info, string rmgr, string type)
    {
        Assert.Equal(rmgr, RmgrNames.RmgrName(rmid));
        Assert.Equal(type, RmgrNames.RecordType(rmid, info));
    }

    [Fact]
    public void Ids_22_to_127_are_not_resource_managers()
    {
        Assert.True(RmgrNames.IsValid(21));
        Assert.False(RmgrNames.IsValid(22));
        Assert.False(RmgrNames.IsValid(127));
        Assert.True(RmgrNames.IsValid(128));
    }
}
