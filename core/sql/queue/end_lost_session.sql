-- Before worker $1 registers again after losing its connection, end the session it had
-- (workers.session_pid and session_start), if the server still runs it: a network that
-- broke may leave it alive, a claim in it waiting for a graph lock, to claim runs under
-- the worker's name once the lock comes free, after the worker counted the runs it
-- left (queue/register.sql). Claims that skip counting running runs trust that count
-- (the fleet of queue/claim.sql). pg_terminate_backend waits up to 10 seconds for the
-- session to end, and its transaction rolls back: the answer is false if it did not,
-- and the worker then does not register (it tries again as after a failed reconnect).
SELECT coalesce(bool_and(pg_terminate_backend(a.pid, 10000)), true)
FROM @schema@.workers w
JOIN pg_stat_activity a ON a.pid = w.session_pid AND a.backend_start = w.session_start
WHERE w.name = $1
  AND a.pid <> pg_backend_pid()
