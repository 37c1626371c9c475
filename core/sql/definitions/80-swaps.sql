-- The swap journal (swap-table) as people read it.

-- The state of a swap as status and handoff show it: an abandoned swap ends as finished
-- (so that the table is free for a new start and its tasks write it alone), marked in
-- its timings, and reads as abandoned. One plain SELECT, so that the planner inlines it.
CREATE OR REPLACE FUNCTION swap_shown_state(state text, timings jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN timings ? 'abandoned' THEN 'abandoned' ELSE state END
$$;

-- The statement trigger on both tables of an active swap (mode swap): notes that the
-- transaction wrote T (the table named as the swap's table) or the other one, with what,
-- by whom and when, one row per transaction (migrations/0009-swap-writes.sql says what
-- for). TG_ARGV[0] is the swap's id. The table is told by its name, not by the trigger,
-- so that the triggers need not move when swap and rollback exchange the names. Once
-- the swap is finished it notes nothing. Runs as the owner, so that whoever writes the
-- table (any role) is noted without any privilege on the state schema; its body names
-- no schema: the search_path below is the state schema.
CREATE OR REPLACE FUNCTION swap_log_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = @schema@, pg_temp AS $$
DECLARE
  production boolean;
BEGIN
  SELECT TG_TABLE_SCHEMA = s.table_schema AND TG_TABLE_NAME = s.table_name
  INTO production
  FROM swaps s
  WHERE s.id = TG_ARGV[0]::bigint
    AND s.state <> 'finished';
  IF FOUND THEN
    INSERT INTO swap_writes AS w (swap_id, txid, wrote_table, wrote_incoming, ops, role,
                                  application_name, first_at, last_at, statements)
    VALUES (TG_ARGV[0]::bigint, pg_current_xact_id(), production, NOT production,
            ARRAY[TG_OP], session_user, current_setting('application_name'),
            clock_timestamp(), clock_timestamp(), 1)
    ON CONFLICT (swap_id, txid) DO UPDATE
    SET wrote_table = w.wrote_table OR excluded.wrote_table,
        wrote_incoming = w.wrote_incoming OR excluded.wrote_incoming,
        ops = CASE WHEN TG_OP = ANY (w.ops) THEN w.ops ELSE w.ops || TG_OP END,
        last_at = excluded.last_at,
        statements = w.statements + 1;
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION swap_log_write() FROM PUBLIC;

-- The name of the trigger that puts swap id's writes in swap_writes, on both its tables.
CREATE OR REPLACE FUNCTION swap_write_trigger(id bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = @schema@, pg_temp AS $$
  SELECT 'datashell_swap_' || id || '_writes'
$$;

-- Whether a task (its definition) writes the database of a swap on connection $2 (NULL:
-- the state database), whose table of its target's name the swap rebuilds: the task runs
-- on that connection (its own or its graph's; none: the state database). A table of the
-- same name in another database is another table. The one rule, for the claim
-- (queue/claim.sql: the incoming table of a swap for such a task), the refusal of --into
-- (runs/check_into.sql) and the records a swap moves (swap/target_candidates.sql).
CREATE OR REPLACE FUNCTION writes_swap_database(definition jsonb, connection text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT $1 ->> 'connection' IS NOT DISTINCT FROM $2
$$;
-- Its older form, which knew the state database alone.
DROP FUNCTION IF EXISTS writes_state_database(jsonb);

-- Whether a task's target names the table of a swap (its oid as rel, schema, name,
-- connection and timings), in the database of that connection (NULL: the state
-- database), which writes_swap_database() tells the task writes. In the state database
-- the target is resolved as the task's SQL resolves it (to_regclass, with the session's
-- search_path). A warehouse's catalog is not here, so there it is read as a name:
-- schema.name, or the name alone when swap-table start found that it names the table
-- there (timings' "bare": with the connection's search_path, which a worker's session
-- has too). The one rule, for the claim (queue/claim.sql) and backfill_swap_of(). One
-- plain SELECT, so that the planner inlines it.
CREATE OR REPLACE FUNCTION swap_names_target(target text, connection text, rel regclass,
                                             table_schema text, table_name text,
                                             timings jsonb)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN $2 IS NULL THEN $3 = to_regclass($1)
           WHEN cardinality(parse_ident($1)) = 2 THEN parse_ident($1) = ARRAY[$4, $5]
           ELSE parse_ident($1) = ARRAY[$5] AND coalesce(($6 ->> 'bare')::boolean, false)
         END
$$;

-- The swap under way whose T_backfill a task (its target and definition) writes
-- (backfill --into backfill): one of mode swap of the task's own database
-- (writes_swap_database: the state database's, or its connection's) whose table its
-- target names (swap_names_target), from its start until it is swapped, and again after
-- a rollback (mode v2 has no T_backfill); NULL when there is none. The one rule, for the
-- refusal of --into (runs/check_into.sql), its plan, its enqueue and its calendar.
CREATE OR REPLACE FUNCTION backfill_swap_of(target text, definition jsonb) RETURNS bigint
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT w.id
  FROM swaps w
  WHERE w.state IN ('started', 'checked', 'rolled back')
    AND coalesce(w.timings->>'mode', 'swap') = 'swap'
    AND writes_swap_database(definition, w.connection)
    AND swap_names_target(target, w.connection,
                          to_regclass(format('%I.%I', w.table_schema, w.table_name)),
                          w.table_schema, w.table_name, w.timings)
$$;
-- Its older form, which knew the state database alone.
DROP FUNCTION IF EXISTS backfill_swap_of(text);
