-- Extend the leases of the runs worker $1 holds ($3) by $2 seconds, and its heartbeat;
-- the runs it still holds come back, with whether cancel was requested.
--
-- "Still this worker's" is written as a CASE here, and in every statement that finds
-- a run by id for its worker (queue/create_succeed_function.sql). Written plainly
-- (state = 'running' AND worker = ...) it matches the partial index runs_running,
-- which the planner then prefers, thinking it nearly empty; but it holds an entry for
-- every run this worker claimed since the last vacuum, each to be looked up in the
-- table. By id, it is one lookup.
WITH beat AS (
    UPDATE @schema@.workers
    SET heartbeat_at = now()
    WHERE name = $1
)
UPDATE @schema@.runs
SET lease_until = now() + make_interval(secs => $2)
WHERE id = ANY ($3::bigint[])
  AND CASE state WHEN 'running' THEN worker = $1 ELSE false END
RETURNING id, cancel_requested
