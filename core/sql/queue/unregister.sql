-- A worker ($1) stops; its last heartbeat is now.
UPDATE @schema@.workers
SET stopped_at = now(), heartbeat_at = now()
WHERE name = $1
