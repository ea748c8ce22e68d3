using System.Collections.Frozen;

namespace DataSync.Wal.Catalog;

/// <summary>Lookups by OID over a catalog's types and enum labels.</summary>
public sealed class TypeRegistry
{
    private readonly FrozenDictionary<uint, TypeDescriptor> _types;
    private readonly FrozenDictionary<uint, EnumLabel> _enumLabels;

    public TypeRegistry(IEnumerable<TypeDescriptor> types, IEnumerable<EnumLabel> enumLabels)
    {
        _types = types.ToFrozenDictionary(t => t.Oid);
        _enumLabels = enumLabels.ToFrozenDictionary(e => e.Oid);
    }

    public bool TryGet(uint oid, out TypeDescriptor type) => _types.TryGetValue(oid, out type!);

    public TypeDescriptor Get(uint oid) =>
        _types.TryGetValue(oid, out var type)
            ? type
            : throw new KeyNotFoundException($"type OID {oid} is not in the catalog snapshot");

    public bool TryGetEnumLabel(uint enumOid, out EnumLabel label) => _enumLabels.TryGetValue(enumOid, out label!);

    public IEnumerable<TypeDescriptor> Types => _types.Values;
}
