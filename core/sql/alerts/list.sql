-- The alerts as people read them, newest first (the $6 latest, NULL: all; total counts
-- them all), the resolved ones last: all of them, or those not resolved ($1), of the
-- tasks $2 (NULL: any), of kind $3 (NULL: any), in state $4 (NULL: any), not of the
-- tasks $5 (NULL: none; an alert of no task, a worker's, is never left out by it), the
-- filters taken together. hook says what
-- the hook was last told (nothing, trigger, resolve), or what it is to be told next
-- (trigger, update or resolve, pending), with the failed attempts at it.
SELECT a.id,
       a.state,
       a.severity,
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
       coalesce(@schema@.hook_action(a) || ' pending', a.told) AS hook,
       a.hook_attempts,
       a.hook_error,
       @schema@.iso_utc(a.hook_next_at) AS hook_next_at,
       to_jsonb(a.keys) AS keys,
       a.detail,
       count(*) OVER () AS total
FROM @schema@.alerts a
WHERE (NOT $1::boolean OR a.state <> 'resolved')
  AND ($2::text[] IS NULL OR a.task = ANY ($2::text[]))
  AND ($3::text IS NULL OR a.kind = $3::text)
  AND ($4::text IS NULL OR a.state = $4::text)
  AND ($5::text[] IS NULL OR a.task IS NULL OR a.task <> ALL ($5::text[]))
ORDER BY a.state = 'resolved', a.last_seen DESC, a.id DESC
LIMIT $6::integer
