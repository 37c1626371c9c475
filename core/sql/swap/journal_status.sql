-- Every swap, or those of table $1.$2 (NULL: all) of connection $3's database (NULL:
-- the state database's; with no table, NULL is every database), newest first: where each
-- stands and what to do next, as swap-table status shows it; detail has the rest for
-- --json.
SELECT id AS swap,
       format('%I.%I', table_schema, table_name) AS "table",
       coalesce(connection, '') AS connection,
       coalesce(timings->>'mode', 'swap') AS mode,
       @schema@.swap_shown_state(state, timings) AS state,
       started_by,
       @schema@.iso_utc(started_at) AS started_at,
       coalesce((SELECT string_agg(c->>'name' || ' ' || (c->>'status'), ', ')
                 FROM jsonb_array_elements(checks) c), '') AS checks,
       coalesce((SELECT string_agg(a->>'check', ', ')
                 FROM jsonb_array_elements(accepted) a), '') AS accepted,
       timings->>'lock_ms' AS lock_ms,
       timings->>'check_ms' AS check_ms,
       -- Foreign keys a killed shell left unvalidated come first: the command that
       -- validates them is the one that was interrupted.
       CASE
         WHEN jsonb_array_length(pending) > 0
           THEN 'foreign keys still to validate: run swap-table ' ||
                CASE state WHEN 'swapped' THEN 'swap' ELSE 'rollback' END
         WHEN timings->>'mode' = 'v2' THEN
           CASE state
             WHEN 'started' THEN 'fill ' || shadow_name || ' (the tasks of ' || table_name ||
                                 ' write both), then check (or abandon)'
             WHEN 'checked' THEN 'move the readers to ' || shadow_name ||
                                 ', then finish (retires ' || table_name || '), or abandon'
             ELSE ''
           END
         ELSE
           CASE state
             WHEN 'started' THEN 'fill ' || shadow_name || ', then check (or abandon)'
             WHEN 'checked' THEN 'swap (or abandon)'
             WHEN 'swapped' THEN 'finish (or rollback)'
             WHEN 'rolled back' THEN 'swap again, or abandon (drops ' || shadow_name || ')'
             ELSE ''
           END
       END AS next,
       jsonb_build_object('checked_at', @schema@.iso_utc(checked_at),
                          'swapped_at', @schema@.iso_utc(swapped_at),
                          'rolled_back_at', @schema@.iso_utc(rolled_back_at),
                          'finished_at', @schema@.iso_utc(finished_at),
                          'keep_until', @schema@.iso_utc(keep_until),
                          'checks', checks,
                          'accepted', accepted,
                          'timings', timings,
                          'pending', pending) AS detail
FROM @schema@.swaps
WHERE ($1::text IS NULL OR (table_schema, table_name) = ($1, $2::text))
  AND (($1::text IS NULL AND $3::text IS NULL) OR connection IS NOT DISTINCT FROM $3::text)
ORDER BY id DESC
