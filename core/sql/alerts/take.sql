-- Take the next thing to tell the hook: the oldest incident whose hook_action is not
-- nothing, whose retry is due and that no worker is delivering, for $1 seconds (after
-- that another worker may take it, should this one die meanwhile). SKIP LOCKED and the
-- lease: two workers never deliver the same action. Returns the incident, the action
-- and the severity told, and the JSON the hook receives (alert_json with the action).
-- The first condition is the predicate of the index alerts_hook, so that the resolved
-- history is never read; hook_action decides among the rows it leaves.
UPDATE @schema@.alerts a
SET hook_lease_until = now() + make_interval(secs => $1),
    hook_at = now()
FROM (SELECT x.id, @schema@.hook_action(x) AS action
      FROM @schema@.alerts x
      WHERE (x.told = 'trigger' OR (x.told = 'nothing' AND x.state <> 'resolved'))
        AND @schema@.hook_action(x) IS NOT NULL
        AND (x.hook_next_at IS NULL OR x.hook_next_at <= now())
        AND (x.hook_lease_until IS NULL OR x.hook_lease_until < now())
      ORDER BY x.id
      LIMIT 1
      FOR UPDATE SKIP LOCKED) n
WHERE a.id = n.id
RETURNING a.id, n.action, a.severity,
          @schema@.alert_json(a) || jsonb_build_object('action', n.action)
