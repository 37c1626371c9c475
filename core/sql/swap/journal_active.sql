-- The active (not finished) swap of table $1.$2, if any: the unique index swaps_active
-- allows one. find reads its names, state and mode; start, refusing a second swap of
-- the table, says whose the first is.
SELECT id,
       shadow_name,
       old_name,
       state,
       timings->>'mode' = 'v2' AS v2,
       started_by,
       @schema@.iso_utc(started_at) AS started_at
FROM @schema@.swaps
WHERE table_schema = $1
  AND table_name = $2
  AND state <> 'finished'
