-- The results of a check of swap $1 ($2, a JSON array) and how long it took ($3 ms): the
-- swap is checked. A new check clears what was accepted of the old results. $4 is the
-- snapshot the comparison read the tables in: writes to T after it are not covered by
-- this check (swap/foreign_writes.sql), and the noted writes it saw are forgotten.
WITH covered AS (
  DELETE FROM @schema@.swap_writes
  WHERE swap_id = $1
    AND pg_visible_in_snapshot(txid, $4::pg_snapshot)
)
UPDATE @schema@.swaps
SET checks = $2,
    accepted = '[]',
    state = 'checked',
    checked_at = now(),
    writes_since = $4::pg_snapshot,
    timings = timings || jsonb_build_object('check_ms', $3::bigint)
WHERE id = $1
