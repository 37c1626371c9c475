-- logs: every run of task $1 (an id) for key $2, newest first. A run is one row however
-- often it was retried: a retry goes back to the queue in the same row (end_run), so
-- attempt says how many attempts it took, and the error, class and output are those of
-- its last attempt; earlier attempts' are not kept. A marked key's run says who marked
-- it (its batch's creator) and why. table is what the run wrote: production's table,
-- or a swap's T_backfill (swap_id).
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
       r.swap_id AS swap,
       CASE WHEN r.swap_id IS NULL THEN coalesce(t.target, 'production')
            ELSE format('%s.%s_backfill', w.table_schema, w.table_name) END AS "table"
FROM @schema@.runs r
JOIN @schema@.tasks t ON t.id = r.task_id
LEFT JOIN @schema@.batches b ON b.id = r.batch_id
LEFT JOIN @schema@.swaps w ON w.id = r.swap_id
WHERE r.task_id = $1::integer
  AND r.key = $2
ORDER BY r.id DESC
