-- The state of the latest run of every task of $1 (ids) for every key from $2 to $3,
-- one row per task and key in task then key order: name, graph, key kind, key, state
-- (NULL: no run), attempt, finished_at, error, whether the key is late (key_late) and
-- whether it is due yet (key_due_at), both by the server's clock, and whether it is
-- stale: complete, built by another version than the task's (definitions/22-versions.sql).
--
-- partitions keeps active runs as enqueued: their live state is the run's.
WITH selected AS (
  SELECT t.id, t.name, t.graph, t.key_kind, t.version, t.definition -> 'sla' AS sla,
         @schema@.task_schedule(t.definition -> 'schedule', g.schedule) AS s
  FROM unnest($1::integer[]) AS u(id)
  JOIN @schema@.tasks t USING (id)
  LEFT JOIN @schema@.graphs g ON g.name = t.graph
)
SELECT s.name,
       s.graph,
       s.key_kind,
       k.key,
       coalesce(r.state, p.state),
       r.attempt,
       @schema@.iso_utc(r.finished_at),
       r.error,
       @schema@.key_late(s.key_kind, k.key, s.sla, s.s, p.state, now()),
       @schema@.key_due_at(s.key_kind, k.key, s.s) <= now(),
       @schema@.key_stale(p.state, p.built_version, s.version)
FROM selected s
CROSS JOIN LATERAL @schema@.key_series(s.key_kind, $2, $3) AS k(key)
LEFT JOIN @schema@.partitions p ON p.task_id = s.id AND p.key = k.key
LEFT JOIN @schema@.runs r ON r.id = p.run_id
                         AND p.state IN ('failed', 'blocked', 'queued', 'running', 'held')
ORDER BY s.name, k.key
