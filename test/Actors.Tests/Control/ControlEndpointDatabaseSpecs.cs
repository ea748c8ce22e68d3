using Akka.Actor;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Control;
using DataSync.Actors.Daemon;
using DataSync.Actors.Hosting;
using DataSync.Core.Bootstrap;
using DataSync.Core.Configuration;
using DataSync.Core.Schema;
using DataSync.Core.Tables;
using DataSync.Messages.Control;
using DataSync.TestRig;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Actors.Tests.Control;

/// <summary>
/// The endpoint and <see cref="ControlCommandHandler"/> on a real local database: a request that changes the sync
/// list is answered with the handler's lines and then tells the pipeline, once; a refused one changes nothing and
/// exits 1; status reads the tables back.
/// </summary>
public sealed class ControlEndpointDatabaseSpecs() : TestKit(DataSyncHocon.Load()
    .WithFallback(Akka.Configuration.ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.actor.serialize-messages = on")))
{
    [Fact]
    public async Task Add_tables_answers_with_the_handlers_lines_then_tells_the_pipeline_once_and_status_reads_it_back()
    {
        await using var local = await LocalCluster.StartAsync("endpoint-handler");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        await local.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY, v text); CREATE TABLE nokey (v text)");
        var settings = new DataSyncSettings
        {
            PgPassword = "x", PgDbName = "unused", ArchiveDir = "/a", BaseBackupDir = "/b", StateDir = Path.GetTempPath(), SshKeyFile = "/k", SshKnownHosts = "/h",
        };
        var pipeline = CreateTestProbe();
        var endpoint = Sys.ActorOf(ControlEndpoint.Props(new ControlCommandHandler(settings, dataSource, new DaemonCounters(DateTimeOffset.UtcNow)), "right", () => { }, pipeline.Ref));
        var proof = Handshake(endpoint, "right");

        endpoint.Tell(new AddTablesRequest(proof, ["orders"], "tester"), TestActor);
        var added = ExpectMsg<ControlReply>(TimeSpan.FromSeconds(20));
        Assert.Equal(["added public.orders"], added.Output);
        Assert.Empty(added.Errors);
        pipeline.ExpectMsg(TableListChanged.Instance);
        pipeline.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM tables_to_sync WHERE table_name = 'public.orders' AND creator = 'tester'"));

        endpoint.Tell(new AddTablesRequest(proof, ["nokey"], "tester"), TestActor);
        var refused = ExpectMsg<ControlReply>(TimeSpan.FromSeconds(20));
        Assert.Equal(1, refused.ExitCode);
        Assert.Single(refused.Errors);
        Assert.Contains("public.nokey", refused.Errors[0]);
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM tables_to_sync WHERE table_name = 'public.nokey'"));

        endpoint.Tell(new StatusRequest(proof, Verbose: true), TestActor);
        var status = ExpectMsg<StatusReply>(TimeSpan.FromSeconds(20));
        Assert.Equal(Environment.ProcessId, status.ProcessId);
        Assert.Equal(["public.orders new"], status.Tables.Select(t => $"{t.Table} {t.State}"));
    }

    [Fact]
    public async Task Bootstrap_progress_answers_the_tables_standing_and_the_running_bootstrap_that_copies_them()
    {
        await using var local = await LocalCluster.StartAsync("endpoint-progress");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        await local.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY); CREATE TABLE other (id int PRIMARY KEY)");
        var settings = new DataSyncSettings
        {
            PgPassword = "x", PgDbName = "unused", ArchiveDir = "/a", BaseBackupDir = "/b", StateDir = Path.GetTempPath(), SshKeyFile = "/k", SshKnownHosts = "/h",
        };
        var progress = new BootstrapProgress();
        var handler = new ControlCommandHandler(settings, dataSource, new DaemonCounters(DateTimeOffset.UtcNow), progress);
        Assert.Equal(0, (await handler.AddTablesAsync(["orders", "other"], "tester")).ExitCode);
        var endpoint = Sys.ActorOf(ControlEndpoint.Props(handler, "right", () => { }, null));
        var proof = Handshake(endpoint, "right");
        var orders = new TableName("public", "orders");

        endpoint.Tell(new BootstrapProgressRequest(proof, ["orders"]), TestActor);
        var idle = ExpectMsg<BootstrapProgressReply>(TimeSpan.FromSeconds(20));
        Assert.Null(idle.Running);
        Assert.Equal(("public.orders", "new", (bool?)null), (idle.Tables[0].Table, idle.Tables[0].State, idle.Tables[0].LastAttemptFailed));

        progress.Begin([orders]);
        progress.Restoring("b1", 1000);
        progress.AddRestored(400);
        endpoint.Tell(new BootstrapProgressRequest(proof, ["orders"]), TestActor);
        var restoring = ExpectMsg<BootstrapProgressReply>(TimeSpan.FromSeconds(20)).Running;
        Assert.NotNull(restoring);
        Assert.Equal(("restoring", "b1", 400L, 1000L), (restoring.Phase, restoring.BaseBackup, restoring.RestoredBytes, restoring.RestoreTotalBytes));

        progress.Replaying(new Lsn(0x3000028), new Lsn(0x5000000));
        progress.Replayed(new Lsn(0x4000000));
        progress.Copying(orders, 100).Copied(40);
        endpoint.Tell(new BootstrapProgressRequest(proof, ["orders"]), TestActor);
        var copying = ExpectMsg<BootstrapProgressReply>(TimeSpan.FromSeconds(20)).Running;
        Assert.NotNull(copying);
        Assert.Equal(("copying", "0/3000028", "0/4000000", "0/5000000"), (copying.Phase, copying.ReplayFromLsn, copying.ReplayedLsn, copying.ReplayTargetLsn));
        var copy = Assert.Single(copying.Copies);
        Assert.Equal(("public.orders", 40L, (long?)100, false), (copy.Table, copy.RowsCopied, copy.RowsEstimated, copy.Done));

        // A bootstrap of other tables is not this one's progress.
        endpoint.Tell(new BootstrapProgressRequest(proof, ["other"]), TestActor);
        Assert.Null(ExpectMsg<BootstrapProgressReply>(TimeSpan.FromSeconds(20)).Running);

        progress.Ended([orders], failed: true, "the restore did not start");
        progress.End();
        endpoint.Tell(new BootstrapProgressRequest(proof, ["orders"]), TestActor);
        var failed = ExpectMsg<BootstrapProgressReply>(TimeSpan.FromSeconds(20));
        Assert.Null(failed.Running);
        Assert.Equal((true, "the restore did not start"), (failed.Tables[0].LastAttemptFailed, failed.Tables[0].LastAttemptMessage));

        // The status reply carries the running bootstrap too.
        progress.Begin([orders]);
        endpoint.Tell(new StatusRequest(proof, Verbose: true), TestActor);
        Assert.Equal("preparing", ExpectMsg<StatusReply>(TimeSpan.FromSeconds(20)).BootstrapProgress?.Phase);
    }

    private string Handshake(IActorRef endpoint, string token)
    {
        var clientNonce = ControlToken.NewNonce();
        endpoint.Tell(new ControlHello(clientNonce), TestActor);
        var hello = ExpectMsg<ControlHelloReply>();
        Assert.Equal(ControlToken.DaemonProof(token, clientNonce), hello.Proof);
        return ControlToken.ClientProof(token, hello.DaemonNonce);
    }
}
