-- The checks of the tasks whose target is T ($2), for every key they wrote into the
-- incoming table of swap $1 ($3 names it as given): their successful runs of backfill
-- --into backfill for the swap, and their other runs since the swap started, which
-- wrote the incoming table too (queue/claim.sql). The task's own idea of good data,
-- run by the caller for each row with :"target" the incoming table. Rows: task, graph,
-- key kind, check name, check SQL, key, target.
WITH sw AS (
  SELECT started_at, table_schema || '.' || shadow_name AS shadow
  FROM @schema@.swaps
  WHERE id = $1
    AND to_regclass(format('%I.%I', table_schema, shadow_name)) = to_regclass($3)
)
SELECT t.name, t.graph, t.key_kind, c->>'name', c->>'sql', r.key, (SELECT shadow FROM sw)
FROM @schema@.tasks t
CROSS JOIN jsonb_array_elements(t.checks) c
JOIN LATERAL (SELECT DISTINCT r.key
              FROM @schema@.runs r
              WHERE r.task_id = t.id
                AND r.state = 'success'
                AND (r.swap_id = $1
                     OR (r.swap_id IS NULL
                         AND r.finished_at >= (SELECT started_at FROM sw)))) r ON true
WHERE t.removed_at IS NULL
  AND to_regclass(t.target) = to_regclass($2)
  AND EXISTS (SELECT 1 FROM sw)
ORDER BY 1, 4, 6
