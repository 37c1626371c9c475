-- The runs a draining worker of graph $1 (NULL: of every graph) leaves behind: queued
-- or held runs in its scope that nothing it could do would move, as it drained only
-- once none of them could become runnable. Each says why, as far as is cheap to tell:
-- held behind its breaker, its graph paused, an upstream's latest run for the key it
-- waits on failed, was blocked or cancelled, or else an upstream key not done and not
-- on its way. At most $2 rows, by task and key; total counts them all.
WITH left_behind AS (
    SELECT r.id, r.task_id, r.key, r.state, r.ignore_deps, t.name AS task, t.graph,
           t.key_kind
    FROM @schema@.runs r
    JOIN @schema@.tasks t ON t.id = r.task_id
    WHERE r.state IN ('queued', 'held')
      AND t.removed_at IS NULL
      AND ($1::text IS NULL OR t.graph = $1)
)
SELECT o.task, o.key, o.state,
       CASE
           WHEN o.state = 'held' OR b.state = 'open'
               THEN 'the breaker of ' || o.task || ' is open'
           WHEN g.paused
               THEN 'graph ' || o.graph || ' is paused'
           ELSE coalesce((SELECT 'upstream ' || u.name || ' ' || k.key || ' ' || l.state
                          FROM @schema@.task_deps d
                          JOIN @schema@.tasks u ON u.id = d.upstream_id
                          CROSS JOIN LATERAL (SELECT @schema@.key_shift(o.key_kind, o.key,
                                                                        d.key_offset) AS key) k
                          CROSS JOIN LATERAL (SELECT lr.state
                                              FROM @schema@.runs lr
                                              WHERE lr.task_id = d.upstream_id
                                                AND lr.key = k.key
                                              ORDER BY lr.id DESC
                                              LIMIT 1) l
                          WHERE d.task_id = o.task_id
                            AND NOT o.ignore_deps
                            AND l.state IN ('failed', 'blocked', 'cancelled')
                          ORDER BY u.name
                          LIMIT 1),
                         'waits for an upstream key that is neither done nor on its way')
       END AS why,
       count(*) OVER () AS total
FROM left_behind o
JOIN @schema@.graphs g ON g.name = o.graph
LEFT JOIN @schema@.breakers b ON b.task_id = o.task_id
ORDER BY o.task, o.key
LIMIT $2::integer
