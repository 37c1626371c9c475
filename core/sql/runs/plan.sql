-- The plan of a backfill or force-run, per task: of the keys asked for ($1 task ids,
-- keys $2..$3, $6 of them), how many would be enqueued ($4: rerun complete keys too;
-- $5: only keys that failed; $8: only complete keys built by an older version, stale),
-- and how many are complete, stale, active or failed, and how many
-- are not due yet: a range that runs into the future is cut, per task, at the task's
-- last due key (definitions/15-due.sql; tasks differ by delay and time zone), and
-- not_due_from is the first key cut and not_due_at when it becomes due. The latest
-- states are counted per task straight from the records (kept by triggers on runs); the
-- keys themselves are only generated when runs are enqueued (runs/enqueue.sql, which
-- decides key by key what this counts).
--
-- Complete and failed are counted in production's records (partitions), or with $7
-- (backfill --into backfill) in those of the task's T_backfill (swap_partitions, of the
-- swap under way of its target); a key is active when either has a run of it waiting or
-- in progress: a task has one such run per key, whichever table it writes, and the
-- enqueue skips the key.
WITH selected AS (
    SELECT t.id, t.name, t.key_kind, t.version, x.s,
           CASE WHEN t.key_kind = 'none' THEN $3
                ELSE least($3, @schema@.last_due_key(t.key_kind, x.s, now())) END AS last,
           @schema@.backfill_swap_of(t.target, t.definition) AS swap_id
    FROM unnest($1::integer[]) AS u(id)
    JOIN @schema@.tasks t USING (id)
    LEFT JOIN @schema@.graphs g ON g.name = t.graph
    CROSS JOIN LATERAL (SELECT @schema@.task_schedule(t.definition -> 'schedule', g.schedule)
                               AS s
                        OFFSET 0) x
), latest AS (
    SELECT p.task_id,
           count(*) FILTER (WHERE p.state = 'success') AS complete,
           count(*) FILTER (WHERE @schema@.key_stale(p.state, p.built_version, s.version))
               AS stale,
           count(*) FILTER (WHERE p.state IN ('queued', 'running', 'held')) AS active,
           count(*) FILTER (WHERE p.state IN ('failed', 'blocked')) AS failed
    FROM @schema@.partitions p
    JOIN selected s ON s.id = p.task_id
    WHERE p.key = '' OR p.key BETWEEN $2 AND s.last
    GROUP BY p.task_id
), shadow AS (
    -- A run that writes both tables has a record in each: its key is counted once.
    SELECT i.task_id,
           count(*) FILTER (WHERE i.state = 'success') AS complete,
           count(*) FILTER (WHERE i.state IN ('queued', 'running', 'held')
                              AND NOT EXISTS (SELECT 1
                                              FROM @schema@.partitions p
                                              WHERE p.task_id = i.task_id
                                                AND p.key = i.key
                                                AND p.run_id = i.run_id)) AS active,
           count(*) FILTER (WHERE i.state IN ('failed', 'blocked')) AS failed
    FROM @schema@.swap_partitions i
    JOIN selected s ON s.id = i.task_id AND s.swap_id = i.swap_id
    WHERE i.side = 'incoming'
      AND (i.key = '' OR i.key BETWEEN $2 AND s.last)
    GROUP BY i.task_id
), counts AS (
    SELECT s.name,
           CASE s.key_kind WHEN 'none' THEN 1 ELSE $6::bigint END AS keys,
           CASE WHEN s.key_kind = 'none' OR s.last = $3 THEN 0
                WHEN s.last < $2 THEN $6::bigint
                ELSE (@schema@.key_ord($3) - @schema@.key_ord(s.last))
                     / CASE s.key_kind WHEN 'hourly' THEN 1 ELSE 24 END
           END AS not_due,
           CASE WHEN s.key_kind <> 'none' AND s.last < $3
                THEN greatest($2, @schema@.key_shift(s.key_kind, s.last, 1)) END AS not_due_from,
           s.key_kind,
           s.s,
           CASE WHEN $7::boolean THEN coalesce(w.complete, 0)
                ELSE coalesce(l.complete, 0) END AS complete,
           coalesce(l.stale, 0) AS stale,
           coalesce(l.active, 0) + coalesce(w.active, 0) AS active,
           CASE WHEN $7::boolean THEN coalesce(w.failed, 0)
                ELSE coalesce(l.failed, 0) END AS failed
    FROM selected s
    LEFT JOIN latest l ON l.task_id = s.id
    LEFT JOIN shadow w ON w.task_id = s.id
)
SELECT name AS task,
       keys,
       CASE WHEN $5::boolean THEN failed
            WHEN $8::boolean THEN stale
            ELSE keys - not_due - active - CASE WHEN $4::boolean THEN 0 ELSE complete END
       END AS enqueue,
       complete,
       stale,
       active,
       failed,
       not_due,
       not_due_from,
       @schema@.iso_utc(@schema@.key_due_at(key_kind, not_due_from, s)) AS not_due_at
FROM counts
ORDER BY name
