using System.Text.Json;
using Akka.Actor;
using System.Runtime.Serialization;
using Akka.Serialization;

namespace DataSync.Actors.Serialization;

/// <summary>
/// Serializes every <see cref="Messages.IDataSyncMessage"/> as System.Text.Json under the short
/// manifests of <see cref="MessageManifests"/>: no .NET type names on the wire or in the journal,
/// so the CLI, the daemon and old journal rows keep understanding each other across releases.
/// </summary>
public sealed class DataSyncMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka's serializer id for this serializer; ids below 100 are Akka's own.</summary>
    public const int SerializerId = 4711;

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General);

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        MessageManifests.ByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{o.GetType().FullName} has no manifest in MessageManifests", nameof(o));

    public override byte[] ToBinary(object obj)
    {
        _ = Manifest(obj);
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!MessageManifests.ByManifest.TryGetValue(manifest, out var type))
            throw new SerializationException($"unknown message manifest '{manifest}'");
        return JsonSerializer.Deserialize(bytes, type, Options)
            ?? throw new SerializationException($"message '{manifest}' deserialized to null");
    }
}
