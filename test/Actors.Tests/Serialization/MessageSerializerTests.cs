using Akka.Actor;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Hosting;
using DataSync.Actors.Serialization;
using DataSync.Messages;
using DataSync.Messages.Control;
using DataSync.Messages.Journal;

namespace DataSync.Actors.Tests.Serialization;

/// <summary>Every message survives the trip through the serializer the configuration binds it to.</summary>
public sealed class MessageSerializerTests() : TestKit(DataSyncHocon.Load().WithFallback(Akka.Configuration.ConfigurationFactory.ParseString("akka.actor.provider = local")))
{
    public static TheoryData<IDataSyncMessage> Samples() => new(SampleMessages);

    private static readonly BootstrapProgressStatus RunningSample = new(["public.a"], "copying", null, "base-20261206", 12.5, 3.25, 1 << 26, 1 << 26,
        "0/3000028", "0/5000000", "0/5000000", [new TableCopyStatus("public.a", 21_000, 40_000, 3.2, false)]);

    private static readonly IDataSyncMessage[] SampleMessages =
    [
        new ControlHello("c1"),
        new ControlHelloReply("d1", "ab12"),
        new StatusRequest("t0k3n", Verbose: true),
        new StopRequest("t"),
        new ClearRequest("t"),
        new ResyncRequest("t", ["public.a", "\"Odd\".\"na\"\"me\""]),
        new AddTablesRequest("t", ["public.a", "sales.b"], "alice"),
        new RemoveTablesRequest("t", ["public.a"]),
        new VerifyRequest("t", ["public.a"], Repair: true),
        new VerifyProgressRequest("t", "0123abcd"),
        new VerifyStarted("0123abcd"),
        new VerifyProgressReply("0123abcd", "public.a", "comparing", null, 12000, 25000, 1.5, 3.5, null),
        new VerifyProgressReply("0123abcd", "public.a", "done", "identical", 12000, null, 0.25, 9.25, new ControlReply(0, ["verify public.a: identical"], [])),
        new ControlReply(1, ["out"], ["err one", "err two"]),
        new StatusReply(42, new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero), 600, 123, 4,
            new DateTimeOffset(2026, 11, 25, 11, 0, 0, TimeSpan.Zero),
            [new TableStatus("public.a", "syncing", "0/16B3748", "000000010000000000000003", TimeSpan.FromSeconds(12))]),
        new StatusReply(43, new DateTimeOffset(2026, 12, 6, 4, 0, 0, TimeSpan.Zero), 1, 0, 0, null, [], null, ["stream: …"],
            new StreamStatus("0/3000028", "000000010000000000000003", "000000010000000000000009",
                new OpenTransactionStatus(771, "0/3000100", "000000010000000000000003", new DateTimeOffset(2026, 12, 6, 3, 0, 0, TimeSpan.Zero), null),
                7, 7 << 24, 6, 6 << 24)),
        new TableStatus("public.b", "new", null, null, null),
        new BootstrapProgressRequest("t", ["public.a", "\"Odd\".\"na\"\"me\""]),
        new BootstrapProgressReply(
            [new BootstrapTableStanding("public.a", "resync-requested", null, false, "waiting for production to archive it", new DateTimeOffset(2026, 12, 6, 7, 0, 0, TimeSpan.Zero), null, null),
             new BootstrapTableStanding("public.b", "syncing", null, null, null, null, 40_000, 9_120)],
            RunningSample),
        new StatusReply(44, new DateTimeOffset(2026, 12, 6, 4, 0, 0, TimeSpan.Zero), 1, 0, 0, null, [], BootstrapProgress: RunningSample),
        new TableCheckpointJournaled("\"Odd\".\"na\"\"me\"", "0/16B3748", "000000010000000000000003", 17),
    ];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Round_trips_through_the_bound_serializer(IDataSyncMessage message)
    {
        var serialization = Sys.Serialization;
        var serializer = serialization.FindSerializerFor(message);
        Assert.IsType<DataSyncMessageSerializer>(serializer);

        var bytes = serializer.ToBinary(message);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var back = serialization.Deserialize(bytes, serializer.Identifier, manifest);

        Assert.Equal(Json(message), Json(back));
        Assert.DoesNotContain("DataSync", System.Text.Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void Every_message_type_has_a_manifest_and_a_sample()
    {
        var sampled = SampleMessages.Select(m => m.GetType()).ToHashSet();
        foreach (var type in MessageManifests.AllMessageTypes())
        {
            Assert.True(MessageManifests.ByType.ContainsKey(type), $"{type.Name} has no manifest");
            Assert.True(sampled.Contains(type), $"{type.Name} has no round-trip sample");
        }
    }

    [Fact]
    public void Unknown_manifest_is_refused()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerForType(typeof(StopRequest));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([0x7b, 0x7d], "no.such"));
    }

    // Records with list members compare by reference; their JSON form compares by content.
    private static string Json(object value) => System.Text.Json.JsonSerializer.Serialize(value, value.GetType());
}
