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
        new(5, "names written into tables_to_sync by hand are normalized as the CLI writes them", """
            -- An operator may list a table with plain SQL, as the spec's examples suggest ('orders', 'Sales."Order Lines"').
            -- The CLI stores the canonical text (each part bare when it is a plain lower-case identifier, else
            -- double-quoted; schema public when none is given) and the schema and relation apart; the rest of the
            -- tool matches on that text. parse_ident reads the name as PostgreSQL would (unquoted parts fold to
            -- lower case) and refuses what is not a name, so a bad row is refused at INSERT instead of never matching.
            CREATE OR REPLACE FUNCTION datasync_canonical_table_name(name TEXT) RETURNS TEXT[]
                LANGUAGE plpgsql IMMUTABLE STRICT AS $fn$
            DECLARE
                parts TEXT[];
            BEGIN
                BEGIN
                    parts := parse_ident(name);
                EXCEPTION WHEN invalid_parameter_value THEN
                    RAISE EXCEPTION 'tables_to_sync: % is not a table name (%)', quote_literal(name), SQLERRM
                        USING HINT = 'write schema.table, e.g. public.orders or "Sales"."Order Lines"', ERRCODE = 'invalid_name';
                END;
                IF array_length(parts, 1) = 1 THEN
                    parts := ARRAY['public', parts[1]];
                ELSIF array_length(parts, 1) <> 2 THEN
                    RAISE EXCEPTION 'tables_to_sync: % is not a table name: give at most a schema and a table', quote_literal(name)
                        USING HINT = 'write schema.table, e.g. public.orders', ERRCODE = 'invalid_name';
                END IF;
                RETURN parts;
            END
            $fn$;

            CREATE OR REPLACE FUNCTION datasync_display_identifier(part TEXT) RETURNS TEXT
                LANGUAGE sql IMMUTABLE STRICT AS $fn$
                SELECT CASE WHEN part ~ '^[a-z_][a-z0-9_$]*$' THEN part ELSE '"' || replace(part, '"', '""') || '"' END
            $fn$;

            CREATE OR REPLACE FUNCTION datasync_normalize_tables_to_sync() RETURNS trigger
                LANGUAGE plpgsql AS $fn$
            DECLARE
                parts TEXT[];
            BEGIN
                -- The CLI gives the parts; a row written by hand has only the text.
                IF NEW.schema_name IS NULL OR NEW.relation_name IS NULL
                   OR (TG_OP = 'UPDATE' AND NEW.table_name IS DISTINCT FROM OLD.table_name
                       AND NEW.schema_name IS NOT DISTINCT FROM OLD.schema_name AND NEW.relation_name IS NOT DISTINCT FROM OLD.relation_name) THEN
                    parts := datasync_canonical_table_name(NEW.table_name);
                    NEW.schema_name := parts[1];
                    NEW.relation_name := parts[2];
                END IF;
                NEW.table_name := datasync_display_identifier(NEW.schema_name) || '.' || datasync_display_identifier(NEW.relation_name);
                RETURN NEW;
            END
            $fn$;

            -- Rows listed by hand before this version: a name listed twice (by hand and by the CLI) is kept once.
            DELETE FROM tables_to_sync t
            WHERE (t.schema_name IS NULL OR t.relation_name IS NULL)
              AND EXISTS (SELECT FROM tables_to_sync o
                          WHERE o.id <> t.id AND o.schema_name IS NOT NULL AND o.relation_name IS NOT NULL
                            AND ARRAY[o.schema_name, o.relation_name] = datasync_canonical_table_name(t.table_name));
            DROP TRIGGER IF EXISTS datasync_normalize ON tables_to_sync;
            CREATE TRIGGER datasync_normalize BEFORE INSERT OR UPDATE ON tables_to_sync
                FOR EACH ROW EXECUTE FUNCTION datasync_normalize_tables_to_sync();
            UPDATE tables_to_sync SET table_name = table_name WHERE schema_name IS NULL OR relation_name IS NULL;
            """),
        new(6, "rows removed by an upstream TRUNCATE, counted apart from the row changes", """
            -- rows_synced stays the row changes production committed; what a TRUNCATE emptied is counted here.
            ALTER TABLE data_sync_logs ADD COLUMN IF NOT EXISTS rows_truncated BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE data_sync_metrics ADD COLUMN IF NOT EXISTS records_truncated BIGINT NOT NULL DEFAULT 0;
            """),
        new(7, "what holds the restart point (the oldest open production transaction), the newest commit routed, and each table's checkpoint time, for status", """
            ALTER TABLE datasync_stream ADD COLUMN IF NOT EXISTS restart_segment TEXT;
            ALTER TABLE datasync_stream ADD COLUMN IF NOT EXISTS routed_lsn PG_LSN;
            ALTER TABLE datasync_stream ADD COLUMN IF NOT EXISTS routed_time TIMESTAMPTZ;
            ALTER TABLE datasync_stream ADD COLUMN IF NOT EXISTS wal_time TIMESTAMPTZ;
            ALTER TABLE datasync_stream ADD COLUMN IF NOT EXISTS oldest_xid BIGINT;
            ALTER TABLE datasync_stream ADD COLUMN IF NOT EXISTS oldest_lsn PG_LSN;
            ALTER TABLE datasync_stream ADD COLUMN IF NOT EXISTS oldest_segment TEXT;
            ALTER TABLE datasync_stream ADD COLUMN IF NOT EXISTS oldest_open_by TIMESTAMPTZ;
            ALTER TABLE datasync_table_state ADD COLUMN IF NOT EXISTS checkpoint_time TIMESTAMPTZ;
            """),
        new(8, "a FAILED row counts the repeats of its cause instead of being written again", """
            -- occurrences: how many times the row's cause was met (1 for every other row); last_occurred_at: the
            -- latest of them; cause_key: the cause without its numbers, which tells a repeat from a new cause.
            ALTER TABLE data_sync_logs
                ADD COLUMN IF NOT EXISTS occurrences BIGINT NOT NULL DEFAULT 1,
                ADD COLUMN IF NOT EXISTS last_occurred_at TIMESTAMPTZ,
                ADD COLUMN IF NOT EXISTS cause_key TEXT;
            """),
        new(9, "a table held for datasync verify keeps the stream's restart point it needs to resume from", """
            -- While a table is held (state 'verifying') the other tables go on and the stream's restart point moves past
            -- what the held table still needs; these keep the point read when the hold began, so its release (or the next
            -- daemon start, after a crash) rewinds the stream to it. NULL when the table is not held.
            ALTER TABLE datasync_table_state
                ADD COLUMN IF NOT EXISTS hold_restart_lsn PG_LSN,
                ADD COLUMN IF NOT EXISTS hold_restart_segment TEXT;
            """),
    ];

    public static int Latest => All[^1].Version;
}
