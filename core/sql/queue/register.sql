-- A worker ($1) starts: where it runs, its scope (a graph, or NULL) and its slots. A
-- worker that reconnects after losing its server registers again under its name: its
-- row may be there (live again) or lost with the crash (its commits do not wait for
-- the disk; see claim.c). The runs it held then are still running under its name until
-- their leases run out: its row stands for them as well as for its slots (abandoned,
-- read by the claim's fleet, queue/claim.sql).
-- Its session is recorded, to be ended should the worker lose it and register again
-- (queue/end_lost_session.sql, which runs before this statement, so that this count
-- sees whatever a claim in that session committed).
INSERT INTO @schema@.workers (name, host, pid, graph, concurrency, abandoned, session_pid,
                              session_start)
VALUES ($1, $2, $3, $4, $5, @schema@.worker_running_runs($1),
        pg_backend_pid(), (SELECT backend_start
                           FROM pg_stat_activity
                           WHERE pid = pg_backend_pid()))
ON CONFLICT (name) DO UPDATE
SET heartbeat_at = now(), stopped_at = NULL, abandoned = excluded.abandoned,
    session_pid = excluded.session_pid, session_start = excluded.session_start
