-- The active (not finished) swap of table $1.$2 of connection $3's database (NULL: the
-- state database), if any: the unique index swaps_active allows one. find reads its
-- names, state and mode; start, refusing a second swap of the table, says whose the
-- first is. Run on a warehouse too, on its copy of the journal (swap/warehouse_tables.sql).
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
  AND connection IS NOT DISTINCT FROM $3::text
  AND state <> 'finished'
