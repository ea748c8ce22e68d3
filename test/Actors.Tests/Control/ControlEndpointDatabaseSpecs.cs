using Akka.Actor;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Control;
using DataSync.Actors.Daemon;
using DataSync.Actors.Hosting;
using DataSync.Core.Configuration;
using DataSync.Core.Schema;
using DataSync.Messages.Control;
using DataSync.TestRig;
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

    private string Handshake(IActorRef endpoint, string token)
    {
        var clientNonce = ControlToken.NewNonce();
        endpoint.Tell(new ControlHello(clientNonce), TestActor);
        var hello = ExpectMsg<ControlHelloReply>();
        Assert.Equal(ControlToken.DaemonProof(token, clientNonce), hello.Proof);
        return ControlToken.ClientProof(token, hello.DaemonNonce);
    }
}
