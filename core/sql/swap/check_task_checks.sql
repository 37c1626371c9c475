-- The checks of the tasks whose target is T ($2), for every key they wrote into the
-- incoming table ($3): their successful runs of backfill --into backfill, or, in mode
-- v2, their runs since swap $1 started, which wrote T_v2 too (a run with no target of
-- its own wrote T and T_v2). The task's own idea of good data, run by the caller for
-- each row with :"target" the table the run wrote. Rows: task, graph, key kind, check
-- name, check SQL, key, target.
WITH v2 AS (
  SELECT started_at, table_schema || '.' || shadow_name AS shadow
  FROM @schema@.swaps
  WHERE id = $1
    AND timings->>'mode' = 'v2'
)
SELECT t.name, t.graph, t.key_kind, c->>'name', c->>'sql', r.key, r.target
FROM @schema@.tasks t
CROSS JOIN jsonb_array_elements(t.checks) c
JOIN LATERAL (SELECT DISTINCT r.key, coalesce(r.target, (SELECT shadow FROM v2)) AS target
              FROM @schema@.runs r
              WHERE r.task_id = t.id
                AND r.state = 'success'
                AND (to_regclass(r.target) = to_regclass($3)
                     OR (r.target IS NULL
                         AND r.finished_at >= (SELECT started_at FROM v2)))) r ON true
WHERE t.removed_at IS NULL
  AND to_regclass(t.target) = to_regclass($2)
ORDER BY 1, 4, 6
