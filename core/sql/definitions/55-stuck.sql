-- Why a waiting run (queued or held) cannot move by itself, or NULL when nothing says
-- so cheaply: held behind its task's breaker, its graph paused, or the latest run of an
-- upstream key it waits on failed, was blocked or cancelled, so only a person can move
-- it. The one rule of "stuck", as --wait (status/batch_progress.sql) and worker --drain
-- (status/left_stuck.sql) tell it.
CREATE OR REPLACE FUNCTION run_stuck_reason(r runs) RETURNS text
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT CASE
           WHEN r.state = 'held' OR b.state = 'open'
               THEN 'the breaker of ' || t.name || ' is open'
           WHEN g.paused
               THEN 'graph ' || t.graph || ' is paused'
           ELSE (SELECT 'upstream ' || u.name || ' ' || k.key || ' ' || l.state
                 FROM task_deps d
                 JOIN tasks u ON u.id = d.upstream_id
                 CROSS JOIN LATERAL (SELECT key_shift(t.key_kind, r.key, d.key_offset) AS key) k
                 CROSS JOIN LATERAL (SELECT lr.state
                                     FROM runs lr
                                     WHERE lr.task_id = d.upstream_id AND lr.key = k.key
                                     ORDER BY lr.id DESC
                                     LIMIT 1) l
                 WHERE d.task_id = r.task_id
                   AND NOT r.ignore_deps
                   AND l.state IN ('failed', 'blocked', 'cancelled')
                 ORDER BY u.name
                 LIMIT 1)
         END
  FROM tasks t
  JOIN graphs g ON g.name = t.graph
  LEFT JOIN breakers b ON b.task_id = t.id
  WHERE t.id = r.task_id
$$;
