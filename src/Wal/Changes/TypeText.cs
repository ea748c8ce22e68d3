using DataSync.Wal.Catalog;
using DataSync.Wal.Values;

namespace DataSync.Wal.Changes;

/// <summary>A column type in words for messages: its name and, for the types whose modifier is a length, precision or scale, that.</summary>
public static class TypeText
{
    public static string Of(uint typeOid, int typeModifier, TypeDescriptor? type)
    {
        var name = SupportedTypes.BaseTypes.TryGetValue(typeOid, out var builtIn) ? builtIn : type?.QualifiedName ?? $"type OID {typeOid}";
        if (typeModifier < 0) return name;
        return typeOid switch
        {
            // varchar and bpchar keep the length plus 4; numeric (precision << 16 | scale) plus 4.
            1042 or 1043 => $"{name}({typeModifier - 4})",
            1700 => $"{name}({(typeModifier - 4) >> 16},{(typeModifier - 4) & 0xFFFF})",
            _ => $"{name}({typeModifier})",
        };
    }
}
