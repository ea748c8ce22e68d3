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
        Assert.Contains("wrong or expired", reply.Errors[0]);
        Assert.False(stopped);
    }

    [Fact]
    public async Task Stop_with_the_right_token_is_answered_before_the_stop_is_asked_for()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z;Timeout=1");
        var cli = CreateTestProbe();
        var stopped = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The stop records whether the answer had already reached the CLI when it was asked for.
        var endpoint = Sys.ActorOf(ControlEndpoint.Props(new ControlCommandHandler(Settings, dataSource, null), "right", () => stopped.TrySetResult(cli.HasMessages), null));
        var proof = Handshake(endpoint, "right");

        endpoint.Tell(new StopRequest(proof), cli.Ref);

        Assert.True(await stopped.Task.WaitAsync(TimeSpan.FromSeconds(5)), "the stop was asked for before the answer was sent");
        var reply = cli.ExpectMsg<ControlReply>();
        Assert.Equal(0, reply.ExitCode);
        Assert.Equal($"stopping datasync (pid {Environment.ProcessId})", reply.Output[0]);
    }

    [Fact]
    public void A_failing_request_becomes_an_error_reply_and_the_endpoint_lives_on()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z;Timeout=1");
        var endpoint = Sys.ActorOf(ControlEndpoint.Props(new ControlCommandHandler(Settings, dataSource, null), "right", () => { }, null));
        Watch(endpoint);

        endpoint.Tell(new AddTablesRequest(Handshake(endpoint, "right"), ["public.a"], "me"), TestActor);
        var reply = ExpectMsg<ControlReply>(TimeSpan.FromSeconds(10));
        Assert.Equal(1, reply.ExitCode);
        Assert.NotEmpty(reply.Errors);

        endpoint.Tell(new StopRequest("wrong"), TestActor);
        ExpectMsg<ControlReply>();
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Proves_it_holds_the_token_and_refuses_the_token_itself_and_proofs_for_nonces_it_never_issued()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z;Timeout=1");
        var stopped = false;
        var endpoint = Sys.ActorOf(ControlEndpoint.Props(new ControlCommandHandler(Settings, dataSource, null), "right", () => stopped = true, null));

        // The token in clear, as the CLI sent it before the handshake, is no longer accepted...
        endpoint.Tell(new StopRequest("right"), TestActor);
        Assert.Contains("wrong or expired", ExpectMsg<ControlReply>().Errors[0]);
        // ...nor a correct proof for a nonce the daemon never gave out.
        endpoint.Tell(new StopRequest(ControlToken.ClientProof("right", "made-up")), TestActor);
        Assert.Equal(1, ExpectMsg<ControlReply>().ExitCode);
        // A proof made with another token for a real nonce fails too.
        endpoint.Tell(new ControlHello("n1"), TestActor);
        var hello = ExpectMsg<ControlHelloReply>();
        endpoint.Tell(new StopRequest(ControlToken.ClientProof("wrong", hello.DaemonNonce)), TestActor);
        Assert.Equal(1, ExpectMsg<ControlReply>().ExitCode);
        Assert.False(stopped);
    }

    /// <summary>The CLI's handshake: checks the endpoint's proof of the token and returns the proof a request carries.</summary>
    private string Handshake(IActorRef endpoint, string token)
    {
        var clientNonce = ControlToken.NewNonce();
        endpoint.Tell(new ControlHello(clientNonce), TestActor);
        var hello = ExpectMsg<ControlHelloReply>();
        Assert.Equal(ControlToken.DaemonProof(token, clientNonce), hello.Proof);
        return ControlToken.ClientProof(token, hello.DaemonNonce);
    }
}
