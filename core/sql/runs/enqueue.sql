-- Enqueue into batch $6 the keys of a backfill or force-run: every (task, key) asked
-- for ($1 task ids, keys $2..$3) with the state of its latest run (from partitions,
-- kept by triggers on runs) decides whether it is enqueued ($4: rerun complete keys
-- too; $5: only keys that failed; $11: only complete keys built by an older version,
-- definitions/22-versions.sql), as runs/plan.sql counts it, up to the task's last due
-- key: the keys after it are not due yet (definitions/15-due.sql), and the runs table
-- would refuse them (definitions/25-runs.sql). $7 is the priority,
-- $8 newest keys first, $9 whether the runs ignore their upstreams and $10 whether they
-- write T_backfill, the shadow of a table swap: such a run keeps the swap's id (none, no
-- run), and the claim takes the table from the journal (queue/claim.sql).
--
-- ord puts older keys first (key_ord; newest first with $8), so the queue works through
-- a backfill in key order across all its tasks. A task whose breaker is not closed gets
-- held runs (held_tasks). A run already queued, running or held is never
-- duplicated, even when another shell enqueues the same keys at the same moment.
WITH selected AS (
    SELECT t.id, t.name, t.key_kind, t.version,
           CASE WHEN t.key_kind = 'none' THEN $3
                ELSE least($3, @schema@.last_due_key(t.key_kind, x.s, now())) END AS last,
           CASE WHEN $10::boolean THEN @schema@.backfill_swap_of(t.target) END AS swap_id
    FROM unnest($1::integer[]) AS u(id)
    JOIN @schema@.tasks t USING (id)
    LEFT JOIN @schema@.graphs g ON g.name = t.graph
    CROSS JOIN LATERAL (SELECT @schema@.task_schedule(t.definition -> 'schedule', g.schedule)
                               AS s
                        OFFSET 0) x
), candidates AS (
    SELECT s.id AS task_id, s.name, k.key, p.state, s.swap_id,
           coalesce(p.state NOT IN ('queued', 'running', 'held'), true)
           AND ($4::boolean OR $11::boolean OR p.state IS DISTINCT FROM 'success')
           AND (NOT $5::boolean OR p.state IN ('failed', 'blocked'))
           AND (NOT $11::boolean
                OR coalesce(@schema@.key_stale(p.state, p.built_version, s.version), false))
               AS enqueue
    FROM selected s
    CROSS JOIN LATERAL @schema@.key_series(s.key_kind, $2, s.last) AS k(key)
    LEFT JOIN @schema@.partitions p ON p.task_id = s.id AND p.key = k.key
)
INSERT INTO @schema@.runs (task_id, key, batch_id, priority, ord, ignore_deps, swap_id, state)
SELECT task_id, key, $6, $7,
       CASE WHEN $8::boolean THEN -1 ELSE 1 END * @schema@.key_ord(key),
       $9,
       swap_id,
       CASE WHEN b.task_id IS NULL THEN 'queued' ELSE 'held' END
FROM candidates
LEFT JOIN @schema@.held_tasks b USING (task_id)
WHERE enqueue
  -- A swap that ended since runs/check_into.sql looked has no T_backfill to write.
  AND (NOT $10::boolean OR swap_id IS NOT NULL)
ORDER BY key, task_id
ON CONFLICT (task_id, key) WHERE state IN ('queued', 'running', 'held') DO NOTHING
