-- The ids of the latest alerts not resolved, newest first, for tab completion: the
-- ones ack and resolve can answer.
SELECT id::text
FROM @schema@.alerts
WHERE state <> 'resolved'
ORDER BY id DESC
LIMIT 50
