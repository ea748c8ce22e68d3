using Akka.Actor;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Control;
using DataSync.Actors.Daemon;
using DataSync.Actors.Hosting;
using DataSync.Core.Configuration;
using DataSync.Messages.Control;
using Npgsql;

namespace DataSync.Actors.Tests.Control;

public sealed class ControlEndpointTests() : TestKit(DataSyncHocon.Load()
    .WithFallback(Akka.Configuration.ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.actor.serialize-messages = on")))
{
    private static readonly DataSyncSettings Settings = new()
    {
        PgPassword = "x", PgDbName = "nowhere", PgPort = 1, ArchiveDir = "/a", BaseBackupDir = "/b", StateDir = "/tmp/x",
        SshKeyFile = "/k", SshKnownHosts = "/h",
    };

    [Fact]
    public void Refuses_a_wrong_token_without_touching_the_database()
    {
        // The data source points at port 1: any database access would fail the request with a connection error instead.
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z;Timeout=1");
        var stopped = false;
        var endpoint = Sys.ActorOf(ControlEndpoint.Props(new ControlCommandHandler(Settings, dataSource, new DaemonCounters(DateTimeOffset.UtcNow)), "right", () => stopped = true, null));

        endpoint.Tell(new StopRequest("wrong"), TestActor);

        var reply = ExpectMsg<ControlReply>();
        Assert.Equal(1, reply.ExitCode);
        Assert.Contains("wrong control token", reply.Errors[0]);
        Assert.False(stopped);
    }

    [Fact]
    public async Task Stop_with_the_right_token_answers_then_stops()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z;Timeout=1");
        var stopped = new TaskCompletionSource();
        var endpoint = Sys.ActorOf(ControlEndpoint.Props(new ControlCommandHandler(Settings, dataSource, null), "right", () => stopped.TrySetResult(), null));

        endpoint.Tell(new StopRequest("right"), TestActor);

        Assert.Equal(0, ExpectMsg<ControlReply>().ExitCode);
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_failing_request_becomes_an_error_reply_and_the_endpoint_lives_on()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z;Timeout=1");
        var endpoint = Sys.ActorOf(ControlEndpoint.Props(new ControlCommandHandler(Settings, dataSource, null), "right", () => { }, null));
        Watch(endpoint);

        endpoint.Tell(new AddTablesRequest("right", ["public.a"], "me"), TestActor);
        var reply = ExpectMsg<ControlReply>(TimeSpan.FromSeconds(10));
        Assert.Equal(1, reply.ExitCode);
        Assert.NotEmpty(reply.Errors);

        endpoint.Tell(new StopRequest("wrong"), TestActor);
        ExpectMsg<ControlReply>();
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }
}
