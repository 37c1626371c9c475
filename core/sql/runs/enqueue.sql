-- Enqueue as one batch the keys of a backfill or force-run: every (task, key) asked
-- for ($1 task ids, keys $2..$3) with the state of its latest run (from partitions,
-- kept by triggers on runs) decides whether it is enqueued ($4: rerun complete keys
-- too; $5: only keys that failed; $13: only complete keys built by an older version,
-- definitions/22-versions.sql), as runs/plan.sql counts it, up to the task's last due
-- key: the keys after it are not due yet (definitions/15-due.sql), and the runs table
-- would refuse them (definitions/25-runs.sql). The batch is of kind $6 (backfill or
-- force-run), made by the command line $7, with at most $8 of its runs running at once
-- (backfill --max-active; NULL: no cap). $9 is the priority, $10 newest keys first,
-- $11 whether the runs ignore their upstreams and $12 whether they write T_backfill, the
-- shadow of a table swap: such a run keeps the swap's id (none, no run), and the claim
-- takes the table from the journal (queue/claim.sql).
--
-- The batch is made only when there is something to enqueue, so that a backfill of keys
-- that are all done, or already waiting, takes no batch id (a sequence value is taken
-- for good, even in a transaction that is rolled back). One row: the batch (NULL when
-- none was made) and the runs enqueued; a batch whose every key another shell enqueued
-- meanwhile holds none, and runs/drop_batch.sql drops it again.
--
-- ord puts older keys first (key_ord; newest first with $10), so the queue works through
-- a backfill in key order across all its tasks. A task whose breaker is not closed gets
-- held runs (held_tasks). A run already queued, running or held is never
-- duplicated, even when another shell enqueues the same keys at the same moment.
WITH selected AS (
    SELECT t.id, t.name, t.key_kind, t.version,
           CASE WHEN t.key_kind = 'none' THEN $3
                ELSE least($3, @schema@.last_due_key(t.key_kind, x.s, now())) END AS last,
           CASE WHEN $12::boolean
                THEN @schema@.backfill_swap_of(t.target, t.definition) END AS swap_id
    FROM unnest($1::integer[]) AS u(id)
    JOIN @schema@.tasks t USING (id)
    LEFT JOIN @schema@.graphs g ON g.name = t.graph
    CROSS JOIN LATERAL (SELECT @schema@.task_schedule(t.definition -> 'schedule', g.schedule)
                               AS s
                        OFFSET 0) x
), candidates AS (
    SELECT s.id AS task_id, s.name, k.key, p.state, s.swap_id,
           coalesce(p.state NOT IN ('queued', 'running', 'held'), true)
           AND ($4::boolean OR $13::boolean OR p.state IS DISTINCT FROM 'success')
           AND (NOT $5::boolean OR p.state IN ('failed', 'blocked'))
           AND (NOT $13::boolean
                OR coalesce(@schema@.key_stale(p.state, p.built_version, s.version), false))
               AS enqueue
    FROM selected s
    CROSS JOIN LATERAL @schema@.key_series(s.key_kind, $2, s.last) AS k(key)
    LEFT JOIN @schema@.partitions p ON p.task_id = s.id AND p.key = k.key
), chosen AS (
    SELECT c.task_id, c.key, c.swap_id,
           CASE WHEN h.task_id IS NULL THEN 'queued' ELSE 'held' END AS state
    FROM candidates c
    LEFT JOIN @schema@.held_tasks h USING (task_id)
    WHERE c.enqueue
      -- A swap that ended since runs/check_into.sql looked has no T_backfill to write.
      AND (NOT $12::boolean OR c.swap_id IS NOT NULL)
), batch AS (
    INSERT INTO @schema@.batches (kind, command, max_active)
    SELECT $6, $7, $8::integer
    WHERE EXISTS (SELECT 1 FROM chosen)
    RETURNING id
), enqueued AS (
    INSERT INTO @schema@.runs (task_id, key, batch_id, priority, ord, ignore_deps, swap_id,
                               state)
    SELECT ch.task_id, ch.key, b.id, $9,
           CASE WHEN $10::boolean THEN -1 ELSE 1 END * @schema@.key_ord(ch.key),
           $11,
           ch.swap_id,
           ch.state
    FROM chosen ch
    CROSS JOIN batch b
    ORDER BY ch.key, ch.task_id
    ON CONFLICT (task_id, key) WHERE state IN ('queued', 'running', 'held') DO NOTHING
    RETURNING 1
)
SELECT (SELECT id FROM batch) AS batch,
       (SELECT count(*) FROM enqueued) AS runs
