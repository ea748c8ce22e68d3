using System.Data.Common;
using DataSync.Wal;
using Npgsql;
using NpgsqlTypes;

namespace DataSync.Core;

/// <summary>
/// WAL positions across the database client's edge: PostgreSQL's pg_lsn travels as Npgsql's
/// <see cref="NpgsqlLogSequenceNumber"/> (eight bytes on the wire), never as text to print and parse again.
/// <see cref="Lsn"/> stays in the WAL library, which holds no database client; this is the one place the two meet.
/// </summary>
public static class LsnConversions
{
    public static NpgsqlLogSequenceNumber ToNpgsql(this Lsn lsn) => new(lsn.Value);

    public static Lsn ToLsn(this NpgsqlLogSequenceNumber lsn) => new((ulong)lsn);

    /// <summary>A pg_lsn parameter; null is SQL NULL, still typed, so <c>coalesce($n, …)</c> needs no cast.</summary>
    public static NpgsqlParameter Parameter(Lsn? lsn) =>
        new() { NpgsqlDbType = NpgsqlDbType.PgLsn, Value = lsn is { } value ? value.ToNpgsql() : DBNull.Value };

    /// <summary>A pg_lsn column.</summary>
    public static Lsn GetLsn(this DbDataReader reader, int ordinal) => reader.GetFieldValue<NpgsqlLogSequenceNumber>(ordinal).ToLsn();

    /// <summary>A pg_lsn column that may be NULL.</summary>
    public static Lsn? GetLsnOrNull(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetLsn(ordinal);
}
