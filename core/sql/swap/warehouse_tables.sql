-- The statements that give a warehouse what a swap of one of its tables needs there
-- (swap-table --connection), in a schema of the state schema's name ($1, as given), which
-- init never makes since it never touches a warehouse: swaps, a copy of the journal's
-- rows of the swaps of its tables, and swap_writes, their write log (the tables of
-- migrations 0006, 0009 and 0018, with the same columns, so that the statements of
-- swap/ and the functions of definitions/80-swaps.sql run on them unchanged). Each step
-- writes the copy in the transaction of its DDL, before the journal: it is the marker
-- the journal is brought forward from (swap/journal_forward.sql). The ids are the
-- journal's, so the copy has no sequence. IF NOT EXISTS: every swap-table on a connection
-- runs them, under the lock of init (store/lock.sql). Generated here with %I, run by the
-- caller (ds_db_exec_rows).
SELECT format(stmt, $1::text)
FROM unnest(ARRAY[
  'CREATE SCHEMA IF NOT EXISTS %I',
  'CREATE TABLE IF NOT EXISTS %1$I.swaps (
       id bigint PRIMARY KEY,
       table_schema text NOT NULL,
       table_name text NOT NULL,
       shadow_name text NOT NULL,
       old_name text NOT NULL,
       state text NOT NULL DEFAULT ''started'' CHECK (state IN (''started'', ''checked'',
           ''swapped'', ''rolled back'', ''finished'')),
       started_at timestamptz NOT NULL DEFAULT now(),
       started_by text NOT NULL DEFAULT current_user,
       checked_at timestamptz,
       swapped_at timestamptz,
       rolled_back_at timestamptz,
       finished_at timestamptz,
       keep_until timestamptz,
       checks jsonb,
       accepted jsonb NOT NULL DEFAULT ''[]'',
       timings jsonb NOT NULL DEFAULT ''{}'',
       pending jsonb NOT NULL DEFAULT ''[]'',
       writes_since pg_snapshot,
       connection text)',
  'CREATE UNIQUE INDEX IF NOT EXISTS swaps_active ON %1$I.swaps (table_schema, table_name)
       WHERE state <> ''finished''',
  'CREATE TABLE IF NOT EXISTS %1$I.swap_writes (
       swap_id bigint NOT NULL REFERENCES %1$I.swaps (id),
       txid xid8 NOT NULL,
       wrote_table boolean NOT NULL,
       wrote_incoming boolean NOT NULL,
       ops text[] NOT NULL,
       role text NOT NULL,
       application_name text NOT NULL,
       first_at timestamptz NOT NULL,
       last_at timestamptz NOT NULL,
       statements integer NOT NULL,
       PRIMARY KEY (swap_id, txid))',
  'CREATE INDEX IF NOT EXISTS swap_writes_table_only ON %1$I.swap_writes (swap_id)
       WHERE wrote_table AND NOT wrote_incoming'
]) WITH ORDINALITY AS s(stmt, n)
ORDER BY n
