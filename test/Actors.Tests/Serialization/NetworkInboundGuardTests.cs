using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using DataSync.Actors.Hosting;
using DataSync.Actors.Pipeline;
using DataSync.Actors.Serialization;
using DataSync.Messages.Control;

namespace DataSync.Actors.Tests.Serialization;

/// <summary>What the guard lets a remoting actor system read: our messages and selection envelopes, nothing else.</summary>
public sealed class NetworkInboundGuardTests : IAsyncLifetime
{
    private ActorSystem _guarded = null!;

    public Task InitializeAsync()
    {
        var config = ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.port = 0\nakka.loglevel = OFF\nakka.stdout-loglevel = OFF")
            .WithFallback(DataSyncHocon.Load());
        _guarded = ActorSystem.Create("guarded", BootstrapSetup.Create().WithConfig(config).And(NetworkInboundGuard.Setup()));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _guarded.Terminate();

    [Fact]
    public void Reads_our_messages()
    {
        var message = new StopRequest("proof");
        var serializer = _guarded.Serialization.FindSerializerFor(message);
        var back = _guarded.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, message));
        Assert.Equal(message, back);
    }

    [Fact]
    public void Refuses_a_newtonsoft_type_graph_a_system_message_and_a_poison_pill()
    {
        // Akka's default ids: 1 Newtonsoft JSON, 16 misc (PoisonPill "PP"), 22 system messages.
        var typeGraph = Encoding.UTF8.GetBytes("{\"$type\":\"DataSync.Actors.Pipeline.CommitBatch, DataSync.Actors\",\"RoutedThrough\":{\"Value\":1}}");
        Assert.Throws<SerializationException>(() => _guarded.Serialization.Deserialize(typeGraph, 1, typeof(CommitBatch).AssemblyQualifiedName!));
        Assert.Throws<SerializationException>(() => _guarded.Serialization.Deserialize([], 16, "PP"));
        Assert.Throws<SerializationException>(() => _guarded.Serialization.Deserialize([], 22, "TE"));
    }

    [Fact]
    public void Selection_envelopes_around_our_messages_pass_and_pipeline_messages_cannot_be_written()
    {
        // The CLI's requests travel inside Akka's selection envelope, whose inner message meets the guard again.
        var selection = new ActorSelectionMessage(new StopRequest("proof"), [new SelectChildName("control")]);
        var serializer = _guarded.Serialization.FindSerializerFor(selection);
        var back = (ActorSelectionMessage)_guarded.Serialization.Deserialize(serializer.ToBinary(selection), serializer.Identifier,
            Akka.Serialization.Serialization.ManifestFor(serializer, selection));
        Assert.Equal(new StopRequest("proof"), back.Message);
        // Pipeline messages have no manifest: not even by mistake can they be written for the network.
        Assert.ThrowsAny<Exception>(() => _guarded.Serialization.FindSerializerFor(new CommitBatch(default, 1)).ToBinary(new CommitBatch(default, 1)));
    }
}
