-- Bring the journal's row of a swap on connection $2 forward to the warehouse's copy of
-- it ($1, as JSON: swap/journal_row.sql). Each step writes the warehouse's copy in the
-- transaction of its DDL, then this row in a transaction of its own: a shell that died
-- between the two left this one a step behind, and the next command (or status) brings
-- it here. Returns the table's schema and name and the step the records of the swap's
-- tables are to take now (swap, rollback or end, as definitions/20-partitions.sql's
-- swap_move_records takes them; NULL: none), from the state it leaves behind, which it
-- locks first; no row when its state was that already.
WITH copy AS (
  SELECT *
  FROM jsonb_populate_record(NULL::@schema@.swaps, $1::jsonb)
), before AS (
  SELECT s.state
  FROM @schema@.swaps s
  JOIN copy c ON c.id = s.id
  FOR UPDATE OF s
), written AS (
  INSERT INTO @schema@.swaps AS s
  SELECT *
  FROM copy
  ON CONFLICT (id) DO UPDATE
  SET (table_schema, table_name, shadow_name, old_name, state, started_at, started_by,
       checked_at, swapped_at, rolled_back_at, finished_at, keep_until, checks, accepted,
       timings, pending, writes_since, connection)
    = (excluded.table_schema, excluded.table_name, excluded.shadow_name, excluded.old_name,
       excluded.state, excluded.started_at, excluded.started_by, excluded.checked_at,
       excluded.swapped_at, excluded.rolled_back_at, excluded.finished_at,
       excluded.keep_until, excluded.checks, excluded.accepted, excluded.timings,
       excluded.pending, excluded.writes_since, $2::text)
  RETURNING s.state, s.table_schema, s.table_name
)
SELECT w.table_schema,
       w.table_name,
       CASE w.state
         WHEN 'swapped' THEN 'swap'
         WHEN 'rolled back' THEN 'rollback'
         WHEN 'finished' THEN 'end'
       END
FROM written w
WHERE w.state IS DISTINCT FROM (SELECT state FROM before)
