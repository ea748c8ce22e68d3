using DataSync.Core.Bootstrap;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Bootstrap;

/// <summary>Production's superuser and databases, read from the files of its data directory without a connection.</summary>
public sealed class RestoreIdentityTests
{
    [Fact]
    public async Task The_bootstrap_superuser_and_the_databases_come_from_the_global_catalog_files()
    {
        await using var production = await ProductionCluster.StartAsync("identity",
            shape: new ProductionShape { Superuser = "admin", Database = "Analytics" });
        await production.Server.ExecuteAsync("CREATE ROLE other_super SUPERUSER LOGIN; CREATE ROLE plain LOGIN", "Analytics");
        await production.Server.ExecuteAsync("DROP DATABASE postgres WITH (FORCE)", "Analytics");
        await production.Server.ExecuteAsync("CHECKPOINT", "Analytics");

        var identity = RestoreIdentity.Read(production.Server.DataDirectory);

        Assert.Equal("admin", identity.Superusers[0]);
        Assert.Contains("other_super", identity.Superusers);
        Assert.DoesNotContain("plain", identity.Superusers);
        Assert.Contains("Analytics", identity.Databases);
        Assert.DoesNotContain("template0", identity.Databases);
        // postgres was dropped: replay is checked in template1 instead.
        Assert.Equal("template1", identity.MaintenanceDatabase);
    }
}
