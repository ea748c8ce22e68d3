using System.Buffers.Binary;
using System.Collections.Concurrent;
using DataSync.Wal.Catalog;

namespace DataSync.Wal.Values;

/// <summary>
/// Converts a value from the bytes a heap tuple stores to the bytes COPY BINARY (the type's send
/// function) carries, without going through text.
/// </summary>
/// <remarks>
/// A datum here is, for a fixed-length type, exactly its typlen bytes, and for a varlena its
/// payload: the bytes after the header, already decompressed and reassembled (see Toast).
/// Text (text, varchar, bpchar, name, json, jsonb) is stored in production's server encoding, and the send
/// functions would convert it to the client encoding: the COPY into the local database runs with client_encoding
/// UTF8, so text from a production that is not UTF8 is converted here (<paramref name="serverEncoding"/>).
/// tsvector lexemes, tsquery words and xml are server-encoded text too.
/// Enum labels come from the catalog, read over a UTF8 connection, and are already UTF8. "char" is one byte
/// sent and received unconverted by PostgreSQL too.
/// </remarks>
/// <param name="serverEncoding">Production's encoding when not UTF8 (<see cref="ServerTextEncoding.For"/>).</param>
public sealed class ValueConverter(TypeRegistry types, ServerTextEncoding? serverEncoding = null)
{
    private readonly ConcurrentDictionary<uint, TypePlan> _plans = new();

    [ThreadStatic]
    private static SendBuffer? t_jsonScratch;

    public TypeRegistry Types => types;

    /// <summary>The plan for <paramref name="typeOid"/>, or an <see cref="UnsupportedTypeException"/> naming why not.</summary>
    public TypePlan PlanFor(uint typeOid) => _plans.GetOrAdd(typeOid, oid => Build(oid, 0));

    private TypePlan Build(uint typeOid, int depth)
    {
        if (depth > 16) throw new UnsupportedTypeException($"type OID {typeOid}: domains or arrays nest too deeply");
        if (SupportedTypes.Types.TryGetValue(typeOid, out var builtIn))
        {
            // A range carries its subtype's plan, a multirange its range's.
            var inner = builtIn.Subtype != 0 ? Build(builtIn.Subtype, depth + 1) : null;
            return new TypePlan(typeOid, builtIn.Name, TypePlanKind.Base, builtIn.Length, builtIn.Alignment, builtIn.Form, inner);
        }

        if (!types.TryGet(typeOid, out var type))
            throw new UnsupportedTypeException($"type OID {typeOid} is not in the catalog snapshot");
        if (type.IsEnum)
            return new TypePlan(typeOid, type.QualifiedName, TypePlanKind.Enum, 4, 'i', SendForm.Verbatim, null);
        if (type.IsDomain)
            return Build(type.BaseTypeOid, depth + 1) with { TypeOid = typeOid, Name = type.QualifiedName };
        if (type.IsArray)
        {
            var element = Build(type.ElementOid, depth + 1);
            return new TypePlan(typeOid, type.QualifiedName, TypePlanKind.Array, -1, type.Alignment, SendForm.Verbatim, element);
        }

        if (type.IsComposite) return BuildComposite(type, depth);

        // An extension's type, known by extension and type name since its OID is the cluster's own.
        if (type.Extension is { } extension && SupportedTypes.ExtensionTypes.TryGetValue((extension, type.Name), out var form))
            return new TypePlan(typeOid, type.QualifiedName, TypePlanKind.Base, type.Length, type.Alignment, form, null);

        // A range made with CREATE TYPE … AS RANGE, or its multirange: stored and sent as the built-in ones are.
        if (type.Kind is 'r' or 'm' && type.RangeElementOid != 0)
        {
            var inner = Build(type.RangeElementOid, depth + 1);
            if (inner.IsText) throw new UnsupportedTypeException($"range type {type.QualifiedName}: {SupportedTypes.TextCarriedInside(type.RangeElementOid, types, "a range")}");
            return new TypePlan(typeOid, type.QualifiedName, TypePlanKind.Base, -1, type.Alignment,
                type.Kind == 'r' ? SendForm.Range : SendForm.Multirange, inner);
        }

        throw new UnsupportedTypeException(SupportedTypes.WhyUnsupported(typeOid, types) ?? $"type {type.QualifiedName} is not supported");
    }

