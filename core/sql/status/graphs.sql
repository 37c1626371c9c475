-- Per graph not removed: what waits and runs now, and what finished in the last 24
-- hours. Only live and recent runs are read (through partial indexes), never all of
-- history; they are counted per task first, so that the join to tasks sees a thousand
-- rows, not a queue.
WITH live AS (
  SELECT task_id,
         count(*) FILTER (WHERE state = 'queued') AS queued,
         count(*) FILTER (WHERE state = 'running') AS running,
         count(*) FILTER (WHERE state = 'held') AS held
  FROM @schema@.runs
  WHERE state IN ('queued', 'running', 'held')
  GROUP BY task_id
), recent AS (
  SELECT task_id,
         count(*) FILTER (WHERE state = 'success') AS succeeded,
         count(*) FILTER (WHERE state = 'failed') AS failed,
         count(*) FILTER (WHERE state = 'blocked') AS blocked
  FROM @schema@.runs
  WHERE finished_at > now() - interval '24 hours'
  GROUP BY task_id
), per_graph AS (
  SELECT t.graph,
         count(*) AS tasks,
         sum(l.queued) AS queued,
         sum(l.running) AS running,
         sum(l.held) AS held,
         sum(r.succeeded) AS succeeded,
         sum(r.failed) AS failed,
         sum(r.blocked) AS blocked
  FROM @schema@.tasks t
  LEFT JOIN live l ON l.task_id = t.id
  LEFT JOIN recent r ON r.task_id = t.id
  WHERE t.removed_at IS NULL
  GROUP BY t.graph
)
SELECT g.name AS graph,
       g.max_active,
       g.paused,
       coalesce(p.tasks, 0) AS tasks,
       coalesce(p.queued, 0)::bigint AS queued,
       coalesce(p.running, 0)::bigint AS running,
       coalesce(p.held, 0)::bigint AS held,
       coalesce(p.succeeded, 0)::bigint AS succeeded_24h,
       coalesce(p.failed, 0)::bigint AS failed_24h,
       coalesce(p.blocked, 0)::bigint AS blocked_24h
FROM @schema@.graphs g
LEFT JOIN per_graph p ON p.graph = g.name
WHERE g.removed_at IS NULL
ORDER BY g.name
