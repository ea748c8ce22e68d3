using Npgsql;

namespace DataSync.Core.Schema;

/// <summary>
/// Brings the local database's tool-owned schema to a version. Each missing step runs in its own
/// transaction together with its row in <c>datasync_schema_version</c>, under an advisory lock, so
/// two processes migrating at once, or a crash half-way, leave a consistent version behind.
/// </summary>
public sealed class SchemaMigrator(NpgsqlDataSource dataSource)
{
    // An arbitrary constant shared by every datasync process: "the schema migration lock".
    private const long MigrationLockKey = 0x44617461_53796e63; // "DataSync"

    /// <summary>Applies every step up to <paramref name="targetVersion"/> (default: the latest). Returns the steps applied.</summary>
    public async Task<IReadOnlyList<Migration>> MigrateAsync(int? targetVersion = null, CancellationToken cancellationToken = default)
    {
        var target = targetVersion ?? Migrations.Latest;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Held for the whole run: even CREATE TABLE IF NOT EXISTS races with itself in another session.
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken).ConfigureAwait(false);
        try
        {
            return await ApplyAsync(connection, target, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task<IReadOnlyList<Migration>> ApplyAsync(NpgsqlConnection connection, int target, CancellationToken cancellationToken)
    {
        var applied = new List<Migration>();
        await ExecuteAsync(connection, null, """
            CREATE TABLE IF NOT EXISTS datasync_schema_version (
                version INT PRIMARY KEY,
                description TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """, cancellationToken).ConfigureAwait(false);

        foreach (var migration in Migrations.All.Where(m => m.Version <= target))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var check = new NpgsqlCommand("SELECT 1 FROM datasync_schema_version WHERE version = $1", connection, transaction))
            {
                check.Parameters.AddWithValue(migration.Version);
                if (await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }

            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken).ConfigureAwait(false);
            await using (var record = new NpgsqlCommand("INSERT INTO datasync_schema_version (version, description) VALUES ($1, $2)", connection, transaction))
            {
                record.Parameters.AddWithValue(migration.Version);
                record.Parameters.AddWithValue(migration.Description);
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            applied.Add(migration);
        }

        return applied;
    }

    /// <summary>The highest applied version, 0 for a database the tool has not touched.</summary>
    public async Task<int> CurrentVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('datasync_schema_version') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!) return 0;
        }

        await using var command = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM datasync_schema_version", connection);
        return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
