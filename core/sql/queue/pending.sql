-- Whether anything in graph $1 (NULL: in any) may still become runnable, for a worker
-- that drains the queue. First, cheaply: a run in scope is running (it may fail and be
-- retried, its lease may expire, its downstream waits for it). Otherwise look at
-- waiting, the queued runs in scope that could be claimed some day (graph open, task
-- current, breaker not open), and take out the dead ones: those with an upstream key
-- that production's record (partitions, as the claim reads it) has neither built nor
-- waiting or in progress (failed, never queued, built into a swap's table alone, held
-- by its breaker: that waits for a person or a probe, not for this worker), or whose
-- waiting run is out of waiting (a paused graph) or dead itself. What is left waits
-- for its time or for runs in progress.
WITH RECURSIVE waiting AS (
    SELECT r.id, r.task_id, r.key, r.ignore_deps, t.key_kind
    FROM @schema@.runs r
    JOIN @schema@.tasks t ON t.id = r.task_id
    JOIN @schema@.graphs g ON g.name = t.graph
    WHERE r.state = 'queued'
      AND t.removed_at IS NULL
      AND g.removed_at IS NULL
      AND NOT g.paused
      AND ($1::text IS NULL OR t.graph = $1)
      AND r.task_id <> ALL (ARRAY(SELECT task_id FROM @schema@.breakers WHERE state = 'open'))
), dead (id, task_id, key) AS (
    SELECT w.id, w.task_id, w.key
    FROM waiting w
    WHERE NOT w.ignore_deps
      AND EXISTS (
          SELECT 1
          FROM @schema@.task_deps d
          CROSS JOIN LATERAL (SELECT @schema@.key_shift(w.key_kind, w.key, d.key_offset) AS key) k
          WHERE d.task_id = w.task_id
            AND (NOT EXISTS (SELECT 1
                             FROM @schema@.partitions p
                             LEFT JOIN @schema@.runs u ON u.id = p.run_id
                             WHERE p.task_id = d.upstream_id AND p.key = k.key
                               AND (p.built_by IS NOT NULL
                                    OR u.state IN ('queued', 'running')))
                 OR EXISTS (SELECT 1
                            FROM @schema@.runs u
                            WHERE u.task_id = d.upstream_id AND u.key = k.key
                              AND u.state = 'queued'
                              AND u.swap_id IS NULL
                              AND u.id NOT IN (SELECT id FROM waiting))))
    UNION
    SELECT w.id, w.task_id, w.key
    FROM dead x
    JOIN @schema@.task_deps d ON d.upstream_id = x.task_id
    JOIN waiting w ON w.task_id = d.task_id
                  AND NOT w.ignore_deps
                  AND w.key = @schema@.key_shift(w.key_kind, x.key, -d.key_offset)
)
SELECT EXISTS (SELECT 1
               FROM @schema@.runs r
               JOIN @schema@.tasks t ON t.id = r.task_id
               WHERE r.state = 'running' AND ($1::text IS NULL OR t.graph = $1))
    OR EXISTS (SELECT 1
               FROM waiting w
               WHERE w.id NOT IN (SELECT id FROM dead))
