using DataSync.Wal;
using NpgsqlTypes;

namespace DataSync.Core.Tests.Sync;

/// <summary>Lsn and Npgsql's pg_lsn type carry the same 64 bits and print alike.</summary>
public sealed class LsnConversionsTests
{
    [Theory]
    [InlineData(0UL)]
    [InlineData(0x2000028UL)]
    [InlineData(0x16_B374D848UL)]
    [InlineData(ulong.MaxValue)]
    public void Round_trips_the_64_bits_and_prints_as_postgres_does(ulong value)
    {
        var lsn = new Lsn(value);
        var npgsql = lsn.ToNpgsql();
        Assert.Equal(value, (ulong)npgsql);
        Assert.Equal(lsn, npgsql.ToLsn());
        Assert.Equal(lsn.ToString(), npgsql.ToString());
    }

    [Fact]
    public void A_null_lsn_is_a_typed_null_parameter()
    {
        var parameter = LsnConversions.Parameter(null);
        Assert.Equal(NpgsqlDbType.PgLsn, parameter.NpgsqlDbType);
        Assert.Equal(DBNull.Value, parameter.Value);
        Assert.Equal(new NpgsqlLogSequenceNumber(0x16_B374D848UL), LsnConversions.Parameter(new Lsn(0x16_B374D848UL)).Value);
    }
}
