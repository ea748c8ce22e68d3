using System.Collections.Immutable;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Serialization;

namespace DataSync.Actors.Serialization;

/// <summary>
/// Decides which bytes arriving over remoting may become objects at all. Akka looks up the serializer for
/// an inbound message by the id the sender wrote, so any peer on the loopback port can pick Newtonsoft
/// (<c>$type</c> graphs of any loaded type), Akka's system-message serializer (Terminate, Watch), its misc
/// serializer (PoisonPill, Kill) or the remote-deployment one. This guard replaces every serializer of the
/// system, by id, with one that still writes as before but refuses to read, except our own
/// <see cref="DataSyncMessageSerializer"/> and Akka's envelope for actor selections (whose inner message goes
/// through this same lookup again). Untrusted mode then limits selections to <c>/user/control</c>.
/// </summary>
/// <remarks>
/// Installed as a <see cref="SerializationSetup"/>, which Akka applies while it builds the serialization
/// module, before remoting listens: there is no moment at which the port is open and the guard is not.
/// Reading is only ever needed for what the CLI and the daemon send each other and for the checkpoint
/// journal, and both use our serializer; local messages are never serialized.
/// </remarks>
public static class NetworkInboundGuard
{
    private const string MessageContainerSerializer = "Akka.Remote.Serialization.MessageContainerSerializer";

    public static SerializationSetup Setup() => SerializationSetup.Create(system =>
    {
        var guarded = ImmutableHashSet.CreateBuilder<SerializerDetails>();
        var settings = system.Settings.Config.GetConfig("akka.actor.serialization-settings");
        foreach (var (name, value) in system.Settings.Config.GetConfig("akka.actor.serializers").AsEnumerable())
        {
            var type = Type.GetType(value.GetString());
            if (type is null || type == typeof(DataSyncMessageSerializer) || type.FullName == MessageContainerSerializer) continue;
            var ownSettings = settings.GetConfig(name);
            var inner = (Serializer)(ownSettings.IsNullOrEmpty()
                ? Activator.CreateInstance(type, system)!
                : Activator.CreateInstance(type, system, ownSettings)!);
            // A name of its own: the bindings keep the original serializer for writing; only the lookup by id changes.
            guarded.Add(SerializerDetails.Create("network-refused-" + name, new RefusingSerializer(system, inner, name), []));
        }

        return guarded.ToImmutable();
    });

    /// <summary>Wraps one serializer: writes like it, refuses to read, and says so in the log.</summary>
    private sealed class RefusingSerializer(ExtendedActorSystem system, Serializer inner, string name) : SerializerWithStringManifest(system)
    {
        public override int Identifier => inner.Identifier;

        public override byte[] ToBinary(object obj) => inner.ToBinary(obj);

        public override string Manifest(object o) => Akka.Serialization.Serialization.ManifestFor(inner, o);

        // A string-manifest serializer is called with the manifest as text: no type named by the peer is ever resolved.
        public override object FromBinary(byte[] bytes, string manifest)
        {
            manifest ??= "";
            var shown = manifest.Length > 120 ? manifest[..120] + "…" : manifest;
            system.Log.Warning(
                "refused a message that arrived over remoting: serializer '{0}' (id {1}, manifest '{2}', {3} bytes) is not accepted; " +
                "only the datasync CLI's requests are, and only at /user/control",
                name, Identifier, shown, bytes.Length);
            throw new SerializationException($"datasync refuses to deserialize '{name}' (id {Identifier}) messages from the network");
        }
    }
}
