-- logs: every run of task $1 (an id) for key $2, newest first. A run is one row however
-- often it was retried: a retry goes back to the queue in the same row (end_run), so
-- attempt says how many attempts it took, the error, class and output are those of its
-- last attempt, and earlier_attempts, newest first, those that failed and were retried
-- or, of class unreachable, waited for a connection that refused them (run_attempts; a
-- run retried before that table existed has none). A marked key's run says who marked
-- it (its batch's creator) and why. table is what the run wrote: production's table,
-- or a swap's T_backfill (swap_id); connection the named connection its SQL ran on, at
-- its last claim (NULL: the state database).
SELECT r.id AS run,
       r.batch_id AS batch,
       b.kind AS batch_kind,
       r.worker,
       r.attempt,
       CASE WHEN r.marked = 'skipped' THEN 'skipped' ELSE r.state END AS state,
       r.marked IS NOT NULL AS marked,
       CASE WHEN r.marked IS NOT NULL THEN b.created_by END AS marked_by,
       r.reason,
       @schema@.iso_utc(r.queued_at) AS queued_at,
       @schema@.iso_utc(r.started_at) AS started_at,
       @schema@.iso_utc(r.finished_at) AS finished_at,
       (extract(epoch FROM r.finished_at - r.started_at) * 1000)::bigint AS duration_ms,
       r.error_class,
       r.error,
       r.output,
       r.version,
       r.connection,
       r.swap_id AS swap,
       (SELECT coalesce(json_agg(json_build_object(
                 'attempt', a.attempt,
                 'worker', a.worker,
                 'started_at', @schema@.iso_utc(a.started_at),
                 'finished_at', @schema@.iso_utc(a.finished_at),
                 'duration_ms', (extract(epoch FROM a.finished_at - a.started_at) * 1000)::bigint,
                 'error_class', a.error_class,
                 'error', a.error,
                 'output', a.output,
                 'connection', a.connection) ORDER BY a.attempt DESC), '[]'::json)
        FROM @schema@.run_attempts a
        WHERE a.run_id = r.id) AS earlier_attempts,
       CASE WHEN r.swap_id IS NULL THEN coalesce(t.target, 'production')
            ELSE format('%s.%s_backfill', w.table_schema, w.table_name) END AS "table"
FROM @schema@.runs r
JOIN @schema@.tasks t ON t.id = r.task_id
LEFT JOIN @schema@.batches b ON b.id = r.batch_id
LEFT JOIN @schema@.swaps w ON w.id = r.swap_id
WHERE r.task_id = $1::integer
  AND r.key = $2
ORDER BY r.id DESC
