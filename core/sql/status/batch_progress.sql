-- Whether batch $1 can still progress, for --wait: how many live workers could claim
-- its unfinished runs (worker_live(), definitions/55-stuck.sql, their scope one of the
-- runs' graphs), how many of those runs are running or could be claimed some day, and
-- the others, stuck, each with why: only a person can move them.
-- A run is stuck as stuck_runs() says (definitions/55-stuck.sql).
WITH open_runs AS (
    SELECT r.id, r.key, r.state, t.name AS task, t.graph
    FROM @schema@.runs r
    JOIN @schema@.tasks t ON t.id = r.task_id
    WHERE r.batch_id = $1
      AND r.state IN ('queued', 'running', 'held')
), stuck AS (
    SELECT o.task, o.key, o.state, s.reason AS why
    FROM open_runs o
    JOIN @schema@.stuck_runs(NULL, $1) s ON s.run = o.id
)
SELECT (SELECT count(*)
        FROM @schema@.workers w
        WHERE @schema@.worker_live(w)
          AND (w.graph IS NULL OR w.graph IN (SELECT graph FROM open_runs))) AS live_workers,
       (SELECT count(*) FROM open_runs) - (SELECT count(*) FROM stuck) AS movable,
       coalesce((SELECT json_agg(json_build_object('task', s.task, 'key', s.key, 'state', s.state,
                                                   'why', s.why)
                                 ORDER BY s.task, s.key)
                 FROM stuck s), '[]') AS stuck
