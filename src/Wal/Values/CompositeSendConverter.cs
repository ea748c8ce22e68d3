using DataSync.Wal.Toast;
using DataSync.Wal.Tuples;

namespace DataSync.Wal.Values;

/// <summary>
/// Composite (row) types (src/backend/utils/adt/rowtypes.c, record_send; the stored form is built by
/// heap_form_tuple, src/include/access/htup_details.h). Stored: a heap tuple header whose first eight bytes
/// hold the type's typmod and OID instead of transaction ids, the null bitmap, then the fields laid out as
/// in a heap tuple, by the pg_attribute rows of the type's relation. Sent: the count of live (not dropped)
/// attributes, then for each its declared type OID and its send value, length-prefixed (-1 for NULL).
/// </summary>
/// <remarks>
/// A value holds fewer fields than the type has attributes when it was stored before ALTER TYPE … ADD ATTRIBUTE;
/// the missing ones are NULL. A field is never an external TOAST pointer (PostgreSQL inlines those before it
/// stores a composite value) but may be compressed inline or carry a 1-byte header.
/// </remarks>
public static class CompositeSendConverter
{
    private const int StackColumns = 64;

    public static void Write(ValueConverter converter, TypePlan plan, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        var attributes = plan.Attributes ?? throw new UnsupportedTypeException($"{plan.Name}: composite plan without attributes");
        var fields = plan.Fields!;
        Span<DeformedColumn> deformed = attributes.Count <= StackColumns ? stackalloc DeformedColumn[attributes.Count] : new DeformedColumn[attributes.Count];
        try
        {
            HeapTupleDeformer.DeformDatum(payload, attributes, plan.Name, deformed);
        }
        catch (TupleFormatException e)
        {
            throw new DatumFormatException(e.Message);
        }

        var live = 0;
        foreach (var attribute in attributes)
            if (!attribute.IsDropped) live++;
        output.WriteInt32(live);
        for (var i = 0; i < attributes.Count; i++)
        {
            var attribute = attributes[i];
            if (attribute.IsDropped) continue;
            output.WriteUInt32(attribute.TypeOid);
            if (deformed[i].Kind != ColumnValueKind.Present)
            {
                output.WriteInt32(-1);
                continue;
            }

            var field = fields[i]!;
            var stored = deformed[i].Slice(payload);
            var lengthAt = output.BeginField();
            try
            {
                if (attribute.IsVarlena)
                {
                    if (!Detoaster.TryGetPayload(stored, null, out var value))
                        throw new DatumFormatException($"{plan.Name}, attribute {attribute.Name}: an external TOAST pointer inside a composite value");
                    converter.Write(field, value, output);
                }
                else
                {
                    converter.Write(field, stored, output);
                }
            }
            catch (VarlenaFormatException e)
            {
                throw new DatumFormatException($"{plan.Name}, attribute {attribute.Name}: {e.Message}");
            }

            output.EndField(lengthAt);
        }
    }
}
