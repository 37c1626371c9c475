-- The checks of the tasks whose target is T ($2, as SQL writes it) in the database of
-- swap $1 (writes_swap_database, swap_names_target: the state database's, or its
-- connection's), for every key they wrote into the incoming table of the swap ($3 names
-- it as given): their successful runs of backfill --into backfill for the swap, and their
-- other runs since the swap started, which wrote the incoming table too
-- (queue/claim.sql). The task's own idea of good data, run by the caller in the swap's
-- database for each row with :"target" the incoming table. Rows: task, graph, key kind,
-- check name, check SQL, key, target. A warehouse's names are not resolved here: there
-- $3 is the swap's incoming table as the journal names it.
WITH sw AS (
  SELECT started_at, table_schema || '.' || shadow_name AS shadow, connection,
         table_schema, table_name, timings, to_regclass($2) AS rel
  FROM @schema@.swaps
  WHERE id = $1
    AND (connection IS NOT NULL
         OR to_regclass(format('%I.%I', table_schema, shadow_name)) = to_regclass($3))
)
SELECT t.name, t.graph, t.key_kind, c->>'name', c->>'sql', r.key, sw.shadow
FROM sw
CROSS JOIN @schema@.tasks t
CROSS JOIN jsonb_array_elements(t.checks) c
JOIN LATERAL (SELECT DISTINCT r.key
              FROM @schema@.runs r
              WHERE r.task_id = t.id
                AND r.state = 'success'
                AND (r.swap_id = $1
                     OR (r.swap_id IS NULL
                         AND r.finished_at >= sw.started_at))) r ON true
WHERE t.removed_at IS NULL
  AND @schema@.writes_swap_database(t.definition, sw.connection)
  AND @schema@.swap_names_target(t.target, sw.connection, sw.rel, sw.table_schema,
                                 sw.table_name, sw.timings)
ORDER BY 1, 4, 6
