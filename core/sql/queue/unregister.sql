-- A worker ($1) stops; its last heartbeat is now. Runs it leaves in hand (it stops on an
-- error) stay running until their leases run out: its row stands for them (abandoned,
-- read by the claim's fleet, queue/claim.sql) until the reaper finds them gone
-- (queue/reap.sql).
UPDATE @schema@.workers
SET stopped_at = now(), heartbeat_at = now(),
    abandoned = @schema@.worker_running_runs($1)
WHERE name = $1
