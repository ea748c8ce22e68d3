namespace DataSync.Core.Schema;

/// <summary>
/// The local schema the tool owns, as an append-only list: a released step is never edited,
/// a change is a new step. <see cref="SchemaMigrator"/> applies the ones a database lacks.
/// </summary>
public static class Migrations
{
    public static readonly IReadOnlyList<Migration> All =
    [
        new(1, "spec tables: data_sync_logs, data_sync_metrics, tables_to_sync", """
            CREATE TABLE IF NOT EXISTS data_sync_logs (
                id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
                table_name TEXT NOT NULL,
                status TEXT NOT NULL,
                rows_synced INT DEFAULT 0,
                archive_ref TEXT,
                error_detail TEXT,
                sync_time TIMESTAMPTZ DEFAULT now()
            );

            CREATE TABLE IF NOT EXISTS data_sync_metrics (
                id SERIAL PRIMARY KEY,
                table_name TEXT NOT NULL,
                period_start TIMESTAMPTZ NOT NULL,
                period_end TIMESTAMPTZ NOT NULL,
                period_type TEXT NOT NULL,
                records_added BIGINT DEFAULT 0,
                records_updated BIGINT DEFAULT 0,
                records_deleted BIGINT DEFAULT 0,
                UNIQUE (table_name, period_start, period_type)
            );

            CREATE TABLE IF NOT EXISTS tables_to_sync (
                id SERIAL PRIMARY KEY,
                table_name TEXT NOT NULL,
                creator TEXT DEFAULT NULL,
                created_at TIMESTAMPTZ DEFAULT now(),
                UNIQUE (table_name)
            );
            """),
        new(2, "per-operation counts, durations and LSN ranges in logs; per-table sync state; daemon registry", """
            ALTER TABLE data_sync_logs
                ADD COLUMN IF NOT EXISTS rows_inserted BIGINT NOT NULL DEFAULT 0,
                ADD COLUMN IF NOT EXISTS rows_updated BIGINT NOT NULL DEFAULT 0,
                ADD COLUMN IF NOT EXISTS rows_deleted BIGINT NOT NULL DEFAULT 0,
                ADD COLUMN IF NOT EXISTS duration_ms BIGINT,
                ADD COLUMN IF NOT EXISTS lsn_from PG_LSN,
                ADD COLUMN IF NOT EXISTS lsn_to PG_LSN;
            CREATE INDEX IF NOT EXISTS data_sync_logs_table_time ON data_sync_logs (table_name, sync_time);
            CREATE INDEX IF NOT EXISTS data_sync_logs_failed ON data_sync_logs (sync_time) WHERE status = 'FAILED';

            -- table_name stays the canonical quoted form (quote_ident(schema).quote_ident(name));
            -- the parts are kept apart so no code ever has to split that text again.
            ALTER TABLE tables_to_sync
                ADD COLUMN IF NOT EXISTS schema_name TEXT,
                ADD COLUMN IF NOT EXISTS relation_name TEXT;

            -- One row per synced table: where it stands. Written in the same transaction as the rows it describes.
            CREATE TABLE IF NOT EXISTS datasync_table_state (
                table_name TEXT PRIMARY KEY,
                state TEXT NOT NULL DEFAULT 'new',
                checkpoint_lsn PG_LSN,
                last_commit_lsn PG_LSN,
                last_archive_file TEXT,
                last_success_at TIMESTAMPTZ,
                resync_requested_at TIMESTAMPTZ,
                error_detail TEXT,
                updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
            );

            -- The daemon that holds this database, for status without a daemon and for stale-process detection.
            CREATE TABLE IF NOT EXISTS datasync_daemon (
                singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
                pid INT NOT NULL,
                host TEXT NOT NULL,
                control_port INT NOT NULL,
                started_at TIMESTAMPTZ NOT NULL,
                stopped_at TIMESTAMPTZ,
                records_synced BIGINT NOT NULL DEFAULT 0,
                errors BIGINT NOT NULL DEFAULT 0
            );
            """),
        new(3, "the WAL stream position and production's catalog", """
            -- Where decoding resumes, and the production catalog it decodes with (JSON kept as text:
            -- it holds NUL characters, which jsonb refuses). One row.
            CREATE TABLE IF NOT EXISTS datasync_stream (
                singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
                restart_lsn PG_LSN NOT NULL,
                catalog_lsn PG_LSN NOT NULL,
                catalog TEXT NOT NULL,
                catalog_locations TEXT NOT NULL,
                last_segment TEXT,
                updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            ALTER TABLE datasync_table_state ADD COLUMN IF NOT EXISTS rows_synced BIGINT NOT NULL DEFAULT 0;
            """),
        new(4, "a generation on the stream row, so a bootstrap and the running stream never overwrite each other", """
            -- A bootstrap bumps it when it rewinds the stream and installs a catalog that knows new tables;
            -- the stream only records its own progress over the generation it started from.
            ALTER TABLE datasync_stream ADD COLUMN IF NOT EXISTS generation BIGINT NOT NULL DEFAULT 0;
            """),
    ];

    public static int Latest => All[^1].Version;
}
