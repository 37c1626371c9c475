-- The runs a draining worker of graph $1 (NULL: of every graph) leaves behind: queued
-- or held runs in its scope that nothing it could do would move, as it drained only
-- once none of them could become runnable. Each says why: its root cause
-- (run_root_reason, definitions/55-stuck.sql). At most $2 rows, by task and key; total
-- counts them all.
SELECT t.name AS task, r.key, r.state,
       @schema@.run_root_reason(r) AS why,
       count(*) OVER () AS total
FROM @schema@.runs r
JOIN @schema@.tasks t ON t.id = r.task_id
WHERE r.state IN ('queued', 'held')
  AND t.removed_at IS NULL
  AND ($1::text IS NULL OR t.graph = $1)
ORDER BY t.name, r.key
LIMIT $2::integer
