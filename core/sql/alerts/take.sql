-- Take the oldest alert not yet handed to the hook, for $1 seconds: after that another
-- worker may take it, should this one die meanwhile. SKIP LOCKED: two workers never
-- take the same alert. Returns it as the hook receives it (alert_json).
UPDATE @schema@.alerts a
SET hook_at = now()
WHERE a.id = (SELECT id
              FROM @schema@.alerts
              WHERE hook_state = 'pending'
                AND (hook_at IS NULL OR hook_at < now() - make_interval(secs => $1))
              ORDER BY id
              LIMIT 1
              FOR UPDATE SKIP LOCKED)
RETURNING a.id, @schema@.alert_json(a)
