namespace DataSync.Wal.Tests.Integration;

/// <summary>Integration tests that share one <see cref="RealWal"/> (one server run for all of them).</summary>
[CollectionDefinition(Name)]
public sealed class RealWalCollection : ICollectionFixture<RealWal>
{
    public const string Name = "real PostgreSQL 18.1 WAL";
}
