-- Cancel the unfinished runs of batch $1, or of swap $5 (its backfill --into backfill,
-- when the swap is abandoned), or, when both are NULL, those of tasks $2 over keys
-- $3..$4: those waiting become cancelled, those running are asked to stop (the worker
-- sees it when it renews their leases). Returns how many of each.
--
-- One of the three: the guards on $1 and $5 fold to constants when the statement is
-- planned with its values, leaving the one condition that applies.
WITH target AS (
    SELECT r.id, r.state
    FROM @schema@.runs r
    WHERE (($1::bigint IS NOT NULL AND r.batch_id = $1)
           OR ($5::bigint IS NOT NULL AND r.swap_id = $5)
           OR ($1::bigint IS NULL AND $5::bigint IS NULL
               AND r.task_id = ANY ($2::integer[])
               AND (r.key = '' OR r.key BETWEEN $3 AND $4)))
      AND r.state IN ('queued', 'held', 'running')
    FOR UPDATE
), dequeued AS (
    UPDATE @schema@.runs r
    SET state = 'cancelled',
        finished_at = now(),
        error = 'cancelled by ' || current_user
                || CASE WHEN $5::bigint IS NOT NULL
                        THEN format(': swap %s was abandoned', $5::bigint)
                        ELSE '' END
    FROM target
    WHERE r.id = target.id AND target.state <> 'running'
    RETURNING 1
), stopping AS (
    UPDATE @schema@.runs r
    SET cancel_requested = true
    FROM target
    WHERE r.id = target.id AND target.state = 'running'
    RETURNING 1
)
SELECT (SELECT count(*) FROM dequeued),
       (SELECT count(*) FROM stopping)
