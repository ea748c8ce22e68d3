using DataSync.Core.Tables;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Core.Apply;

/// <summary>
/// Makes the local table take the column changes production made (a <see cref="TableAlteredEvent"/>), inside the
/// caller's transaction: dropped columns dropped, renamed ones renamed, widened types widened, new columns added at
/// the end with the value production gives the rows already there. Every identifier is quoted; column types are
/// written by the local server's own <c>format_type</c> from production's type and modifier (a built-in type has the
/// same OID on both sides; another is found by production's schema and name).
/// </summary>
public static class LocalTableAlteration
{
    /// <summary>Types below this OID are built in, the same on every PostgreSQL 18 cluster (FirstNormalObjectId).</summary>
    private const uint FirstNormalObjectId = 16384;

    /// <summary>
    /// Applies <paramref name="altered"/> to <paramref name="table"/>. Returns null when done; otherwise the statement the
    /// local server refused and why, with the local table left as it was (the changes are undone to a savepoint).
    /// </summary>
    public static async Task<string?> ApplyAsync(NpgsqlConnection connection, TableName table, TableAlteredEvent altered, CancellationToken cancellationToken)
    {
        var statement = "";
        await TableChangeApplier.ExecuteAsync(connection, "SAVEPOINT datasync_alter", cancellationToken).ConfigureAwait(false);
        try
        {
            async Task RunAsync(string sql)
            {
                statement = sql;
                await TableChangeApplier.ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);
            }

            var renames = altered.Alterations.OfType<ColumnAlteration.Renamed>().ToList();
            foreach (var alteration in altered.Alterations)
            {
                switch (alteration)
                {
                    case ColumnAlteration.Dropped dropped:
                        await RunAsync($"ALTER TABLE {table.Quoted} DROP COLUMN {SqlIdentifier.Quote(dropped.Column.Name)}").ConfigureAwait(false);
                        break;
                    case ColumnAlteration.Renamed renamed when renames.Count == 1:
                        await RunAsync($"ALTER TABLE {table.Quoted} RENAME COLUMN {SqlIdentifier.Quote(renamed.From)} TO {SqlIdentifier.Quote(renamed.To)}").ConfigureAwait(false);
                        break;
                    case ColumnAlteration.Renamed renamed:
                        // Several renames may trade names (a to b, b to a): each goes through a name of its own first.
                        await RunAsync($"ALTER TABLE {table.Quoted} RENAME COLUMN {SqlIdentifier.Quote(renamed.From)} TO {SqlIdentifier.Quote(Interim(renamed))}").ConfigureAwait(false);
                        if (ReferenceEquals(renamed, renames[^1]))
                        {
                            foreach (var each in renames)
                                await RunAsync($"ALTER TABLE {table.Quoted} RENAME COLUMN {SqlIdentifier.Quote(Interim(each))} TO {SqlIdentifier.Quote(each.To)}").ConfigureAwait(false);
                        }

                        break;
                    case ColumnAlteration.Retyped retyped:
                        statement = $"the type of column \"{retyped.To.Name}\"";
                        var newType = await TypeTextAsync(connection, retyped.To.TypeOid, retyped.To.TypeModifier, retyped.Type, cancellationToken).ConfigureAwait(false);
                        await RunAsync($"ALTER TABLE {table.Quoted} ALTER COLUMN {SqlIdentifier.Quote(retyped.To.Name)} TYPE {newType}").ConfigureAwait(false);
                        break;
                    case ColumnAlteration.Added added:
                        statement = $"the type of column \"{added.Column.Name}\"";
                        var type = await TypeTextAsync(connection, added.Column.TypeOid, added.Column.TypeModifier, added.Type, cancellationToken).ConfigureAwait(false);
                        var column = SqlIdentifier.Quote(added.Column.Name);
                        if (added.Column.MissingValue is not { } missing)
                        {
                            await RunAsync($"ALTER TABLE {table.Quoted} ADD COLUMN {column} {type}").ConfigureAwait(false);
                            break;
                        }

                        // The rows already there take production's value, stored once as the column's missing value (no
                        // rewrite of the local table): a constant default while the column is added, dropped right after.
                        statement = $"the default of column \"{added.Column.Name}\"";
                        var literal = await LiteralAsync(connection, type, missing, cancellationToken).ConfigureAwait(false);
                        await RunAsync($"ALTER TABLE {table.Quoted} ADD COLUMN {column} {type} DEFAULT {literal}::{type}").ConfigureAwait(false);
                        await RunAsync($"ALTER TABLE {table.Quoted} ALTER COLUMN {column} DROP DEFAULT").ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (PostgresException e)
        {
            await TableChangeApplier.ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT datasync_alter", cancellationToken).ConfigureAwait(false);
            return $"{statement}: {e.MessageText} (SQLSTATE {e.SqlState})";
        }
        catch (LocalTypeMissingException e)
        {
            await TableChangeApplier.ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT datasync_alter", cancellationToken).ConfigureAwait(false);
            return $"{statement}: {e.Message}";
        }

        await TableChangeApplier.ExecuteAsync(connection, "RELEASE SAVEPOINT datasync_alter", cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>A name no column has while several are renamed: derived from the column's number.</summary>
    private static string Interim(ColumnAlteration.Renamed renamed) => $"datasync renaming column {renamed.AttNum}";

    /// <summary>The local spelling of production's type with its modifier, as the local server's format_type writes it.</summary>
    private static async Task<string> TypeTextAsync(NpgsqlConnection connection, uint typeOid, int typeModifier, TypeDescriptor? type, CancellationToken cancellationToken)
    {
        NpgsqlCommand command;
        if (typeOid < FirstNormalObjectId || type is null)
        {
            command = new NpgsqlCommand("SELECT format_type(t.oid, $2) FROM pg_type t WHERE t.oid = $1::int8::oid", connection);
            command.Parameters.AddWithValue((long)typeOid);
        }
        else
        {
            command = new NpgsqlCommand(
                "SELECT format_type(t.oid, $2) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $3 AND t.typname = $1", connection);
            command.Parameters.AddWithValue(type.Name);
        }

        await using (command)
        {
            command.Parameters.AddWithValue(typeModifier);
            if (type is not null && typeOid >= FirstNormalObjectId) command.Parameters.AddWithValue(type.Schema);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string
                   ?? throw new LocalTypeMissingException(type is null
                       ? $"the local database has no type with OID {typeOid}"
                       : $"the local database has no type {type.Schema}.{type.Name}; create it as production has it");
        }
    }

    /// <summary>
    /// A SQL literal of the value whose send form is <paramref name="sendValue"/>: the local server reads it (binary COPY
    /// into a temporary table) and writes it as text, so the literal is exactly what its input function takes back.
    /// </summary>
    private static async Task<string> LiteralAsync(NpgsqlConnection connection, string type, byte[] sendValue, CancellationToken cancellationToken)
    {
        const string holder = "datasync_added_column_value";
        await TableChangeApplier.ExecuteAsync(connection, $"CREATE TEMP TABLE {holder} (v {type}) ON COMMIT DROP", cancellationToken).ConfigureAwait(false);
        await using (var writer = await connection.BeginRawBinaryCopyAsync($"COPY {holder} FROM STDIN (FORMAT binary)", cancellationToken).ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            buffer.Write(CopyBinaryFormat.Signature);
            buffer.Write(new byte[8]);
            buffer.Write([0, 1]);
            var length = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, sendValue.Length);
            buffer.Write(length);
            buffer.Write(sendValue);
            buffer.Write([0xFF, 0xFF]);
            await writer.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken).ConfigureAwait(false);
        }

        string literal;
        await using (var read = new NpgsqlCommand($"SELECT quote_literal(v::text) FROM {holder}", connection))
            literal = (string)(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        await TableChangeApplier.ExecuteAsync(connection, $"DROP TABLE {holder}", cancellationToken).ConfigureAwait(false);
        return literal;
    }

    /// <summary>The local database lacks a type production's new column definition uses.</summary>
    private sealed class LocalTypeMissingException(string message) : Exception(message);
}
