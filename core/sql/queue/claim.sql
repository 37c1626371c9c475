-- Claim up to $2 runs in queue order (the runs_queue index) for worker $3, with a lease
-- of $4 seconds, in graph $1 (NULL: any): queued, due, in an open graph with a free
-- slot, every upstream done for the key. An upstream is done when it has a successful
-- run for the shifted key and none waiting or in progress (a re-run makes the
-- downstream wait). Runs another claimer holds are skipped, not waited for.
--
-- The candidates are walked in index order and cut at $2 before the per-graph slots
-- are counted (a window function cannot sit under FOR UPDATE), so a claim may take
-- fewer runs than it could; the next one takes the rest. A task whose breaker is open
-- has its runs held, and the claim skips it too, for a run queued at the moment the
-- breaker opened: the open breakers are read once per claim, not once per candidate.
-- started_at is the clock's, not now(): the transaction may have begun before it
-- waited for the graph locks (queue/lock_graphs.sql).
--
-- The last column is T_v2 when a swap in mode v2 (its mode is in its timings) is under
-- way for the task's own target: the worker writes both (not for a run of backfill
-- --into, which has a target of its own). The swaps are read once per claim; without
-- one in mode v2, a run costs a look at an empty list.
--
-- The worker reads the columns by position (claim.c, run_from_row).
WITH v2_shadows AS MATERIALIZED (
    SELECT to_regclass(format('%I.%I', table_schema, table_name)) AS rel,
           table_schema || '.' || shadow_name AS shadow
    FROM @schema@.swaps
    WHERE state <> 'finished' AND timings->>'mode' = 'v2'
), busy AS (
    SELECT t.graph, count(*) AS n
    FROM @schema@.runs r
    JOIN @schema@.tasks t ON t.id = r.task_id
    WHERE r.state = 'running'
    GROUP BY t.graph
), open AS (
    SELECT g.name, g.max_active - coalesce(b.n, 0) AS free
    FROM @schema@.graphs g
    LEFT JOIN busy b ON b.graph = g.name
    WHERE NOT g.paused
      AND g.removed_at IS NULL
      AND ($1::text IS NULL OR g.name = $1)
      AND g.max_active > coalesce(b.n, 0)
), candidates AS (
    SELECT r.id, r.priority, r.ord, t.graph
    FROM @schema@.runs r
    JOIN @schema@.tasks t ON t.id = r.task_id
    WHERE r.state = 'queued'
      AND r.not_before <= now()
      AND t.removed_at IS NULL
      AND t.graph IN (SELECT name FROM open)
      AND r.task_id <> ALL (ARRAY(SELECT task_id FROM @schema@.breakers WHERE state = 'open'))
      AND (r.ignore_deps OR NOT EXISTS (
          SELECT 1
          FROM @schema@.task_deps d
          CROSS JOIN LATERAL (SELECT @schema@.key_shift(t.key_kind, r.key, d.key_offset) AS key) k
          WHERE d.task_id = r.task_id
            AND (NOT EXISTS (SELECT 1
                             FROM @schema@.runs u
                             WHERE u.task_id = d.upstream_id AND u.key = k.key
                               AND u.state = 'success')
                 OR EXISTS (SELECT 1
                            FROM @schema@.runs u
                            WHERE u.task_id = d.upstream_id AND u.key = k.key
                              AND u.state IN ('queued', 'running', 'held')))))
    ORDER BY r.priority DESC, r.ord, r.id
    LIMIT $2
    FOR UPDATE OF r SKIP LOCKED
), picked AS (
    SELECT c.id
    FROM (SELECT id, graph,
                 row_number() OVER (PARTITION BY graph ORDER BY priority DESC, ord, id) AS rn
          FROM candidates) c
    JOIN open o ON o.name = c.graph
    WHERE c.rn <= o.free
), claimed AS (
    UPDATE @schema@.runs r
    SET state = 'running',
        worker = $3,
        attempt = r.attempt + 1,
        lease_until = clock_timestamp() + make_interval(secs => $4),
        started_at = clock_timestamp(),
        finished_at = NULL
    FROM picked p, @schema@.tasks t
    WHERE r.id = p.id AND t.id = r.task_id
    RETURNING r.id, r.attempt, t.name, t.graph, t.key_kind, r.key, t.sql, t.command,
              coalesce(r.target, t.target), t.timeout_s, t.checks, t.complete_when,
              t.definition -> 'error_classes', r.priority, r.ord,
              (SELECT v.shadow
               FROM v2_shadows v
               WHERE r.target IS NULL AND v.rel = to_regclass(t.target))
)
SELECT *
FROM claimed
ORDER BY priority DESC, ord, id
