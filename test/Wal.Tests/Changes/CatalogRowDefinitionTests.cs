using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using DataSync.Wal.Changes;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// What counts as a change of a synced table's definition in its pg_class and pg_attribute rows, on rows laid
/// out as PostgreSQL 18 stores them: privileges, statistics and flags do not; name, kind, columns, types do.
/// </summary>
public sealed class CatalogRowDefinitionTests
{
    private static byte[] ClassRow(string name = "orders", byte kind = (byte)'r', short columns = 3, byte identity = (byte)'d', uint toast = 16390) =>
        CatalogRowDefinition.ForClass(Encoding.UTF8.GetBytes(name), 16384, 2200, 2, toast, (byte)'p', kind, columns, identity, false);

    /// <summary>A whole pg_class row's data as on disk: the definition's fields plus the others, then an ACL.</summary>
    private static byte[] OnDisk(byte[] definition, uint relFileNode, int relPages, bool hasTriggers, byte[] acl)
    {
        var data = new byte[CatalogRowDefinition.ClassLength + acl.Length];
        definition.CopyTo(data, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(80), 10); // relowner
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(88), relFileNode);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(96), relPages);
        data[116] = 1; // relhasindex
        data[125] = hasTriggers ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(136), 745); // relfrozenxid
        acl.CopyTo(data, CatalogRowDefinition.ClassLength);
        return data;
    }

    [Fact]
    public void Privileges_statistics_triggers_and_the_file_are_not_the_definition()
    {
        var old = ClassRow();
        var granted = OnDisk(old, 99999, 1234, hasTriggers: true, acl: [1, 2, 3, 4, 5, 6, 7, 8]);
        var now = CatalogRowDefinition.FromData(granted, CatalogRowDefinition.ClassFields, CatalogRowDefinition.ClassLength)!;
        Assert.Empty(CatalogRowDefinition.Differences(old, now, CatalogRowDefinition.ClassFields));
    }

    [Theory]
    [InlineData("relname")]
    [InlineData("relkind")]
    [InlineData("relnatts")]
    [InlineData("relreplident")]
    [InlineData("reltoastrelid")]
    public void Name_kind_columns_identity_and_toast_relation_are(string field)
    {
        var old = ClassRow();
        var changed = field switch
        {
            "relname" => ClassRow(name: "orders_renamed"),
            "relkind" => ClassRow(kind: (byte)'p'),
            "relnatts" => ClassRow(columns: 4),
            "relreplident" => ClassRow(identity: (byte)'f'),
            _ => ClassRow(toast: 16500),
        };
        var now = CatalogRowDefinition.FromData(OnDisk(changed, 1, 0, false, []), CatalogRowDefinition.ClassFields, CatalogRowDefinition.ClassLength)!;
        Assert.Equal([field], CatalogRowDefinition.Differences(old, now, CatalogRowDefinition.ClassFields));
    }

    [Fact]
    public void An_update_logged_without_its_shared_prefix_and_suffix_takes_those_bytes_from_the_old_row()
    {
        var old = ClassRow();
        // CREATE TRIGGER: only relhastriggers (offset 125) differs; the record keeps one byte of the row.
        var trigger = CatalogRowDefinition.FromUpdate(old, 125, [1], CatalogRowDefinition.ClassFields);
        Assert.Empty(CatalogRowDefinition.Differences(old, trigger, CatalogRowDefinition.ClassFields));

        // REPLICA IDENTITY FULL: relreplident (offset 130) is in the logged middle part.
        var identity = CatalogRowDefinition.FromUpdate(old, 129, [0, (byte)'f'], CatalogRowDefinition.ClassFields);
        Assert.Equal(["relreplident"], CatalogRowDefinition.Differences(old, identity, CatalogRowDefinition.ClassFields));

        // A middle part that rewrites bytes with what they were is no change.
        var same = CatalogRowDefinition.FromUpdate(old, 118, old.AsSpan(118, 14).ToArray(), CatalogRowDefinition.ClassFields);
        Assert.Empty(CatalogRowDefinition.Differences(old, same, CatalogRowDefinition.ClassFields));
    }

    [Fact]
    public void A_name_is_compared_up_to_its_terminating_zero()
    {
        var old = ClassRow();
        var data = OnDisk(old, 1, 0, false, []);
        data[4 + "orders".Length + 5] = 0x7F; // a stray byte after the name's end
        var now = CatalogRowDefinition.FromData(data, CatalogRowDefinition.ClassFields, CatalogRowDefinition.ClassLength)!;
        Assert.Empty(CatalogRowDefinition.Differences(old, now, CatalogRowDefinition.ClassFields));
    }

    [Fact]
    public void A_column_changes_with_its_name_type_or_dropping_not_with_not_null_statistics_or_privileges()
    {
        static byte[] Column(string name = "total", uint type = 1700, int typmod = -1, bool dropped = false) =>
            CatalogRowDefinition.ForAttribute(Encoding.UTF8.GetBytes(name), 16384, type, -1, 3, typmod, false, (byte)'i', 0, dropped);

        var old = Column();
        var data = new byte[CatalogRowDefinition.AttributeLength + 8];
        old.CopyTo(data, 0);
        data[86] = 1; // attnotnull
        data[87] = 1; // atthasdef
        data[84] = (byte)'m'; // attstorage
        var notNull = CatalogRowDefinition.FromData(data, CatalogRowDefinition.AttributeFields, CatalogRowDefinition.AttributeLength)!;
        Assert.Empty(CatalogRowDefinition.Differences(old, notNull, CatalogRowDefinition.AttributeFields));

        Assert.Equal(["attname"], CatalogRowDefinition.Differences(old, Column(name: "amount"), CatalogRowDefinition.AttributeFields));
        Assert.Equal(["atttypid"], CatalogRowDefinition.Differences(old, Column(type: 701), CatalogRowDefinition.AttributeFields));
        Assert.Equal(["atttypmod"], CatalogRowDefinition.Differences(old, Column(typmod: 655366), CatalogRowDefinition.AttributeFields));
        Assert.Equal(["attisdropped"], CatalogRowDefinition.Differences(old, Column(dropped: true), CatalogRowDefinition.AttributeFields));
    }

    [Fact]
    public void Data_shorter_than_the_fixed_part_has_no_definition() =>
        Assert.Null(CatalogRowDefinition.FromData(new byte[100], CatalogRowDefinition.ClassFields, CatalogRowDefinition.ClassLength));

    [Fact]
    public void Definitions_survive_the_saved_locations_and_older_saved_locations_have_none()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.General); // as the stream's state is saved
        var definition = ClassRow();
        var saved = JsonSerializer.Serialize(new CatalogLocations(5, 1259, 1249, [new CatalogRowLocation(16384, 0, 3, 7, definition)], 2611, 2610), json);
        var read = JsonSerializer.Deserialize<CatalogLocations>(saved, json)!;
        Assert.Equal(definition, read.Rows.Single().Definition);
        Assert.Equal(2610u, read.PgIndexRelFileNode);

        const string older = """{"DatabaseOid":5,"PgClassRelFileNode":1259,"PgAttributeRelFileNode":1249,"Rows":[{"RelationOid":16384,"AttNum":0,"Block":3,"Offnum":7}],"PgInheritsRelFileNode":2611}""";
        var old = JsonSerializer.Deserialize<CatalogLocations>(older, json)!;
        Assert.Null(old.Rows.Single().Definition);
        Assert.Equal(0u, old.PgIndexRelFileNode);
    }
}
