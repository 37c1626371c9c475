-- The state of the latest run of every task of $1 (ids) for every key from $2 to $3,
-- one row per task and key in task then key order: name, graph, key kind, key, state
-- (NULL: no run), attempt, finished_at, error, whether the key is late (key_late) and
-- whether it is due yet (key_due_at), both by the server's clock, and whether it is
-- stale: complete, built by another version than the task's (definitions/22-versions.sql).
-- A key a person marked skipped (mark) is complete, and its state says 'skipped'.
--
-- The keys are production's (partitions) unless $4: then those of the T_backfill of
-- the swap of the task's target under way (swap_partitions; runs/check_into.sql has
-- refused a task without one), the table that swap would bring in.
--
-- The records keep active runs as enqueued: their live state is the run's.
--
-- An hourly task over a range of days ($2 and $3 dates) takes every hour of those days:
-- status rolls them up per day (core/report.c).
WITH selected AS (
  SELECT t.id, t.name, t.graph, t.key_kind, t.version, t.definition -> 'sla' AS sla,
         @schema@.task_schedule(t.definition -> 'schedule', g.schedule) AS s,
         CASE WHEN $4::boolean
              THEN @schema@.backfill_swap_of(t.target, t.definition) END AS swap_id,
         CASE WHEN t.key_kind = 'hourly' AND length($2) = 10 THEN ARRAY['T00', 'T23']
              ELSE ARRAY['', ''] END AS hours_of_day
  FROM unnest($1::integer[]) AS u(id)
  JOIN @schema@.tasks t USING (id)
  LEFT JOIN @schema@.graphs g ON g.name = t.graph
)
SELECT s.name,
       s.graph,
       s.key_kind,
       k.key,
       CASE WHEN m.marked = 'skipped' THEN 'skipped' ELSE coalesce(r.state, p.state) END,
       r.attempt,
       @schema@.iso_utc(r.finished_at),
       r.error,
       @schema@.key_late(s.key_kind, k.key, s.sla, s.s, p.state, now()),
       @schema@.key_due_at(s.key_kind, k.key, s.s) <= now(),
       @schema@.key_stale(p.state, p.built_version, s.version)
FROM selected s
CROSS JOIN LATERAL @schema@.key_series(s.key_kind, $2 || s.hours_of_day[1],
                                       $3 || s.hours_of_day[2]) AS k(key)
LEFT JOIN LATERAL (SELECT p.run_id, p.state, p.built_version
                   FROM @schema@.partitions p
                   WHERE NOT $4::boolean AND p.task_id = s.id AND p.key = k.key
                   UNION ALL
                   SELECT i.run_id, i.state, i.built_version
                   FROM @schema@.swap_partitions i
                   WHERE i.swap_id = s.swap_id AND i.side = 'incoming'
                     AND i.task_id = s.id AND i.key = k.key) p ON true
LEFT JOIN @schema@.runs r ON r.id = p.run_id
                         AND p.state IN ('failed', 'blocked', 'queued', 'running', 'held')
LEFT JOIN @schema@.runs m ON m.id = p.run_id
                         AND p.state = 'success'
ORDER BY s.name, k.key
