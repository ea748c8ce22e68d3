using DataSync.TestRig;

namespace DataSync.Core.Tests.Cli;

/// <summary>
/// <c>datasync status</c> without a daemon is the Installation section's check of the configuration and the local
/// database: what would keep <c>start</c> from working makes it exit 1 with a line that names the key or right to
/// fix and what to run, never "never" for a last sync it could not read, and no stack trace.
/// </summary>
public sealed class StatusChecksTests
{
    [Fact]
    public async Task A_wrong_password_fails_naming_PG_PASSWORD_and_the_last_sync_is_unknown()
    {
        await using var local = await LocalCluster.StartAsync("status-password");
        var config = await TestConfig.WriteAsync(local);
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config))
            .Replace($"PG_PASSWORD = \"{local.Password}\"", "PG_PASSWORD = \"not-the-password\""));

        var status = await CliRunner.RunAsync(config, "status");

        Assert.Equal(1, status.ExitCode);
        Assert.StartsWith("status: not-started\n", status.Out);
        Assert.Contains("last successful sync: unknown (the local database is unreachable)\n", status.Out);
        Assert.DoesNotContain("never", status.Out);
        var expected = $"the local database admin@127.0.0.1:{local.Port}/datasync_local refused the password of PG_USER_NAME \"admin\": check PG_PASSWORD in the configuration";
        Assert.Contains($"local database: {expected}\n", status.Out);
        Assert.Equal($"datasync: {expected}\n", status.Error);
        NoStackTrace(status);
    }

    [Fact]
    public async Task A_stopped_local_database_is_reported_as_unreachable_not_as_never_synced()
    {
        await using var local = await LocalCluster.StartAsync("status-down");
        var config = await TestConfig.WriteAsync(local);
        await local.Server.StopAsync();

        var status = await CliRunner.RunAsync(config, "status", "--verbose");

        Assert.Equal(1, status.ExitCode);
        Assert.Contains("last successful sync: unknown (the local database is unreachable)\n", status.Out);
        Assert.DoesNotContain("last successful sync: never", status.Out);
        Assert.Matches($@"local database: the local database admin@127\.0\.0\.1:{local.Port}/datasync_local is unreachable: ", status.Out);
        Assert.StartsWith("datasync: the local database admin@127.0.0.1:", status.Error);
        NoStackTrace(status);
    }

    [Fact]
    public async Task A_user_who_may_not_set_the_replica_role_fails_with_the_grant_to_run()
    {
        await using var local = await LocalCluster.StartAsync("status-replica-role");
        // Its own database, so the tool's tables are its own to create and migrate.
        await local.Server.ExecuteAsync("CREATE ROLE plain LOGIN PASSWORD 'plain-pw'");
        await local.Server.ExecuteAsync("CREATE DATABASE plain_db OWNER plain");
        var config = await TestConfig.WriteAsync(local);
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config))
            .Replace($"PG_USER_NAME = \"{LocalCluster.User}\"", "PG_USER_NAME = \"plain\"")
            .Replace($"PG_PASSWORD = \"{local.Password}\"", "PG_PASSWORD = \"plain-pw\"")
            .Replace("PG_DB_NAME = \"datasync_local\"", "PG_DB_NAME = \"plain_db\""));

        var status = await CliRunner.RunAsync(config, "status");

        Assert.Equal(1, status.ExitCode);
        // The database could be read: the last sync is known (none yet), and the one problem is the right start needs.
        Assert.Contains("last successful sync: never\n", status.Out);
        const string expected = "the local user 'plain' (PG_USER_NAME) may not set session_replication_role, which applying needs so local triggers and " +
            "foreign keys do not fire a second time, so 'datasync start' would fail; as a superuser run: GRANT SET ON PARAMETER session_replication_role TO \"plain\";";
        Assert.EndsWith($"local database: {expected}\n", status.Out);
        Assert.Equal($"datasync: {expected}\n", status.Error);
        NoStackTrace(status);

        // Once granted, the same check passes.
        await local.Server.ExecuteAsync("GRANT SET ON PARAMETER session_replication_role TO plain");
        var granted = await CliRunner.RunAsync(config, "status");
        Assert.Equal(0, granted.ExitCode);
        Assert.Equal("", granted.Error);
        Assert.DoesNotContain("local database:", granted.Out);
    }

    private static void NoStackTrace(CliRunner.Result result)
    {
        Assert.DoesNotContain("   at ", result.Out + result.Error);
        Assert.DoesNotContain("Exception", result.Out + result.Error);
    }
}
