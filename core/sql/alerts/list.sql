-- The alerts as people read them, newest first (the 500 latest), the resolved ones
-- last: all of them, those not resolved ($1), or the one whose id is $2 (NULL: any),
-- as ack and resolve show it once answered.
SELECT a.id,
       a.state,
       a.kind,
       a.count,
       a.task,
       a.key,
       a.worker,
       a.summary,
       @schema@.iso_utc(a.first_seen) AS first_seen,
       @schema@.iso_utc(a.last_seen) AS last_seen,
       a.acked_by,
       a.resolved_by,
       a.hook_state AS hook,
       a.hook_error,
       a.detail
FROM @schema@.alerts a
WHERE (NOT $1::boolean OR a.state <> 'resolved')
  AND ($2::bigint IS NULL OR a.id = $2)
ORDER BY a.state = 'resolved', a.last_seen DESC, a.id DESC
LIMIT 500
