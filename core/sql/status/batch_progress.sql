-- Whether batch $1 can still progress, for --wait: how many live workers could claim
-- its unfinished runs (registered, not stopped, a heartbeat in the last $2 seconds,
-- their scope one of the runs' graphs), how many of those runs are running or could be
-- claimed some day, and the others, stuck, each with why: only a person can move them.
-- A run is stuck when it is held behind its breaker, its graph is paused, or an
-- upstream's latest run for the key it waits on failed, was blocked or cancelled. What
-- is cheap to tell is told; 'why TASK KEY' goes further.
WITH open_runs AS (
    SELECT r.id, r.task_id, r.key, r.state, r.ignore_deps, t.name AS task, t.graph,
           t.key_kind
    FROM @schema@.runs r
    JOIN @schema@.tasks t ON t.id = r.task_id
    WHERE r.batch_id = $1
      AND r.state IN ('queued', 'running', 'held')
), stuck AS (
    SELECT o.id, o.task, o.key,
           CASE
               WHEN o.state = 'held' OR b.state = 'open'
                   THEN 'held: the breaker of ' || o.task || ' is open'
               WHEN g.paused
                   THEN 'graph ' || o.graph || ' is paused'
               ELSE (SELECT 'upstream ' || u.name || ' ' || coalesce(nullif(k.key, ''), '')
                            || ' ' || l.state
                     FROM @schema@.task_deps d
                     JOIN @schema@.tasks u ON u.id = d.upstream_id
                     CROSS JOIN LATERAL (SELECT @schema@.key_shift(o.key_kind, o.key,
                                                                   d.key_offset) AS key) k
                     CROSS JOIN LATERAL (SELECT lr.state
                                         FROM @schema@.runs lr
                                         WHERE lr.task_id = d.upstream_id AND lr.key = k.key
                                         ORDER BY lr.id DESC
                                         LIMIT 1) l
                     WHERE d.task_id = o.task_id
                       AND NOT o.ignore_deps
                       AND l.state IN ('failed', 'blocked', 'cancelled')
                     ORDER BY u.name
                     LIMIT 1)
           END AS why
    FROM open_runs o
    JOIN @schema@.graphs g ON g.name = o.graph
    LEFT JOIN @schema@.breakers b ON b.task_id = o.task_id
    WHERE o.state <> 'running'
)
SELECT (SELECT count(*)
        FROM @schema@.workers w
        WHERE w.stopped_at IS NULL
          AND w.heartbeat_at > now() - make_interval(secs => $2::float8)
          AND (w.graph IS NULL OR w.graph IN (SELECT graph FROM open_runs))) AS live_workers,
       (SELECT count(*) FROM open_runs) - (SELECT count(*) FROM stuck WHERE why IS NOT NULL)
           AS movable,
       coalesce((SELECT json_agg(json_build_object('task', s.task, 'key', s.key, 'why', s.why)
                                 ORDER BY s.task, s.key)
                 FROM stuck s
                 WHERE s.why IS NOT NULL), '[]') AS stuck