    private TypePlan BuildComposite(TypeDescriptor type, int depth)
    {
        if (type.Attributes is not { } attributes)
            throw new UnsupportedTypeException(SupportedTypes.WhyUnsupported(type.Oid, types) ?? $"composite type {type.QualifiedName}: its attributes are not in the catalog snapshot");
        var fields = new TypePlan?[attributes.Count];
        for (var i = 0; i < attributes.Count; i++)
        {
            if (attributes[i].IsDropped) continue;
            try
            {
                fields[i] = Build(attributes[i].TypeOid, depth + 1);
                if (fields[i]!.IsText) throw new UnsupportedTypeException(SupportedTypes.TextCarriedInside(attributes[i].TypeOid, types, "a composite"));
            }
            catch (UnsupportedTypeException e)
            {
                throw new UnsupportedTypeException($"composite type {type.QualifiedName}, attribute {attributes[i].Name}: {e.Message}");
            }
        }

        return new TypePlan(type.Oid, type.QualifiedName, TypePlanKind.Composite, -1, type.Alignment, SendForm.Verbatim, null, attributes, fields);
    }

    /// <summary>Appends the send form of <paramref name="datum"/> (no length prefix) to <paramref name="output"/>.</summary>
    public void Write(TypePlan plan, ReadOnlySpan<byte> datum, SendBuffer output)
    {
        switch (plan.Kind)
        {
            case TypePlanKind.Enum:
                WriteEnum(plan, datum, output);
                return;
            case TypePlanKind.Array:
                if (plan.IsText) ArrayTextWriter.Write(this, plan, datum, output);
                else ArraySendConverter.Write(this, plan, datum, output);
                return;
            case TypePlanKind.Composite:
                CompositeSendConverter.Write(this, plan, datum, output);
                return;
        }

        if (plan.Length > 0 && datum.Length != plan.Length)
            throw new DatumFormatException($"{plan.Name}: a value has {datum.Length} bytes, the type has {plan.Length}");
        switch (plan.Form)
        {
            case SendForm.Verbatim:
            case SendForm.VarlenaBytes:
                output.WriteBytes(datum);
                break;
            case SendForm.ByteSwapped:
                WriteSwapped(datum, output.Append(datum.Length));
                break;
            case SendForm.TimeWithZone:
                output.WriteInt64(BinaryPrimitives.ReadInt64LittleEndian(datum));
                output.WriteInt32(BinaryPrimitives.ReadInt32LittleEndian(datum[8..]));
                break;
            case SendForm.Interval:
                output.WriteInt64(BinaryPrimitives.ReadInt64LittleEndian(datum));
                output.WriteInt32(BinaryPrimitives.ReadInt32LittleEndian(datum[8..]));
                output.WriteInt32(BinaryPrimitives.ReadInt32LittleEndian(datum[12..]));
                break;
            case SendForm.Text:
                WriteText(datum, output);
                break;
            case SendForm.Name:
                var end = datum.IndexOf((byte)0);
                WriteText(end < 0 ? datum : datum[..end], output);
                break;
            case SendForm.Numeric:
                NumericSendConverter.Write(NumericValue.Read(datum, plan.Name), output);
                break;
            case SendForm.Jsonb:
                output.WriteByte(1);
                if (serverEncoding is null)
                {
                    JsonbTextWriter.Write(datum, output);
                    break;
                }

                var json = t_jsonScratch ??= new SendBuffer(1024);
                json.Clear();
                JsonbTextWriter.Write(datum, json);
                serverEncoding.WriteUtf8(json.WrittenSpan, output);
                break;
            case SendForm.JsonPath:
                output.WriteByte(1);
                if (serverEncoding is null)
                {
                    JsonPathTextWriter.Write(datum, output);
                    break;
                }

                var path = t_jsonScratch ??= new SendBuffer(1024);
                path.Clear();
                JsonPathTextWriter.Write(datum, path);
                serverEncoding.WriteUtf8(path.WrittenSpan, output);
                break;
            case SendForm.Inet:
                InetSendConverter.Write(datum, false, output);
                break;
            case SendForm.Cidr:
                InetSendConverter.Write(datum, true, output);
                break;
            case SendForm.Range:
                RangeSendConverter.Write(this, plan, datum, output);
                break;
            case SendForm.Multirange:
                MultirangeSendConverter.Write(this, plan, datum, output);
                break;
            case SendForm.TextSearchVector:
                TsVectorSendConverter.Write(this, plan.Name, datum, output);
                break;
            case SendForm.TextSearchQuery:
                TsQuerySendConverter.Write(this, plan.Name, datum, output);
                break;
            case SendForm.Float8s:
                GeometricSendConverter.WriteFloat8s(datum, output);
                break;
            case SendForm.Path:
                GeometricSendConverter.WritePath(plan.Name, datum, output);
                break;
            case SendForm.Polygon:
                GeometricSendConverter.WritePolygon(plan.Name, datum, output);
                break;
            case SendForm.Xml:
                XmlSendConverter.Write(this, datum, output);
                break;
            case SendForm.Snapshot:
                SnapshotSendConverter.Write(plan.Name, datum, output);
                break;
            case SendForm.Tid:
                output.WriteUInt32((uint)BinaryPrimitives.ReadUInt16LittleEndian(datum) << 16 | BinaryPrimitives.ReadUInt16LittleEndian(datum[2..]));
                output.WriteUInt16(BinaryPrimitives.ReadUInt16LittleEndian(datum[4..]));
                break;
            case SendForm.Hstore:
                HstoreSendConverter.Write(this, plan.Name, datum, output);
                break;
            case SendForm.Ltree:
                LtreeSendConverter.Write(this, plan.Name, datum, output);
                break;
            case SendForm.Lquery:
                LqueryTextWriter.Write(this, plan.Name, datum, output);
                break;
            case SendForm.Ltxtquery:
                LtxtqueryTextWriter.Write(this, plan.Name, datum, output);
                break;
            case SendForm.Cube:
                CubeSendConverter.Write(plan.Name, datum, output);
                break;
            case SendForm.Geometry:
                GeometrySendConverter.Write(plan.Name, datum, output);
                break;
            case SendForm.IsnText:
                IsnTextWriter.Write(plan.Name, datum, output);
                break;
            case SendForm.BitString:
                if (datum.Length < 4) throw new DatumFormatException($"{plan.Name}: a bit string of {datum.Length} bytes lacks its bit count");
                var bits = BinaryPrimitives.ReadInt32LittleEndian(datum);
                if (bits < 0 || (bits + 7) / 8 != datum.Length - 4)
                    throw new DatumFormatException($"{plan.Name}: {bits} bits do not fit {datum.Length - 4} bytes");
                output.WriteInt32(bits);
                output.WriteBytes(datum[4..]);
                break;
            default:
                throw new UnsupportedTypeException($"{plan.Name}: no conversion for {plan.Form}");
        }
    }

    /// <summary>Appends text stored in production's server encoding, as UTF8.</summary>
    internal void WriteText(ReadOnlySpan<byte> text, SendBuffer output)
    {
        if (serverEncoding is null) output.WriteBytes(text);
        else serverEncoding.WriteUtf8(text, output);
    }

    private void WriteEnum(TypePlan plan, ReadOnlySpan<byte> datum, SendBuffer output)
    {
        if (datum.Length != 4) throw new DatumFormatException($"enum {plan.Name}: a value has {datum.Length} bytes, not 4");
        var oid = BinaryPrimitives.ReadUInt32LittleEndian(datum);
        if (!types.TryGetEnumLabel(oid, out var label))
            throw new DatumFormatException($"enum {plan.Name}: label OID {oid} is not in the catalog snapshot (a value added after it was read?)");
        System.Text.Encoding.UTF8.GetBytes(label.Label, output.Append(System.Text.Encoding.UTF8.GetByteCount(label.Label)));
    }

    private static void WriteSwapped(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        for (var i = 0; i < source.Length; i++) destination[i] = source[source.Length - 1 - i];
    }
}
