namespace DataSync.Wal.Typed;

/// <summary>PostgreSQL's timestamps in WAL records (commit, abort and prepare times): microseconds since 2000-01-01 UTC.</summary>
public static class PostgresTimestamp
{
    private static readonly DateTimeOffset Epoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static DateTimeOffset ToDateTimeOffset(long microseconds) => Epoch.AddTicks(microseconds * 10);
}
